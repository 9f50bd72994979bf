"""The Mesa face of the engine: :class:`ZoneModel` (one zone) and :class:`Region` (several).

A model owns one :class:`~zonesim.core.state.State` (numpy arrays), its
:class:`~zonesim.population.Layout` and the compiled parameters. Time is Mesa 3.5's own: one step
is one day, ``model.time`` counts days, and ``run_for`` / ``run_until`` / ``step`` /
``schedule_event`` / ``schedule_recurring`` work as in any Mesa model. The difference is inside
time advance: the numba kernel simulates whole stretches of days between the events on Mesa's
event list (month boundaries, care council cycles, the user's own events), never one Python call
per day. An event at time ``t`` runs after the kernel has simulated days ``0 .. t-1``, i.e. it
sees the state at the start of day ``t`` (``state.day[0] == t``).

After each stretch the model brings its agents up to date: agents of patients who died are
removed, agents for entrants (and new caregivers, recruited providers) are added, so
``model.agents_by_type[Patient]`` always holds exactly one agent per living inhabitant.

Mesa's default "call ``step()`` every time unit" schedule is switched off (``model.steps`` then
counts simulated days); a subclass that overrides ``step()`` keeps it, and then gets its
``step()`` called every day after the kernel has simulated up to that day (correct, but the kernel
then runs one day per call).
"""

from __future__ import annotations

import functools
import math
import time as _time
import warnings
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.time import Priority

from . import config as C
from . import validation as V
from .agents import (
    CareCouncil,
    InformalCaregiver,
    Patient,
    Provider,
)
from .core import state as S
from .core.state import DAYS_PER_YEAR
from .errors import ZonesimInputError

__all__ = ["DAYS_PER_YEAR", "HEADLINE_METRICS", "Region", "ZoneModel", "month_end_day"]


def month_end_day(m: int) -> int:
    """Day (since the start) on which month ``m`` (1, 2, ...) ends: ``round(m * 365 / 12)``."""
    return round(m * DAYS_PER_YEAR / 12)


# ---------------------------------------------------------------------------------------------
# Argument resolution
# ---------------------------------------------------------------------------------------------

SEED_LIMIT = 2**63


def resolve_seed(rng: Any) -> int:
    """An int seed from ``rng`` (an int, None for a fresh random one, or a numpy Generator)."""
    if rng is None:
        return int(np.random.SeedSequence().entropy % SEED_LIMIT)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(SEED_LIMIT))
    return V.check_int(
        rng,
        field="rng",
        lo=0,
        hi=SEED_LIMIT - 1,
        expected="expected an integer seed in [0, 2**63) or None",
    )


def _apply_scenario(cfg: C.Config, scenario: str | Path) -> C.Config:
    """``cfg`` with the scenario (built-in name or TOML path) applied on top of its own."""
    spath = C._resolve_named("scenarios", scenario)
    data = C._read_toml(spath)
    return C.from_dict(
        C.Config, {"scenario": data.get("scenario", data)}, source=str(spath), base=cfg
    )


def resolve_config(
    config: Any, scenario: str | Path | None = None, population: int | None = None
) -> C.Config:
    """A :class:`Config` from a Config, a TOML path or None, with scenario and population."""
    if config is None or isinstance(config, (str, Path)):
        cfg = C.load_config(config, scenario=scenario)
    elif isinstance(config, C.Config):
        cfg = config if scenario is None else _apply_scenario(config, scenario)
    else:
        raise ZonesimInputError(
            "expected a Config, a TOML path or None",
            source="<argument>",
            field="config",
            value=config,
        )
    if population is not None:
        cfg = C.apply_overrides(cfg, {"zone.population": population})
    return cfg


def resolve_policies(policy: Any, n_zones: int) -> list[C.PolicyConfig]:
    """One :class:`PolicyConfig` per zone from one policy or a list of them."""
    if isinstance(policy, (list, tuple)):
        if len(policy) != n_zones:
            raise ZonesimInputError(
                f"expected one policy per zone ({n_zones})",
                source="<argument>",
                field="policy",
                value=f"{len(policy)} policies",
            )
        return [C.load_policy(p) for p in policy]
    pol = C.load_policy(policy)
    return [pol] * n_zones


# ---------------------------------------------------------------------------------------------
# Agent rosters: index -> agent, kept in step with the arrays
# ---------------------------------------------------------------------------------------------


class _Roster:
    """The agents of one class, one per live slot, as ``agents[index]``.

    ``sync`` compares the live slots of ``[lo, hi)`` with the slots holding an agent (numpy, one
    pass) and creates / removes agents only where they differ. ``key`` (optional) identifies the
    occupant of a slot, so a slot re-used between two syncs gets a fresh agent.
    """

    __slots__ = ("agents", "cls", "has", "key")

    def __init__(self, cls: type, n: int) -> None:
        self.cls = cls
        self.agents: list[Any] = [None] * n
        self.has = np.zeros(n, dtype=bool)
        self.key = np.zeros(n, dtype=np.int64)

    def get(self, i: int):
        return self.agents[i] if 0 <= i < len(self.agents) else None

    def sync(
        self, model: ZoneModel, lo: int, hi: int, live: np.ndarray, key: np.ndarray | None = None
    ) -> tuple[int, int]:
        has = self.has[lo:hi]
        gone = np.flatnonzero(has & ~live)
        new = np.flatnonzero(live & ~has)
        if key is not None:
            reused = np.flatnonzero(has & live & (self.key[lo:hi] != key))
            if reused.size:
                gone = np.concatenate([gone, reused])
                new = np.sort(np.concatenate([new, reused]))
        agents = self.agents
        for i in (gone + lo).tolist():
            agents[i]._detach()
            agents[i] = None
        has[gone] = False
        cls = self.cls
        for i in (new + lo).tolist():
            agents[i] = cls(model, i)
        has[new] = True
        if key is not None and new.size:
            self.key[lo:hi][new] = key[new]
        return int(new.size), int(gone.size)


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class ZoneModel(mesa.Model):
    """A primary care zone (or, with ``zones``, a region of zones) as a Mesa model.

    Parameters
    ----------
    config: a :class:`~zonesim.config.Config`, a TOML path, or None for the built-in default zone.
    policy: a preset name (``status_quo``, ``integrated``...), a TOML path, a dict of levers or a
        :class:`~zonesim.config.PolicyConfig`; with several zones also a list, one per zone.
    population: overrides ``zone.population``.
    rng: int seed of the run (kernel and Mesa's own generators); None draws a fresh one,
        recorded in :attr:`seed`.
    scenario: a built-in scenario name (``baseline``, ``ageing``, ``care_paradox``) or a
        scenario TOML, applied on top of the configuration's scenario.
    zones: :class:`zonesim.geography.Zone` objects to simulate together (see :class:`Region`).
    agents: create the Mesa agents (Patient, InformalCaregiver, Provider); ``False`` runs
        headless (experiments and sweeps read only the arrays and the scorecard), which saves
        the agent bookkeeping. Care councils exist either way.
    years: the measured horizon in years (default ``config.scenario.years``): the state is laid
        out for the warm-up plus this (free slots for entrants), and :attr:`running` turns False
        when it is reached, so ``run_model()`` and ``mesa.batch_run`` end there. Running longer
        works until free slots run out (the model then warns).
    warmup_days: days simulated when the model is built, before measurement starts (queues,
        episodes and strain settle); default :data:`zonesim.config.WARMUP_DAYS` (180), the same
        as ``zonesim run``, ``compare``, sweeps and calibration. Model time 0 is the end of the
        warm-up: ``model.time``, ``steps``, the scorecard, the time series and scheduled events
        all count from there. ``warmup_days=0`` measures from the initial state.
    warmup_policy: the policy the warm-up runs under. Default (None): ``status_quo`` for a
        single zone, the rule of every study (``compare``, sweeps, :func:`zonesim.evaluate`):
        the zone warms up under the status quo and ``policy`` takes over at the end of the
        warm-up, exactly as :meth:`branch` does (so ``ZoneModel(policy=X, rng=s)`` measures
        what a study measures for ``X`` and seed ``s``). Pass ``warmup_policy=policy`` to warm
        up under the policy itself. A region of several zones (``zones``) warms up under its
        zones' own policies (a region cannot be branched yet).

    Attributes
    ----------
    state, layout, prm, tables: the arrays, the layout, the compiled parameters.
    config, policies (one per zone), policy (the first zone's), seed.
    acc_start: copy of ``state.acc`` at the start of measurement (time 0, i.e. the end of the
        warm-up, or the last :meth:`reset_measurement`); measure_start_day: the kernel day it
        was taken; day0: the kernel day at model time 0 (``warmup_days``).
    horizon_days: the measured horizon in days; running: True until model time reaches it.
    datacollector: a :class:`mesa.DataCollector` of the headline metrics
        (:data:`HEADLINE_METRICS`), collected at each month end of the measurement window, so
        ``mesa.batch_run(ZoneModel, ...)`` works as it is; a subclass may replace it.
    snapshots: ``(day, acc copy)`` at each month end of the measurement window.
    councils: one :class:`CareCouncil` per zone.
    timings: seconds spent building the state, compiling, creating agents.
    """

    def __init__(
        self,
        config: C.Config | str | Path | None = None,
        *,
        policy: Any = "status_quo",
        population: int | None = None,
        rng: int | None = None,
        scenario: str | Path | None = None,
        zones: list | None = None,
        years: float | None = None,
        agents: bool = True,
        warmup_days: int | None = None,
        warmup_policy: Any = None,
    ) -> None:
        seed = resolve_seed(rng)
        super().__init__(rng=seed)
        self.seed: int = seed
        self.with_agents = bool(agents)
        self.config: C.Config = resolve_config(config, scenario, population)
        if zones is None:  # a zone from a CSV: its true population, stated everywhere
            from .geography import settle_zone_population

            self.config = settle_zone_population(self.config, requested=population)
        n_zones = 1 if zones is None else len(zones)
        if n_zones < 1:
            raise ZonesimInputError(
                "expected at least one zone", source="<argument>", field="zones", value=zones
            )
        self.policies: list[C.PolicyConfig] = resolve_policies(policy, n_zones)
        if years is None:
            years = self.config.scenario.years
        years = V.check_number(
            years, field="years", positive=True, expected="expected a positive number of years"
        )
        self.warmup_days: int = (
            C.WARMUP_DAYS
            if warmup_days is None
            else V.check_int(
                warmup_days,
                field="warmup_days",
                lo=0,
                hi=36_500,
                expected="expected a number of days from 0 to 36500",
            )
        )
        self.years: float = years
        self.horizon_days: int = max(1, round(years * DAYS_PER_YEAR))
        self.years_planned = years + self.warmup_days / DAYS_PER_YEAR
        self.policies = self._enforce_budgets(zones)
        self._zones = zones  # a Region's zones (None: one zone built from the configuration)
        # the warm-up's own policy when it differs from the run's (then branched at its end)
        warm_policy = self._warmup_policy(warmup_policy, zones)

        # numba-heavy modules: imported here so that `import zonesim` stays light
        from .core.day import simulate
        from .core.params import compile_params
        from .population import build_state

        self._simulate = simulate
        self.timings: dict[str, float] = {}
        t0 = _time.perf_counter()
        self.state, self.layout = build_state(
            self.config,
            self.policies,
            seed,
            zones=zones,
            years=self.years_planned,
            agents=self.with_agents,
        )
        t1 = _time.perf_counter()
        self.prm, self.tables = compile_params(self.config, self.policies, self.state)
        t2 = _time.perf_counter()
        self.timings["build_state"] = t1 - t0
        self.timings["compile_params"] = t2 - t1

        # each provider slot's FTE as the policy planned it at the start (branching compares plans)
        self.planned_fte = self.state.prov.fte.copy()
        self._warned: set[str] = set()
        self._overflow_seen = {k: float(self.state.acc[k].sum()) for k in _OVERFLOW_WARNINGS}
        if self.warmup_days and warm_policy is None:  # before any agent exists (created once)
            t3 = _time.perf_counter()
            self._simulate(self.state, self.prm, self.tables, seed, self.warmup_days)
            self.timings["warmup"] = _time.perf_counter() - t3
            self._check_overflow()
        self.day0 = int(self.state.day[0])
        self.acc_start = self.state.acc.copy()
        self.snapshots: list[tuple[int, np.ndarray]] = []

        # Mesa's default schedule would call step() every day; we advance in stretches instead
        # (unless a subclass wants its own daily step()).
        self._daily_step = type(self).step is not mesa.Model.step
        if not self._daily_step:
            self._default_schedule.stop()

        st = self.state
        self._patients = _Roster(Patient, st.pat.need.shape[0])
        self._caregivers = _Roster(InformalCaregiver, st.cg.patient.shape[0])
        self._providers = _Roster(Provider, st.prov.state.shape[0])
        self._pat_hi = st.zone["first_patient"].astype(np.int64).copy()
        self._cg_hi = st.zone["first_caregiver"].astype(np.int64).copy()
        t3 = _time.perf_counter()
        self._sync_agents()
        self.timings["agents"] = _time.perf_counter() - t3

        self.councils = [CareCouncil(self, z) for z in range(n_zones)]

        self.measure_start_day = self.day0
        self._month_event = None
        self._schedule_months(0)
        self.datacollector = mesa.DataCollector(
            model_reporters={m: functools.partial(_headline, metric=m) for m in HEADLINE_METRICS}
        )
        self._default_datacollector = self.datacollector
        self._headline_cache: tuple[float, dict[str, float]] | None = None
        if warm_policy is not None:  # warm up under the warm-up policy, then take over from it
            from . import checkpoint

            t3 = _time.perf_counter()
            warm = ZoneModel(
                self.config,
                policy=warm_policy,
                rng=seed,
                years=self.years,
                warmup_days=self.warmup_days,
                agents=False,
                warmup_policy=warm_policy,
            )
            checkpoint.take_over(self, warm)
            self.timings["warmup"] = _time.perf_counter() - t3

    def _warmup_policy(self, warmup_policy: Any, zones) -> C.PolicyConfig | None:
        """The warm-up's policy (budget enforced) where it differs from the run's policy and
        there is a warm-up to run; None where the run warms up under its own policy."""
        if zones is not None:
            if warmup_policy is not None:
                raise ZonesimInputError(
                    "a region warms up under its zones' own policies (it cannot branch yet); "
                    "leave warmup_policy out",
                    source="<argument>",
                    field="warmup_policy",
                    value=warmup_policy,
                )
            return None
        if not self.warmup_days:
            return None
        from .policies import apply_budget

        pol = C.load_policy("status_quo" if warmup_policy is None else warmup_policy)
        pol = apply_budget(pol, self.config, self.config.zone.population)
        return None if C.to_dict(pol) == C.to_dict(self.policies[0]) else pol

    def _enforce_budgets(self, zones) -> list[C.PolicyConfig]:
        """Each zone's policy within its budget envelope (refused or scaled, as it asks)."""
        from .policies import apply_budget

        if zones is None:
            sizes = [self.config.zone.population]
        else:
            sizes = [sum(m.population for m in z.municipalities) for z in zones]
        return [apply_budget(p, self.config, n) for p, n in zip(self.policies, sizes, strict=True)]

    # --- views ------------------------------------------------------------------------------

    @property
    def policy(self) -> C.PolicyConfig:
        """The policy of the (first) zone."""
        return self.policies[0]

    @property
    def n_zones(self) -> int:
        return self.state.n_zones

    @property
    def zone_names(self) -> list[str]:
        return list(self.layout.zone_names)

    @property
    def day(self) -> int:
        """The next day the kernel simulates (days since the start: ``day - day0``)."""
        return int(self.state.day[0])

    @property
    def alive(self) -> int:
        """Living inhabitants of all zones."""
        return int(self.state.zone["alive"].sum())

    def patient_agent(self, index: int) -> Patient | None:
        """The agent of patient slot ``index`` (None: no such slot, empty or deceased)."""
        return self._patients.get(index)

    def caregiver_agent(self, index: int) -> InformalCaregiver | None:
        return self._caregivers.get(index)

    def provider_agent(self, index: int) -> Provider | None:
        return self._providers.get(index)

    def zone_index(self, zone: int | str) -> int:
        """The index of a zone given by index or name."""
        if isinstance(zone, str):
            names = self.zone_names
            if zone not in names:
                raise ZonesimInputError(
                    f"expected one of: {', '.join(names)}",
                    source="<argument>",
                    field="zone",
                    value=zone,
                )
            return names.index(zone)
        return V.check_int(
            zone,
            field="zone",
            lo=0,
            hi=self.n_zones - 1,
            expected=f"expected a zone index 0..{self.n_zones - 1} or a name",
        )

    # --- results ----------------------------------------------------------------------------

    def scorecard(self, zone: int | str | None = None) -> dict[str, dict[str, float]]:
        """The Quadruple Aim and equity scorecard (:func:`zonesim.metrics.scorecard`).

        ``zone`` (index or name) restricts it to one zone of a region; None: all zones.
        """
        from . import metrics

        if zone is None:
            return metrics.scorecard(self)
        return metrics.scorecard(self, zone=self.zone_index(zone))

    def timeseries(self, zone: int | str | None = None):
        """Monthly time series as a DataFrame (:func:`zonesim.metrics.timeseries`)."""
        from . import metrics

        if zone is None:
            return metrics.timeseries(self)
        return metrics.timeseries(self, zone=self.zone_index(zone))

    def reset_measurement(self) -> None:
        """Start a new measurement window now (e.g. after a warm-up).

        The scorecard and time series then count from the current kernel day
        (``measure_start_day``): ``acc_start`` becomes a copy of the accumulators, the snapshots
        are cleared and month ends are counted again from this day (month ``m`` of the window
        ends ``month_end_day(m)`` days after it).
        """
        self.acc_start = self.state.acc.copy()
        self.measure_start_day = int(self.state.day[0])
        self.snapshots = []
        self._schedule_months(self.measure_start_day - self.day0)

    # --- checkpoints --------------------------------------------------------------------------

    def save(self, path: str | Path, **extra: Any) -> Path:
        """Save the whole model to one checkpoint file (``.npz``): every state array, the
        measurement window, the councils' memory, the configuration, policies, seed, day and
        provenance (zonesim version, git commit). Safe to load: arrays and JSON, no pickled
        code. ``extra``: more JSON-able metadata to record. See :mod:`zonesim.checkpoint`."""
        from . import checkpoint

        return checkpoint.save(self, path, **extra)

    @classmethod
    def load(cls, path: str | Path, *, agents: bool | None = None) -> ZoneModel:
        """The model saved by :meth:`save`, ready to run on from the day it was saved."""
        from . import checkpoint

        return checkpoint.load(path, agents=agents, cls=cls)

    def branch(
        self,
        policy: Any,
        *,
        config: Any = None,
        rng: int | None = None,
        agents: bool | None = None,
    ) -> ZoneModel:
        """A new model under ``policy`` starting from this model's state now (the population,
        queues and shared workforce as they are; what only ``policy`` has starts as new).
        Under this model's own policy (and seed) it continues exactly. ``rng``: another seed
        for what happens from now on; ``config``: parameters from now on. See
        :func:`zonesim.checkpoint.branch`."""
        from . import checkpoint

        return checkpoint.branch(self, policy, config=config, rng=rng, agents=agents)

    # --- time -------------------------------------------------------------------------------

    def run_years(self, years: float) -> None:
        """Run for ``years`` years of 365 days."""
        years = V.check_number(
            years, field="years", positive=True, expected="expected a positive number of years"
        )
        self.run_for(round(years * DAYS_PER_YEAR))

    def _advance_time(self, until: float) -> None:
        """Mesa's time advance, with the kernel brought up to each event's time first."""
        if until <= self.time:
            warnings.warn(
                f"end time {until} is not after the current time {self.time}",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        events = self._event_list
        while True:
            try:
                event = events.pop_event()
            except IndexError:
                break
            if event.time <= until:
                self._simulate_to(event.time)
                self.time = event.time
                event.execute()
            else:
                events.add_event(event)
                break
        self._simulate_to(until)
        self.time = until
        if self.running and self.time >= self.horizon_days:
            self.running = False  # the scenario's horizon: run_model() and batch_run end here
            self._collect()

    def _simulate_to(self, t: float) -> None:
        """Let the kernel simulate whole days until the start of day ``floor(t)``."""
        target = self.day0 + math.floor(t + 1e-9)
        n = target - int(self.state.day[0])
        if n <= 0:
            return
        self._simulate(self.state, self.prm, self.tables, self.seed, n)
        if int(self.state.day[0]) != target:  # pragma: no cover - a kernel contract violation
            raise RuntimeError(
                f"kernel advanced to day {int(self.state.day[0])}, expected {target}"
            )
        if not self._daily_step:
            self.steps = target - self.day0
        self._sync_agents()
        self._check_overflow()

    def _schedule_months(self, base: int) -> None:
        """Month-end snapshots at ``base + month_end_day(m)`` (model time), m = 1, 2, ..."""
        if self._month_event is not None:
            self._month_event.cancel()
        self._month_base = base
        self._month = 1
        self._month_event = self.schedule_event(
            self._month_end, at=float(base + month_end_day(1)), priority=Priority.HIGH
        )

    def _month_end(self) -> None:
        self.snapshots.append((int(self.state.day[0]), self.state.acc.copy()))
        self._collect()
        self._month += 1
        self._month_event = self.schedule_event(
            self._month_end,
            at=float(self._month_base + month_end_day(self._month)),
            priority=Priority.HIGH,
        )

    def _collect(self) -> None:
        """Record the headline metrics (once per model time) in the default datacollector."""
        dc = getattr(self, "datacollector", None)
        if dc is None or dc is not getattr(self, "_default_datacollector", None):
            return  # a subclass's own collector: collecting is its business
        if dc._collection_steps and dc._collection_steps[-1] == self.time:
            return
        dc.collect(self)

    def headline(self) -> dict[str, float]:
        """The headline metrics (:data:`HEADLINE_METRICS`) of the measurement window so far."""
        if self._headline_cache is None or self._headline_cache[0] != self.time:
            from .metrics import flatten

            card = flatten(self.scorecard())
            self._headline_cache = (self.time, {m: card[m] for m in HEADLINE_METRICS})
        return dict(self._headline_cache[1])

    # --- agents -----------------------------------------------------------------------------

    def _sync_agents(self) -> None:
        if not self.with_agents:
            return
        st = self.state
        zr = st.zone
        for z in range(st.n_zones):
            a = int(zr["first_patient"][z])
            b = max(int(zr["next_free"][z]), int(self._pat_hi[z]))
            self._pat_hi[z] = b
            self._patients.sync(
                self, a, b, st.pat.situation[a:b] < S.DECEASED, st.pat.birth_day[a:b]
            )
            a = int(zr["first_caregiver"][z])
            b = max(int(zr["next_free_caregiver"][z]), int(self._cg_hi[z]))
            self._cg_hi[z] = b
            self._caregivers.sync(self, a, b, st.cg.state[a:b] != S.CG_DECEASED, st.cg.patient[a:b])
            a = int(zr["first_provider"][z])
            b = int(zr["end_provider"][z])
            self._providers.sync(self, a, b, st.prov.state[a:b] <= S.PV_SICK)

    def _check_overflow(self) -> None:
        acc = self.state.acc
        for key, message in _OVERFLOW_WARNINGS.items():
            total = float(acc[key].sum())
            if key == "queue_overflow":
                # A solo practice whose only GP is on sick leave fills its queue: modelled
                # behaviour. Warn only when it is more than 1% of GP contacts.
                contacts = float(acc["gp_contacts"].sum())
                if total <= 0.01 * max(contacts, 1.0):
                    continue
            if total > self._overflow_seen[key]:
                self._overflow_seen[key] = total
                if key not in self._warned:
                    self._warned.add(key)
                    warnings.warn(
                        message.format(n=int(total), years=self.years_planned),
                        RuntimeWarning,
                        skip_file_prefixes=_INTERNAL_DIRS,
                    )


# The datacollector's model reporters: the headline metrics of each aim (as in the figures).
HEADLINE_METRICS: tuple[str, ...] = (
    "qalys_per_capita",
    "avoidable_admissions_per_1000",
    "deaths_per_1000",
    "switch_to_equilibrium_days_median",
    "gp_wait_days_mean",
    "unmet_need_days_per_1000",
    "cost_per_capita_eur",
    "utilisation_gp",
    "strained_share",
    "attrition_per_100_fte",
    "unmet_need_days_gap_literacy",
)


def _headline(model: ZoneModel, metric: str) -> float:
    """A model reporter (as ``functools.partial(_headline, metric=...)``, the form Mesa's
    DataCollector calls with the model): one headline metric, all computed once per time."""
    return model.headline()[metric]


# Accumulators that count something the state had no room for: the model warns (once per
# model and kind) when one grows, with the count so far.
_OVERFLOW_WARNINGS = {
    "entrants_skipped": "{n} entrants found no free patient slot so far (the population was "
    "laid out for {years:g} years; a longer years= horizon leaves more "
    "free slots)",
    "queue_overflow": "{n} routine GP requests so far were dropped because a practice's queue "
    "was full",
    "list_overflow": "{n} patients so far did not fit on a full specialist, hospital or "
    "episode list",
}

# Warnings point at the first frame outside zonesim and mesa (the user's call).
_INTERNAL_DIRS = (str(Path(__file__).resolve().parent), str(Path(mesa.__file__).resolve().parent))


class Region(ZoneModel):
    """Several zones in one state, sharing secondary care (specialists, hospital).

    The same Mesa API as :class:`ZoneModel`; ``policy`` may be one policy for all zones or a
    list with one per zone. ``scorecard(zone=...)`` gives one zone's scorecard (None: the whole
    region).
    """

    def __init__(
        self,
        zones: list | None = None,
        config: C.Config | str | Path | None = None,
        *,
        policy: Any = "status_quo",
        rng: int | None = None,
        scenario: str | Path | None = None,
        years: float | None = None,
        agents: bool = True,
        warmup_days: int | None = None,
    ) -> None:
        super().__init__(
            config,
            policy=policy,
            rng=rng,
            scenario=scenario,
            zones=zones,
            years=years,
            agents=agents,
            warmup_days=warmup_days,
        )
