"""The dashboard's per-session state: two models under common random numbers, and a worker.

Nothing here imports Solara: :class:`Pair` is the two models (baseline and alternative, same zone
and seed) with their monthly history, :class:`View` an immutable picture of both that the page
draws, and :class:`Controller` a worker thread that builds, steps and re-builds the pair on
request and reports each change through a callback. The page (``app.py``) makes one controller
per browser session (inside its component, never at module level), so sessions never share
models.

Validation lives here too, in plain functions the page calls before handing anything to the
worker: :func:`make_settings` (scenario, population, seed, years, zone), :func:`edit_policy` (one
lever) and :func:`check_budget` (the budget envelope). Each raises
:class:`~zonesim.errors.ZonesimInputError` with a one-line message the page shows as it is.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import config as C
from .. import validation as V
from ..core import state as S
from ..core.case_management import caseload_slots, hours_caseload
from ..errors import ZonesimInputError

log = logging.getLogger("zonesim.dashboard")

SIDES = ("baseline", "alternative")
SIDE_TITLES = {"baseline": "Baseline", "alternative": "Alternative"}
MAX_YEARS = 50.0  # the longest run the page offers
MAX_POPULATION = 2_000_000  # a dashboard session builds two models of this size at most
VIEW_INTERVAL_S = 0.4  # while playing, the page's charts are refreshed at most this often
FIRST_RUN_NOTE = " (the first run after installing compiles the engine: a few minutes)"
# Set once any model of this process has simulated a month: the engine is compiled (or loaded
# from numba's cache). Only a hint for the progress message, never model state.
_ENGINE_WARM = threading.Event()

# The switch-moment flow, in the order the page draws it: (key, label, kind).
FLOW_STAGES = (
    ("triggered", "triggered", "since start"),
    ("regular_team", "handled by the regular team", "now"),
    ("waiting_cm", "waiting for a case manager", "now"),
    ("case_managed", "case-managed", "now"),
    ("resolved", "resolved", "since start"),
)


def month_end_day(m: int) -> int:
    """Day on which month ``m`` ends (the model's own month boundaries)."""
    return round(m * S.DAYS_PER_YEAR / 12)


# ---------------------------------------------------------------------------------------------
# Settings and validation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What both models share: configuration (scenario and population applied), seed, years to
    run, and optionally a zone loaded from a municipality CSV (else the configuration's zone)."""

    config: C.Config
    seed: int = 1
    years: float = 1.0
    zone: Any = None  # a zonesim.geography.Zone from an uploaded CSV, or None
    zone_name: str = ""
    population: int = 0  # inhabitants of the zone simulated
    checkpoint: str | None = None  # a saved model both sides branch from (its zone, its day)
    checkpoint_day: int = 0

    @property
    def horizon_months(self) -> int:
        return max(1, round(self.years * 12))

    @property
    def scenario(self) -> str:
        return self.config.scenario.name


def _base_dir(config: C.Config) -> Path | None:
    src = Path(str(config.source))
    return src.parent if src.is_file() else None


def load_base_config(path: str | Path | None) -> C.Config:
    """The configuration a session starts from (``zonesim dashboard --config F``)."""
    return C.load_config(path if path else None)


def make_settings(
    base: C.Config,
    *,
    scenario: str | None = None,
    population: int | None = None,
    seed: int = 1,
    years: float | None = None,
    zone: Any = None,
    checkpoint: str | Path | None = None,
) -> Settings:
    """Validated :class:`Settings`: ``scenario`` (a built-in name, None keeps the
    configuration's), ``population`` (None keeps the configuration's; ignored with ``zone``),
    ``seed``, ``years`` (None: the scenario's), ``zone`` (from :func:`zones_from_csv`);
    ``checkpoint``: a saved model (:meth:`zonesim.ZoneModel.save`) both sides start from: its
    zone, scenario and population, and its day (``seed`` then drives what happens after it)."""
    from .. import geography
    from ..model import resolve_config, resolve_seed

    if checkpoint is not None:
        return _settings_from_checkpoint(str(checkpoint), seed, years)

    cfg = resolve_config(base, scenario, None)
    if zone is None and population is not None:
        population = V.check_int(
            population,
            field="population",
            source="<dashboard>",
            expected="expected a whole number of inhabitants",
        )
        if population > MAX_POPULATION:
            raise ZonesimInputError(
                f"expected at most {MAX_POPULATION:,} inhabitants in the dashboard (use "
                "`zonesim run` or `zonesim compare` for larger runs)",
                source="<dashboard>",
                field="population",
                value=population,
            )
        cfg = C.apply_overrides(cfg, {"zone.population": int(population)})
    seed = resolve_seed(seed)
    if years is None:
        years = max(1.0, cfg.scenario.years)
    if not V.is_number(years) or not math.isfinite(years) or not (1 / 12 <= years <= MAX_YEARS):
        raise ZonesimInputError(
            f"expected a number of years between one month (0.0833) and {MAX_YEARS:g}",
            source="<dashboard>",
            field="years",
            value=years,
        )
    if zone is None:
        z = geography.zone_from_config(cfg.zone, base_dir=_base_dir(cfg))  # raises when empty
    else:
        z = zone
        if z.population < 1:
            raise ZonesimInputError(
                "the zone has no inhabitants; expected a zone with people in it",
                source="<dashboard>",
                field="zone",
                value=z.name,
            )
    pop = int(z.population)
    if pop > MAX_POPULATION:
        raise ZonesimInputError(
            f"expected at most {MAX_POPULATION:,} inhabitants in the dashboard",
            source="<dashboard>",
            field="zone",
            value=pop,
        )
    return Settings(
        config=cfg,
        seed=seed,
        years=float(years),
        zone=zone,
        zone_name=z.name,
        population=pop,
    )


def _settings_from_checkpoint(path: str, seed: int, years: float | None) -> Settings:
    from ..checkpoint import read_metadata
    from ..model import resolve_seed

    meta = read_metadata(path)  # a bad file: one clear error
    if meta.get("model") != "ZoneModel":
        raise ZonesimInputError(
            "expected a checkpoint of one zone", source=path, field="model", value=meta["model"]
        )
    cfg = C.from_dict(C.Config, meta["config"], source=path)
    pop = int(cfg.zone.population)
    if pop > MAX_POPULATION:
        raise ZonesimInputError(
            f"expected at most {MAX_POPULATION:,} inhabitants in the dashboard",
            source=path,
            field="zone.population",
            value=pop,
        )
    # the horizon its slots were laid out for
    left = meta["years_planned"] - meta["day"] / S.DAYS_PER_YEAR
    years = max(1 / 12, min(1.0, left)) if years is None else years
    if (
        isinstance(years, bool)
        or not isinstance(years, (int, float))
        or not (1 / 12 <= years <= MAX_YEARS)
    ):
        raise ZonesimInputError(
            f"expected a number of years between one month (0.0833) and {MAX_YEARS:g}",
            source="<dashboard>",
            field="years",
            value=years,
        )
    return Settings(
        config=cfg,
        seed=resolve_seed(seed),
        years=float(years),
        zone=None,
        zone_name=str(cfg.zone.name),
        population=pop,
        checkpoint=path,
        checkpoint_day=int(meta["day"]),
    )


def zones_from_csv(path: str | Path) -> list:
    """The zones of a municipality table: its ``zone`` column if it has one, else a partition
    into zones within the design range (read only through
    :func:`zonesim.geography.load_municipalities`)."""
    from .. import geography

    munis = geography.load_municipalities(path)
    if any(m.zone for m in munis):
        return geography.zones_from_column(munis)
    return geography.partition(munis)


def edit_policy(policy: C.PolicyConfig, lever: str, value: Any) -> C.PolicyConfig:
    """``policy`` with one lever changed, validated like a policy file (bounds, choices)."""
    data = C.to_dict(policy)
    if lever not in data or lever in ("name", "description"):
        raise ZonesimInputError("unknown lever", source="<dashboard>", field=lever, value=value)
    data[lever] = value
    name = policy.name if policy.name.endswith("(edited)") else f"{policy.name} (edited)"
    data["name"] = name
    return C.load_policy(data)


def preset_policy(name: str) -> C.PolicyConfig:
    """A built-in policy preset by name."""
    return C.load_policy(name)


def check_budget(policy: C.PolicyConfig, settings: Settings) -> tuple[C.PolicyConfig, str | None]:
    """The policy as the model will run it within its budget envelope, and a note when its
    staffing levers were scaled down; raises when the policy refuses to exceed its envelope."""
    from ..policies import STAFF_LEVERS, apply_budget

    effective = apply_budget(policy, settings.config, settings.population)
    if effective == policy:
        return policy, None
    factor = next(
        (
            getattr(effective, f) / getattr(policy, f)
            for f in STAFF_LEVERS
            if getattr(policy, f) > 0
        ),
        1.0,
    )
    return effective, (
        f"over its budget envelope of {policy.budget_envelope_per_capita:g} euro per capita: "
        f"its staffing levers are scaled to {factor:.0%} to fit"
    )


# ---------------------------------------------------------------------------------------------
# The pair of models
# ---------------------------------------------------------------------------------------------

# Monthly metrics the page charts (flows of one month, and cumulative since month 0).
AIM_METRICS = (  # (metric, aim, title, unit)
    ("qalys_per_capita", "Health", "QALYs per capita", "per year"),
    ("avoidable_admissions_per_1000", "Health", "avoidable admissions", "per 1,000 per year"),
    ("unmet_need_days_per_1000", "Experience", "unmet-need days", "per 1,000 per year"),
    ("switch_resolved_14d_share", "Experience", "resolved in 14 days", "share of switch moments"),
    ("cost_per_capita_eur", "Cost", "cost per capita", "euro per year"),
    ("strained_share", "Work life", "FTE over the strain threshold", "share"),
    ("unmet_need_days_gap_literacy", "Equity", "unmet-need gap by literacy", "limited - adequate"),
    ("unmet_need_days_gap_ses", "Equity", "unmet-need gap by SES", "preferential - standard"),
)


def _flat_window(model, acc_from: np.ndarray, acc_to: np.ndarray, day: int) -> dict[str, float]:
    from .. import metrics

    w = metrics.acc_window(acc_to, acc_from)
    card = metrics.compute_scorecard(
        w, model.state, model.config, model.policies, list(range(model.n_zones)), day, False
    )
    return metrics.flatten(card)


def _stocks(model) -> dict[str, float]:
    """The switch-moment flow now: cumulative counts and current stocks."""
    st = model.state
    acc, acc0 = st.acc, model.acc_start
    pat = st.pat
    sit = pat.situation
    waiting = (pat.flags & S.F_CM_WAITING) != 0
    return {
        "triggered": float((acc["switch_moments"] - acc0["switch_moments"]).sum()),
        "regular_team": float(((sit == S.DISRUPTED) & ~waiting).sum()),
        "waiting_cm": float(st.zone["cm_queue_len"].sum()),
        "case_managed": float((sit == S.CASE_MANAGED).sum()),
        "resolved": float((acc["switch_resolved"] - acc0["switch_resolved"]).sum()),
        "referred_cm": float((acc["switch_to_cm"] - acc0["switch_to_cm"]).sum()),
    }


@dataclass
class Side:
    """One model and its monthly history (rows of plain floats)."""

    model: Any
    policy: C.PolicyConfig
    monthly: list[dict[str, float]] = field(default_factory=list)
    cumulative: list[dict[str, float]] = field(default_factory=list)

    @property
    def month(self) -> int:
        return len(self.monthly)

    def step_month(self) -> None:
        """Advance one month (Mesa time: to the next month end of the measurement window,
        which starts at the checkpoint's day for a model branched from one) and record its
        metrics."""
        m = self.month + 1
        model = self.model
        model.run_until(float(model._month_base + month_end_day(m)))
        day, acc = model.snapshots[-1]
        prev = model.snapshots[-2][1] if len(model.snapshots) > 1 else model.acc_start
        row = {"month": float(m), "day": float(day)}
        row.update(_flat_window(model, prev, acc, day))
        row.update(_stocks(model))
        cum = {"month": float(m), "day": float(day)}
        cum.update(_flat_window(model, model.acc_start, acc, day))
        self.monthly.append(row)
        self.cumulative.append(cum)


def build_side(settings: Settings, policy: C.PolicyConfig) -> Side:
    """One model of the pair (raises ZonesimInputError on bad input)."""
    from ..model import ZoneModel

    if settings.checkpoint is not None:  # both sides branch from the same saved state
        model = ZoneModel.load(settings.checkpoint).branch(policy, rng=settings.seed)
        model.reset_measurement()
        return Side(model=model, policy=policy)
    zones = None if settings.zone is None else [settings.zone]
    model = ZoneModel(
        settings.config,
        policy=policy,
        rng=settings.seed,
        zones=zones,
        years=max(settings.years, 1 / 12) + 1 / 12,  # a month of spare slots for entrants
    )
    return Side(model=model, policy=policy)


def _step_two(first: Side, second: Side) -> None:
    """One month of two models, the second in a helper thread."""
    failure: list[BaseException] = []

    def other() -> None:
        try:
            second.step_month()
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    helper = threading.Thread(target=other, name="zonesim-dashboard-step", daemon=True)
    helper.start()
    try:
        first.step_month()
    finally:
        helper.join()
    if failure:
        raise failure[0]


class Pair:
    """Baseline and alternative on the same zone and seed (common random numbers)."""

    def __init__(self, settings: Settings, sides: dict[str, Side]) -> None:
        self.settings = settings
        self.sides = sides

    @classmethod
    def build(
        cls, settings: Settings, baseline: C.PolicyConfig, alternative: C.PolicyConfig
    ) -> Pair:
        """Both models at month 0 (raises ZonesimInputError on bad input)."""
        pols = {"baseline": baseline, "alternative": alternative}
        return cls(settings, {name: build_side(settings, pols[name]) for name in SIDES})

    @property
    def month(self) -> int:
        return min(s.month for s in self.sides.values())

    def step(self, months: int = 1, *, parallel: bool = True) -> None:
        """Advance both models ``months`` months, month by month.

        With ``parallel`` the alternative steps in a second thread while this one steps the
        baseline: the two models share nothing, so once the engine's kernel releases the GIL
        (numba ``nogil=True``) a month of both costs a month of one on two cores; while it
        holds the GIL the threads simply take turns.
        """
        for _ in range(months):
            sides = list(self.sides.values())
            if parallel and len(sides) == 2:
                _step_two(*sides)
            else:
                for side in sides:
                    side.step_month()

    def view(self, version: int = 0) -> View:
        return make_view(self, version)


# ---------------------------------------------------------------------------------------------
# The view: everything the page draws, computed in the worker, immutable
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class View:
    version: int
    month: int
    months: dict[str, int]  # per side (equal except while one side is being rebuilt)
    horizon_months: int
    zone_name: str
    population: int
    seed: int
    scenario: str
    policies: dict[str, C.PolicyConfig]
    monthly: dict[str, tuple[dict[str, float], ...]]
    cumulative: dict[str, tuple[dict[str, float], ...]]
    flow: dict[str, dict[str, float]]
    caseloads: dict[str, dict[str, np.ndarray]]
    strain: dict[str, tuple[dict[str, Any], ...]]
    municipalities: tuple[dict[str, Any], ...]
    scorecard: tuple[dict[str, Any], ...]

    @property
    def years(self) -> float:
        return self.month / 12


def _caseloads(model) -> dict[str, np.ndarray]:
    prov = model.state.prov
    cms = (prov.discipline == S.CASE_MANAGER) & (prov.state <= S.PV_SICK)
    fte = prov.fte[cms].astype(np.float64)
    zone = prov.zone[cms]
    per_fte = np.array([model.policies[int(z)].caseload_cap for z in zone], dtype=np.float64)
    cap = caseload_slots(per_fte, fte, hours_caseload(model.config))  # the kernel's own rule
    return {"caseload": prov.caseload[cms].astype(np.float64), "fte": fte, "cap": cap}


def _strain(model) -> tuple[dict[str, Any], ...]:
    prov = model.state.prov
    thr = model.config.parameters.workforce.strained_threshold
    working = prov.state <= S.PV_SICK
    rows = []
    for d, name in enumerate(S.DISCIPLINE_NAMES):
        sel = working & (prov.discipline == d)
        if not sel.any():
            continue
        fte = prov.fte[sel].astype(np.float64)
        total = float(fte.sum())
        strain = prov.strain[sel].astype(np.float64)
        util = prov.utilisation_ema[sel].astype(np.float64)
        rows.append(
            {
                "discipline": name,
                "fte": total,
                "strain_mean": float((strain * fte).sum() / total) if total > 0 else math.nan,
                "strained_share": float(fte[strain > thr].sum() / total) if total > 0 else math.nan,
                "utilisation": float((util * fte).sum() / total) if total > 0 else math.nan,
                "on_sick_leave": int((prov.state[sel] == S.PV_SICK).sum()),
            }
        )
    return tuple(rows)


def _municipality_arrays(model) -> dict[str, np.ndarray]:
    st = model.state
    pat = st.pat
    n = len(model.layout.municipality_names)
    alive = pat.situation < S.DECEASED
    muni = pat.municipality[alive].astype(np.int64)
    inhabitants = np.bincount(muni, minlength=n).astype(np.float64)
    contacts = np.bincount(muni, weights=pat.gp_contacts[alive], minlength=n)
    unresolved = np.bincount(
        muni, weights=((pat.flags[alive] & S.F_UNRESOLVED) != 0).astype(np.float64), minlength=n
    )
    return {"inhabitants": inhabitants, "gp_contacts": contacts, "unresolved": unresolved}


def _municipalities(pair: Pair) -> tuple[dict[str, Any], ...]:
    base = pair.sides["baseline"].model
    arrays = {name: _municipality_arrays(s.model) for name, s in pair.sides.items()}
    years = max(pair.month / 12, 1e-9)
    rows = []
    for i, name in enumerate(base.layout.municipality_names):
        row: dict[str, Any] = {"municipality": name}
        row["inhabitants"] = int(arrays["baseline"]["inhabitants"][i])
        for side, a in arrays.items():
            inh = a["inhabitants"][i]
            per = a["gp_contacts"][i] / inh / years if inh > 0 and pair.month > 0 else math.nan
            row[f"gp_contacts_per_capita_year_{side}"] = float(per)
            row[f"unresolved_{side}"] = int(a["unresolved"][i])
        rows.append(row)
    return tuple(rows)


def _scorecard_rows(pair: Pair) -> tuple[dict[str, Any], ...]:
    from .. import metrics

    cards = {name: metrics.scorecard(s.model) for name, s in pair.sides.items()}
    rows = []
    for section in metrics.SECTIONS:
        for metric, b in cards["baseline"].get(section, {}).items():
            a = cards["alternative"].get(section, {}).get(metric, math.nan)
            diff = a - b
            rel = diff / abs(b) * 100 if b not in (0.0,) and math.isfinite(b) else math.nan
            rows.append(
                {
                    "section": section,
                    "metric": metric,
                    "baseline": b,
                    "alternative": a,
                    "difference": diff,
                    "difference_pct": rel,
                }
            )
    return tuple(rows)


def make_view(pair: Pair, version: int = 0) -> View:
    s = pair.settings
    sides = pair.sides
    return View(
        version=version,
        month=pair.month,
        months={k: v.month for k, v in sides.items()},
        horizon_months=s.horizon_months,
        zone_name=s.zone_name,
        population=s.population,
        seed=s.seed,
        scenario=s.scenario,
        policies={k: v.model.policy for k, v in sides.items()},
        monthly={k: tuple(v.monthly) for k, v in sides.items()},
        cumulative={k: tuple(v.cumulative) for k, v in sides.items()},
        flow={k: _stocks(v.model) for k, v in sides.items()},
        caseloads={k: _caseloads(v.model) for k, v in sides.items()},
        strain={k: _strain(v.model) for k, v in sides.items()},
        municipalities=_municipalities(pair),
        scorecard=_scorecard_rows(pair),
    )


# ---------------------------------------------------------------------------------------------
# Health economics: the pair on the page, or a saved comparison (zonesim.economics)
# ---------------------------------------------------------------------------------------------

NO_THRESHOLD = (
    "Belgium has no official willingness-to-pay threshold: it is a control here, and the "
    "acceptability curve shows the whole range."
)


def side_label(view: View, side: str) -> str:
    """The name a side's policy has in the economic tables: ``baseline: status_quo``."""
    return f"{side}: {view.policies[side].name}"


def pair_yearly(view: View):
    """The per-year table (:data:`zonesim.economics.YEARLY_COLUMNS`) of the two models on the
    page, from their monthly rows: one draw (the session's seed) per policy; a last, partial
    year is kept with its own person-years."""
    import pandas as pd

    from .. import economics as E

    frames = [
        E.yearly_from_timeseries(
            pd.DataFrame(list(view.monthly[side])), policy=side_label(view, side), draw=0
        )
        for side in SIDES
    ]
    return pd.concat(frames, ignore_index=True)


def comparison_yearly(folder: str | Path):
    """The per-year table and the comparator of a comparison saved by ``zonesim compare``
    (its folder: ``by_year.parquet`` and ``experiment.toml``), one draw per replicate (with
    ``--psa``, each its own parameter draw). Raises ZonesimInputError naming the folder."""
    import pandas as pd

    from .. import economics as E

    folder = Path(folder)
    path = folder / "by_year.parquet"
    if not path.is_file():
        raise ZonesimInputError(
            "expected the folder of a saved comparison (zonesim compare writes by_year.parquet)",
            source="<argument>",
            field="comparison",
            value=str(folder),
        )
    cards = pd.read_parquet(path)
    comparator = "status_quo"
    exp = folder / "experiment.toml"
    if exp.is_file():
        comparator = str(C._read_toml(exp).get("baseline", comparator))
    return E.yearly_from_scorecards(cards), comparator


def economics(
    yearly,
    comparator: str,
    *,
    wtp: float | None = None,
    perspective: str = "payer",
    discounting: str = "kce",
):
    """The cost-effectiveness analysis the Economics panel shows
    (:func:`zonesim.economics.analyse`, KCE reference case by default)."""
    from .. import economics as E

    if perspective not in E.PERSPECTIVES:
        raise ZonesimInputError(
            f"expected one of: {', '.join(E.PERSPECTIVES)}",
            source="<argument>",
            field="perspective",
            value=perspective,
        )
    wtp = E.DEFAULT_WTP if wtp is None else wtp
    if not (isinstance(wtp, (int, float)) and math.isfinite(wtp) and wtp >= 0):
        raise ZonesimInputError(
            "expected a willingness to pay >= 0 euro per QALY",
            source="<argument>",
            field="willingness to pay",
            value=wtp,
        )
    return E.analyse(
        yearly, comparator, wtp=float(wtp), perspective=perspective, discounting=discounting
    )


def economics_rows(ce) -> tuple[dict[str, Any], ...]:
    """The cost-effectiveness table as rows (zone totals over the horizon, discounted)."""
    cols = {
        "policy": "policy",
        "cost": "cost (euro)",
        "qalys": "QALYs",
        "inc_cost": "incremental cost",
        "inc_qalys": "incremental QALYs",
        "icer": "ICER (euro per QALY)",
        "inc_nmb": "incremental net monetary benefit",
        "status": "frontier",
        "draws": "draws",
    }
    t = ce.table
    return tuple({label: _plain(r[c]) for c, label in cols.items()} for _, r in t.iterrows())


def budget_rows(ce) -> tuple[dict[str, Any], ...]:
    """The payer's budget impact per policy and year (undiscounted euro, against the
    comparator; interval over draws)."""
    b = ce.budget
    b = b[b["policy"] != ce.comparator]
    keep = [c for c in ("policy", "year", "impact", "impact_lo", "impact_hi") if c in b]
    return tuple({c: _plain(r[c]) for c in keep} for _, r in b.iterrows())


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


# ---------------------------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Status:
    """What the page shows about the worker; a new object on every change."""

    version: int = 0
    month: int = 0
    target: int = 0
    horizon_months: int = 12
    busy: bool = False
    playing: bool = False
    phase: str = ""
    progress: float | None = None  # 0..1 while working, None when idle
    error: str | None = None  # the last failure of the worker (bad input, or a bug)
    notes: tuple[str, ...] = ()
    view: View | None = None


class Controller:
    """Builds, steps and re-builds one session's :class:`Pair` in a worker thread.

    Commands (:meth:`step`, :meth:`play`, :meth:`pause`, :meth:`reset`, :meth:`apply_settings`,
    :meth:`set_policy`) return at once; the worker does the work a month at a time, so a pause or
    a new command takes effect within one simulated month. ``on_change(status)`` is called from
    the worker after each change (the page sets a reactive value with it); statuses carry an
    increasing ``version``, and :attr:`status` is always the latest.

    Changing one side's policy rebuilds only that side and brings it to the month the other side
    is at (common random numbers: the untouched model is not re-run). Changing the settings
    (scenario, population, seed, years, zone) or ``reset`` rebuilds both at month 0. A build
    that fails (bad input) leaves the previous models in place and reports the error.
    """

    def __init__(
        self,
        settings: Settings,
        baseline: C.PolicyConfig,
        alternative: C.PolicyConfig,
        on_change: Callable[[Status], None] | None = None,
        *,
        view_interval_s: float = VIEW_INTERVAL_S,
    ) -> None:
        self._cond = threading.Condition()
        self._settings = settings
        self._policies = {"baseline": baseline, "alternative": alternative}
        self._on_change = on_change
        self._view_interval = view_interval_s
        self._pair: Pair | None = None
        self._target = 0
        self._run_start = 0  # the month the current step or play started from
        self._playing = False
        self._rebuild_all = True  # the first job: build both
        self._rebuild_sides: set[str] = set()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._version = 0
        self._views = 0
        self._status = Status(horizon_months=settings.horizon_months, busy=True, phase="starting")
        self._last_view_t = 0.0
        self._view_cost = 0.0  # seconds the page took to take the last view (drawing charts)

    # --- commands (any thread) ----------------------------------------------------------------

    @property
    def status(self) -> Status:
        return self._status

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def closed(self) -> bool:
        return self._closed

    def policy(self, side: str) -> C.PolicyConfig:
        return self._policies[side]

    def start(self) -> None:
        """Start the worker thread (once; later calls do nothing)."""
        with self._cond:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._loop, name="zonesim-dashboard-worker", daemon=True
            )
            self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Stop the worker (after the month in progress) and drop the models."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread() and timeout:
            thread.join(timeout)

    def step(self, months: int = 1) -> None:
        """Run ``months`` more months (both models), up to the horizon."""
        with self._cond:
            now = 0 if self._rebuild_all else self._month_now()
            if self._target <= now:
                self._run_start = now
            self._target = min(
                self._settings.horizon_months, max(self._target, now) + max(1, int(months))
            )
            self._playing = False
            self._cond.notify_all()
        self._publish(target=self._target, playing=False)

    def play(self) -> None:
        """Run month after month until the horizon (or :meth:`pause`)."""
        with self._cond:
            now = 0 if self._rebuild_all else self._month_now()
            if self._target <= now:
                self._run_start = now
            self._target = self._settings.horizon_months
            self._playing = self._target > now
            self._cond.notify_all()
        self._publish(target=self._target, playing=self._playing)

    def pause(self) -> None:
        """Stop after the month in progress."""
        with self._cond:
            self._target = self._month_now()
            self._playing = False
            self._cond.notify_all()
        self._publish(target=self._target, playing=False)

    def reset(self) -> None:
        """Rebuild both models with the same settings and seed (month 0)."""
        with self._cond:
            self._rebuild_all = True
            self._target = self._run_start = 0
            self._playing = False
            self._cond.notify_all()
        self._publish(busy=True, phase="resetting both models", target=0, playing=False)

    def apply_settings(self, settings: Settings) -> None:
        """New settings (validated by :func:`make_settings`): rebuild both at month 0."""
        with self._cond:
            self._settings = settings
            self._rebuild_all = True
            self._target = self._run_start = 0
            self._playing = False
            self._cond.notify_all()
        self._publish(
            busy=True,
            phase="rebuilding both models",
            target=0,
            playing=False,
            horizon_months=settings.horizon_months,
        )

    def set_policy(self, side: str, policy: C.PolicyConfig) -> None:
        """A new policy for one side: that model alone is rebuilt and brought to the month the
        other is at."""
        if side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}")
        with self._cond:
            self._policies[side] = policy
            self._rebuild_sides.add(side)
            self._cond.notify_all()
        self._publish(busy=True, phase=f"rebuilding the {side}")

    def wait_idle(self, timeout: float = 120.0) -> Status:
        """Block until the worker has nothing left to do (tests and scripts)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed and (self._has_work() or self._status.busy):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"dashboard worker still busy: {self._status.phase}")
                self._cond.wait(min(left, 0.1))
        return self._status

    # --- the worker ---------------------------------------------------------------------------

    def _month_now(self) -> int:
        return self._pair.month if self._pair is not None else 0

    def _has_work(self) -> bool:
        if self._rebuild_all or self._rebuild_sides:
            return True
        return self._pair is not None and self._pair.month < self._target

    def _publish(self, **changes: Any) -> None:
        with self._cond:
            self._version += 1
            self._status = replace(self._status, version=self._version, **changes)
            self._cond.notify_all()
        t0 = time.monotonic()
        if self._on_change is not None and not self._closed:
            try:
                self._on_change(self._status)
            except Exception:  # pragma: no cover - a closing page must not kill the worker
                log.exception("dashboard: the page could not take a status update")
        if "view" in changes:
            # The page redraws its charts for a new view, in the thread that hands it over:
            # while playing, the next view waits at least twice as long as this one took, so
            # drawing never takes more than a third of the worker's time.
            now = time.monotonic()
            self._view_cost = now - t0
            self._last_view_t = now

    def _view_due(self) -> bool:
        wait = max(self._view_interval, 2.0 * self._view_cost)
        return time.monotonic() - self._last_view_t >= wait

    def _new_view(self) -> View:
        assert self._pair is not None
        self._views += 1
        return self._pair.view(self._views)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._has_work():
                    self._cond.wait()
                if self._closed:
                    self._pair = None
                    return
                rebuild_all = self._rebuild_all or self._pair is None
                sides = sorted(self._rebuild_sides, key=SIDES.index)
                self._rebuild_all = False
                self._rebuild_sides.clear()
                settings = self._settings
                policies = dict(self._policies)
            try:
                if rebuild_all:
                    self._build_all(settings, policies)
                elif sides:
                    self._rebuild(sides, policies)
                else:
                    self._one_month()
            except ZonesimInputError as exc:
                self._fail(str(exc))
            except Exception as exc:
                log.exception("dashboard worker failed")
                self._fail(f"internal error: {type(exc).__name__}: {exc}")

    def _fail(self, message: str) -> None:
        with self._cond:
            self._target = self._month_now()
            self._playing = False
            target = self._target
        self._publish(
            error=message, busy=False, phase="", progress=None, playing=False, target=target
        )

    def _build_all(self, settings: Settings, policies: dict[str, C.PolicyConfig]) -> None:
        note = "" if self._pair is not None or _ENGINE_WARM.is_set() else FIRST_RUN_NOTE
        sides: dict[str, Side] = {}
        for k, name in enumerate(SIDES):
            self._publish(
                busy=True,
                phase=f"building the {name} model{note}",
                progress=k / len(SIDES),
                error=None,
            )
            sides[name] = build_side(settings, policies[name])
        pair = Pair(settings, sides)
        with self._cond:
            self._pair = pair
            self._target = min(self._target, settings.horizon_months)
            more = self._has_work()
        self._publish(
            view=self._new_view(),
            month=0,
            busy=more,
            phase="",
            progress=None,
            error=None,
            notes=tuple(_policy_notes(pair)),
            horizon_months=settings.horizon_months,
        )

    def _rebuild(self, sides: list[str], policies: dict[str, C.PolicyConfig]) -> None:
        assert self._pair is not None
        pair = self._pair
        goal = pair.month
        names = " and ".join(sides)
        self._publish(busy=True, phase=f"rebuilding the {names}", progress=0.0, error=None)
        new = {s: build_side(pair.settings, policies[s]) for s in sides}
        for m in range(goal):
            with self._cond:
                if self._closed or self._rebuild_all or self._rebuild_sides:
                    return  # superseded: the next request starts over
            if len(new) == 2:
                _step_two(*new.values())
            else:
                for side in new.values():
                    side.step_month()
            self._publish(
                busy=True,
                phase=f"bringing the {names} to month {goal}: month {m + 1}",
                progress=(m + 1) / goal,
            )
        with self._cond:
            pair.sides.update(new)
            more = self._has_work()
        self._publish(
            view=self._new_view(),
            busy=more,
            phase="",
            progress=None,
            month=pair.month,
            notes=tuple(_policy_notes(pair)),
        )

    def _one_month(self) -> None:
        assert self._pair is not None
        pair = self._pair
        with self._cond:
            target, start = self._target, min(self._run_start, pair.month)
        span = max(1, target - start)
        note = "" if _ENGINE_WARM.is_set() else FIRST_RUN_NOTE
        self._publish(
            busy=True,
            phase=f"running month {pair.month + 1} of {target}{note}",
            progress=(pair.month - start) / span,
            error=None,
        )
        pair.step(1)
        _ENGINE_WARM.set()
        with self._cond:
            more = self._has_work()
            playing = self._playing and more
        due = not more or self._view_due()
        changes: dict[str, Any] = {"month": pair.month, "busy": more, "playing": playing}
        if due:
            changes["view"] = self._new_view()
        if more:
            changes["progress"] = (pair.month - start) / span
        else:
            changes.update(phase="", progress=None)
        self._publish(**changes)


def _policy_notes(pair: Pair) -> list[str]:
    notes = []
    for name, side in pair.sides.items():
        asked, run = side.policy, side.model.policy
        if asked != run:
            changed = [
                f.name
                for f in dataclasses.fields(asked)
                if getattr(asked, f.name) != getattr(run, f.name)
            ]
            notes.append(
                f"{SIDE_TITLES[name]}: over its budget envelope, so its staffing levers were "
                f"scaled down to fit ({', '.join(changed)})."
            )
    return notes
