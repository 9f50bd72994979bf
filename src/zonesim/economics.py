"""Health-economic outputs: a policy comparison in the currency of decisions (MODEL.md section 7).

The conventions are those of the Belgian reference case (KCE report 183C, Cleemput et al. 2012;
Value in Health 2009), reported as CHEERS 2022 asks; the algorithms follow the open packages of
the field (dampack's ``calculate_icers``, ``ceac`` and ``calc_evpi``; hesim's ``cea`` and
``icer``), re-written in numpy/pandas so ``zonesim`` needs nothing new:

- **discounting** per year, costs and QALYs at their own rates (:data:`DISCOUNTING`: ``kce``
  3% and 1.5% by default, ``nice`` 3.5% and 3.5%, ``nl`` 4% and 1.5%); year 1 is not discounted,
  year *t* is multiplied by ``(1 + r) ** -(t - 1)``;
- **perspective**: ``payer`` (the health-care payer, government and patient: every cost sector
  the model counts) by default, or ``societal``, which adds informal care hours valued at
  18.80 euro an hour (Dutch costing manual 2022). The model has no productivity losses, so the
  societal perspective here is payer + informal care only;
- **against the comparator** (``status_quo``): incremental cost and QALYs, the ICER, net
  monetary benefit at a stated willingness to pay (Belgium has no official threshold: it is a
  parameter, and a range is shown), and the efficiency frontier with strong and extended
  dominance (:func:`icer_frontier`);
- **uncertainty**: with several draws per policy (replicates, or parameter draws of a
  probabilistic sensitivity analysis, each run under every policy with the same random
  numbers), the cost-effectiveness plane, the acceptability curve (:func:`ceac`) and the
  expected value of perfect information (:func:`evpi`);
- **budget impact** for the payer of the zone: per year over the first 5 years, undiscounted
  (:func:`budget_impact`).

The input is a tidy per-year table (:data:`YEARLY_COLUMNS`): one row per policy, draw and year,
with the zone's totals for that year. :func:`yearly_from_timeseries` builds it from the monthly
time series of a run (:func:`zonesim.metrics.timeseries`), :func:`yearly_from_comparison` from
a whole policy comparison, and :func:`from_comparison` analyses a comparison in one call.
Everything here is pure arithmetic on that table; nothing runs the model.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .metrics import COST_SECTORS

__all__ = [
    "DEFAULT_WTP",
    "DISCOUNTING",
    "INFORMAL_CARE_HOUR_EUR",
    "PERSPECTIVES",
    "WTP_RANGE",
    "WTP_SHOWN",
    "YEARLY_COLUMNS",
    "CostEffectiveness",
    "Discounting",
    "analyse",
    "budget_impact",
    "ceac",
    "discount_factors",
    "discounted_totals",
    "evpi",
    "from_comparison",
    "icer_frontier",
    "net_monetary_benefit",
    "write_outputs",
    "yearly_costs",
    "yearly_from_comparison",
    "yearly_from_scorecards",
    "yearly_from_timeseries",
]


@dataclass(frozen=True)
class Discounting:
    """Yearly discount rates of costs and of effects (QALYs), and where they come from."""

    costs: float
    effects: float
    source: str

    def __post_init__(self) -> None:
        for name in ("costs", "effects"):
            r = getattr(self, name)
            if not (0.0 <= r < 1.0):
                raise ValueError(f"Discounting.{name}: expected a rate in [0, 1), got {r!r}")


DISCOUNTING: dict[str, Discounting] = {
    "kce": Discounting(
        0.03,
        0.015,
        "Belgian reference case: KCE report 183C (Cleemput et al. 2012), costs 3%, effects 1.5%",
    ),
    "nice": Discounting(
        0.035, 0.035, "NICE health technology evaluations manual (2022), costs and effects 3.5%"
    ),
    "nl": Discounting(
        0.04,
        0.015,
        "Zorginstituut Nederland, guideline for economic evaluations (2016), costs 4%, "
        "effects 1.5%",
    ),
}

PERSPECTIVES = ("payer", "societal")

INFORMAL_CARE_HOUR_EUR = 18.80
"""Shadow price of an hour of informal care (Dutch costing manual, Kostenhandleiding 2022)."""

DEFAULT_WTP = 50_000.0
"""The willingness to pay (euro per QALY) at which net monetary benefit is stated by default.

Belgium has **no official threshold**; this default is the middle of the Dutch reference values
(20,000-80,000 euro per QALY by burden of disease, Zorginstituut Nederland) and is a parameter of
every function that uses it. :data:`WTP_RANGE` is the range the acceptability curve covers."""

WTP_RANGE = (0.0, 100_000.0)

WTP_SHOWN = (20_000.0, 50_000.0, 80_000.0)
"""The willingness-to-pay values at which the net monetary benefit is shown side by side (the
Dutch reference values): with no Belgian threshold, a reader sees where the verdict turns."""

COST_COLUMNS = tuple(f"cost_{s}_eur" for s in COST_SECTORS)
YEARLY_COLUMNS = (
    "policy",
    "draw",
    "year",
    "population",
    "qalys",
    "informal_care_hours",
    *COST_COLUMNS,
)
"""The per-year table: zone totals per policy, draw (replicate or parameter draw) and year
(1, 2, ...): ``population`` is person-years lived in that year, ``qalys`` the QALYs lived,
``informal_care_hours`` the hours of informal care given, ``cost_<sector>_eur`` euro spent."""


# --- the per-year table --------------------------------------------------------------------------


def _check_yearly(df) -> None:
    missing = [c for c in YEARLY_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"per-year table: missing column(s) {', '.join(missing)}")
    if (df["year"] < 1).any():
        raise ValueError("per-year table: column 'year' counts from 1")
    dup = df.duplicated(["policy", "draw", "year"])
    if dup.any():
        row = df.loc[dup, ["policy", "draw", "year"]].iloc[0].tolist()
        raise ValueError(f"per-year table: duplicate row for policy, draw, year = {row}")


def _totals(frame, informal_care_hour: float | None) -> dict[str, np.ndarray]:
    """Zone totals of rows of (flat) scorecards: each rate per person-year x ``person_years``.
    Informal care hours come from ``informal_care_hours_per_capita`` (or, for series made
    before that metric, from the valued cost line divided by ``informal_care_hour``)."""
    py = frame["person_years"].to_numpy(float)

    def col(name: str) -> np.ndarray:
        if name not in frame:
            return np.zeros(len(frame))
        return np.nan_to_num(frame[name].to_numpy(float))

    out = {"population": py, "qalys": col("qalys_per_capita") * py}
    if "informal_care_hours_per_capita" in frame:
        hours = col("informal_care_hours_per_capita")
    elif informal_care_hour:
        hours = col("cost_informal_care_per_capita_eur") / informal_care_hour
    else:
        raise ValueError("scorecards without informal care hours: pass informal_care_hour")
    out["informal_care_hours"] = hours * py
    for sector, name in zip(COST_SECTORS, COST_COLUMNS, strict=True):
        out[name] = col(f"cost_{sector}_per_capita_eur") * py
    return out


def yearly_from_scorecards(cards, *, draw: str = "replicate", informal_care_hour=None):
    """The per-year table from flat scorecards of single measured years: one row per policy,
    ``draw`` (the column that numbers the draws: a replicate, or a parameter draw) and
    ``year`` (1, 2, ...), with ``person_years`` and the per-capita rates of the scorecard."""
    import pandas as pd

    for name in ("policy", draw, "year", "person_years"):
        if name not in cards:
            raise ValueError(f"yearly scorecards: missing column {name!r}")
    out = pd.DataFrame(_totals(cards, informal_care_hour))
    out.insert(0, "year", cards["year"].to_numpy(int))
    out.insert(0, "draw", cards[draw].to_numpy())
    out.insert(0, "policy", cards["policy"].astype(str).to_numpy())
    return out[list(YEARLY_COLUMNS)]


def yearly_from_timeseries(ts, *, policy: str, draw: int, informal_care_hour: float | None = None):
    """The per-year table of one run from its monthly time series.

    ``ts`` is :func:`zonesim.metrics.timeseries` (rates per person-year over each month, with
    ``person_years``): totals are rate x person-years, summed per year of 12 months (a last,
    partial year is kept, with its own person-years).
    """
    import pandas as pd

    if ts.empty:
        return pd.DataFrame(columns=list(YEARLY_COLUMNS))
    out = pd.DataFrame(_totals(ts, informal_care_hour))
    out.insert(0, "year", (ts["month"].to_numpy(int) - 1) // 12 + 1)
    out = out.groupby("year", as_index=False).sum()
    out.insert(0, "draw", int(draw))
    out.insert(0, "policy", str(policy))
    return out[list(YEARLY_COLUMNS)]


def yearly_from_comparison(result):
    """The per-year table of a policy comparison (:class:`zonesim.experiment.ComparisonResult`),
    the replicate as the draw (the same replicate under every policy shares its random numbers,
    and its parameter draws when the study has them).

    From the comparison's per-year results (:meth:`~zonesim.experiment.ComparisonResult.by_year`,
    complete measured years) when it has any; a horizon shorter than a year comes from the
    monthly series instead (:func:`yearly_from_timeseries`: one partial year 1).
    """
    import pandas as pd

    hour = result.config.parameters.costs.informal_care_hour
    by_year = result.by_year() if getattr(result, "n_years", 0) else None
    if by_year is not None and len(by_year):
        return yearly_from_scorecards(by_year, draw="replicate", informal_care_hour=hour)
    ts = result.timeseries
    if ts is None or len(ts) == 0:
        return pd.DataFrame(columns=list(YEARLY_COLUMNS))
    keys = [c for c in ("policy", "replicate", "seed") if c in ts]
    frames = [
        yearly_from_timeseries(
            g.drop(columns=keys),
            policy=policy,
            draw=replicate,
            informal_care_hour=hour,
        )
        for (policy, replicate), g in ts.groupby(["policy", "replicate"], sort=False)
    ]
    return pd.concat(frames, ignore_index=True)


def from_comparison(result, **options) -> CostEffectiveness:
    """:func:`analyse` of a policy comparison against its baseline policy; ``options`` as for
    :func:`analyse` (``discounting``, ``perspective``, ``wtp`` ...)."""
    options.setdefault("comparator", result.baseline)
    # The hour of informal care is the comparison's own unit cost (18.80 euro by default).
    options.setdefault("informal_care_hour", result.config.parameters.costs.informal_care_hour)
    return analyse(yearly_from_comparison(result), **options)


def discount_factors(years, rate: float) -> np.ndarray:
    """``(1 + rate) ** -(year - 1)``: year 1 is not discounted (KCE 183C: costs and effects
    after the first year are discounted)."""
    y = np.asarray(years, dtype=float)
    return (1.0 + float(rate)) ** -(y - 1.0)


def yearly_costs(
    df, perspective: str = "payer", informal_care_hour: float = INFORMAL_CARE_HOUR_EUR
) -> np.ndarray:
    """Euro per row of the per-year table under ``perspective`` (undiscounted)."""
    if perspective not in PERSPECTIVES:
        raise ValueError(
            f"perspective: expected one of {', '.join(PERSPECTIVES)}, got {perspective!r}"
        )
    cost = df[list(COST_COLUMNS)].to_numpy(float).sum(axis=1)
    if perspective == "societal":
        cost = cost + df["informal_care_hours"].to_numpy(float) * float(informal_care_hour)
    return cost


def _discounting(discounting: str | Discounting) -> Discounting:
    if isinstance(discounting, Discounting):
        return discounting
    try:
        return DISCOUNTING[discounting]
    except KeyError:
        names = ", ".join(DISCOUNTING)
        raise ValueError(f"discounting: expected one of {names}, got {discounting!r}") from None


def discounted_totals(
    df,
    discounting: str | Discounting = "kce",
    perspective: str = "payer",
    informal_care_hour: float = INFORMAL_CARE_HOUR_EUR,
):
    """Discounted cost and QALYs per policy and draw, over all years of the table.

    Returns a DataFrame: policy, draw, years, population (mean person-years per year), cost and
    qalys (zone totals, discounted), cost_per_capita and qalys_per_capita (those totals over
    the mean population: per inhabitant over the horizon).
    """
    _check_yearly(df)
    d = _discounting(discounting)
    work = df[["policy", "draw", "year", "population"]].copy()
    work["cost"] = yearly_costs(df, perspective, informal_care_hour) * discount_factors(
        df["year"], d.costs
    )
    work["qalys"] = df["qalys"].to_numpy(float) * discount_factors(df["year"], d.effects)
    g = work.groupby(["policy", "draw"], sort=False)
    out = g.agg(
        years=("year", "size"),
        population=("population", "mean"),
        cost=("cost", "sum"),
        qalys=("qalys", "sum"),
    ).reset_index()
    out["cost_per_capita"] = out["cost"] / out["population"]
    out["qalys_per_capita"] = out["qalys"] / out["population"]
    return out


# --- decision rules ------------------------------------------------------------------------------


def net_monetary_benefit(cost, qalys, wtp):
    """``wtp * qalys - cost`` (euro); arrays broadcast."""
    return np.asarray(wtp, dtype=float) * np.asarray(qalys, dtype=float) - np.asarray(
        cost, dtype=float
    )


def icer_frontier(strategies, cost, qalys):
    """The efficiency frontier with strong and extended dominance (as dampack's
    ``calculate_icers``).

    Strategies are sorted by cost (then by effect, higher first); a strategy is **strongly
    dominated** (``D``) when another costs no more and gives at least as many QALYs (and is
    not identical); of the rest, a strategy is **extendedly dominated** (``ED``) when its ICER
    against the previous strategy on the frontier is higher than that of the next one (a mix of
    its neighbours would do better), repeated until the ICERs rise along the frontier. Those
    left are non-dominated (``ND``); the first of them is the reference of the frontier (no
    ICER). Returns a DataFrame: strategy, cost, qalys, status, inc_cost, inc_qalys, icer (the
    increments against the previous frontier strategy; NaN off the frontier).
    """
    import pandas as pd

    s = pd.DataFrame(
        {
            "strategy": list(strategies),
            "cost": np.asarray(cost, float),
            "qalys": np.asarray(qalys, float),
        }
    )
    if s["strategy"].duplicated().any():
        raise ValueError("icer_frontier: strategies must be distinct")
    if not np.isfinite(s[["cost", "qalys"]].to_numpy()).all():
        raise ValueError("icer_frontier: cost and qalys must be finite")
    s["status"] = "ND"
    c, e = s["cost"].to_numpy(), s["qalys"].to_numpy()
    for i in range(len(s)):
        other = np.arange(len(s)) != i
        dominated = other & (c <= c[i]) & (e >= e[i]) & ((c < c[i]) | (e > e[i]))
        if dominated.any():
            s.loc[i, "status"] = "D"
    order = s.index[s["status"] == "ND"].to_list()
    order.sort(key=lambda i: (c[i], -e[i]))
    changed = True
    while changed and len(order) > 2:
        changed = False
        icers = [(c[b] - c[a]) / (e[b] - e[a]) for a, b in itertools.pairwise(order)]
        for k in range(len(icers) - 1):
            if icers[k] > icers[k + 1]:
                s.loc[order[k + 1], "status"] = "ED"
                del order[k + 1]
                changed = True
                break
    s["inc_cost"] = np.nan
    s["inc_qalys"] = np.nan
    s["icer"] = np.nan
    for a, b in itertools.pairwise(order):
        s.loc[b, "inc_cost"] = c[b] - c[a]
        s.loc[b, "inc_qalys"] = e[b] - e[a]
        s.loc[b, "icer"] = (c[b] - c[a]) / (e[b] - e[a])
    rank = {i: k for k, i in enumerate(order)}
    s["_rank"] = [rank.get(i, len(order) + i) for i in s.index]
    return s.sort_values(["_rank"]).drop(columns="_rank").reset_index(drop=True)


def _wide(draws, value: str):
    """policy x draw -> a (draws, policies) array of ``value``, draws present for every policy."""
    w = draws.pivot(index="draw", columns="policy", values=value)
    return w.dropna(axis=0, how="any")


def ceac(draws, wtp=None, policies=None):
    """The cost-effectiveness acceptability curve: at each willingness to pay, the share of
    draws in which each policy has the highest net monetary benefit (ties shared).

    ``draws``: :func:`discounted_totals` (policy, draw, cost, qalys). Returns a DataFrame:
    wtp, policy, probability, optimal (True for the policy with the highest *expected* net
    monetary benefit at that wtp: the acceptability frontier). At every wtp the probabilities
    sum to 1.
    """
    import pandas as pd

    wtp = np.linspace(*WTP_RANGE, 101) if wtp is None else np.atleast_1d(np.asarray(wtp, float))
    cost, qalys = _wide(draws, "cost"), _wide(draws, "qalys")
    names = list(cost.columns) if policies is None else list(policies)
    c = cost[names].to_numpy(float)  # (n_draws, n_policies)
    e = qalys[names].to_numpy(float)
    rows = []
    for w in wtp:
        nmb = w * e - c
        best = nmb == nmb.max(axis=1, keepdims=True)
        share = (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
        opt = int(np.argmax(nmb.mean(axis=0)))
        for j, p in enumerate(names):
            rows.append(
                {"wtp": float(w), "policy": p, "probability": float(share[j]), "optimal": j == opt}
            )
    return pd.DataFrame(rows)


def evpi(draws, wtp=None):
    """Expected value of perfect information per willingness to pay (euro, for the zone over
    the horizon): ``E[max_policy NMB] - max_policy E[NMB]`` over the draws (dampack's
    ``calc_evpi``). Only meaningful when the draws are parameter draws (a probabilistic
    sensitivity analysis); over replicate noise alone it measures what knowing the random
    numbers would be worth. Returns a DataFrame: wtp, evpi."""
    import pandas as pd

    wtp = np.linspace(*WTP_RANGE, 101) if wtp is None else np.atleast_1d(np.asarray(wtp, float))
    c, e = _wide(draws, "cost").to_numpy(float), _wide(draws, "qalys").to_numpy(float)
    vals = []
    for w in wtp:
        nmb = w * e - c
        vals.append(float(nmb.max(axis=1).mean() - nmb.mean(axis=0).max()))
    return pd.DataFrame({"wtp": wtp, "evpi": vals})


def budget_impact(df, comparator: str = "status_quo", years: int = 5, level: float = 0.95):
    """The payer's budget impact per year: each policy's undiscounted payer cost minus the
    comparator's, paired by draw, for years 1..``years`` (the budget-impact convention:
    undiscounted, payer perspective, per year).

    Returns a DataFrame: policy, year, cost (mean payer euro of the policy), impact (mean
    difference), impact_lo, impact_hi (the ``level`` percentile interval over draws), draws.
    Years the table does not cover are left out (a 1-year run reports year 1 only).
    """
    import pandas as pd

    _check_yearly(df)
    if comparator not in set(df["policy"]):
        raise ValueError(f"budget_impact: comparator {comparator!r} is not in the table")
    work = df[df["year"] <= years][["policy", "draw", "year"]].copy()
    work["cost"] = yearly_costs(df[df["year"] <= years], "payer")
    wide = work.pivot_table(index=["draw", "year"], columns="policy", values="cost")
    base = wide[comparator]
    a = (1.0 - level) / 2.0
    rows = []
    for p in wide.columns:
        diff = (wide[p] - base).dropna()
        for y, d in diff.groupby(level="year"):
            rows.append(
                {
                    "policy": p,
                    "year": int(y),
                    "cost": float(wide[p].xs(y, level="year").mean()),
                    "impact": float(d.mean()),
                    "impact_lo": float(np.quantile(d, a)),
                    "impact_hi": float(np.quantile(d, 1.0 - a)),
                    "draws": int(d.size),
                }
            )
    return pd.DataFrame(rows)


# --- the whole analysis --------------------------------------------------------------------------


@dataclass
class CostEffectiveness:
    """A cost-effectiveness analysis of a comparison (see :func:`analyse`).

    ``table``: one row per policy, mean discounted cost and QALYs (zone totals and per
    inhabitant), increments against the comparator, ICER against the comparator, net monetary
    benefit and its increment at ``wtp``, and the frontier status (ND / D / ED) with the
    sequential ICER along the frontier. ``draws``: discounted totals per policy and draw (with
    the increments against the comparator of the same draw: the cost-effectiveness plane).
    ``acceptability``: :func:`ceac`; ``evpi``: :func:`evpi`; ``budget``: :func:`budget_impact`.
    """

    comparator: str
    discounting: Discounting
    perspective: str
    wtp: float
    table: Any
    draws: Any
    acceptability: Any
    evpi: Any
    budget: Any
    notes: list[str] = field(default_factory=list)

    def conventions(self) -> str:
        """One line that says how the figures were made."""
        d = self.discounting
        return (
            f"{self.perspective} perspective; costs discounted at {d.costs:.1%} and QALYs at "
            f"{d.effects:.1%} a year ({d.source}); comparator {self.comparator}; net monetary "
            f"benefit at {self.wtp:,.0f} euro per QALY (Belgium has no official threshold)"
        )

    def nmb_range(self, wtps=WTP_SHOWN):
        """Incremental net monetary benefit against the comparator (euro, the zone over the
        horizon) per policy at each willingness to pay in ``wtps``: a DataFrame, one row per
        policy, one column per value."""
        import pandas as pd

        t = self.table.set_index("policy")
        return pd.DataFrame(
            {f"{w:,.0f}": w * t["inc_qalys"] - t["inc_cost"] for w in wtps}, index=t.index
        )

    def to_markdown(self) -> str:
        """The cost-effectiveness table and the budget impact as markdown."""
        lines = [
            f"Conventions: {self.conventions()}.",
            "",
            "| policy | cost (euro) | QALYs | incremental cost | incremental QALYs | ICER vs "
            "comparator | NMB increment | frontier | frontier ICER |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in self.table.itertuples():
            lines.append(
                f"| {r.policy} | {r.cost:,.0f} | {r.qalys:,.1f} | {r.inc_cost:,.0f} | "
                f"{r.inc_qalys:,.2f} | {_icer_text(r.inc_cost, r.inc_qalys)} | "
                f"{r.inc_nmb:,.0f} | {r.status} | {_num(r.frontier_icer)} |"
            )
        rng = self.nmb_range()
        lines += [
            "",
            "Incremental net monetary benefit (euro) at several willingness-to-pay values "
            "(euro per QALY; Belgium has no official threshold):",
            "",
            "| policy | " + " | ".join(rng.columns) + " |",
            "|---|" + "---|" * len(rng.columns),
        ]
        for p, r in rng.iterrows():
            if p != self.comparator:
                lines.append(f"| {p} | " + " | ".join(f"{v:,.0f}" for v in r) + " |")
        if self.budget is not None and len(self.budget):
            lines += [
                "",
                "Budget impact for the zone's payer (undiscounted euro per year, policy minus "
                f"{self.comparator}, mean and 95% interval over draws):",
                "",
                "| policy | year | impact | interval |",
                "|---|---|---|---|",
            ]
            for r in self.budget[self.budget["policy"] != self.comparator].itertuples():
                lines.append(
                    f"| {r.policy} | {r.year} | {r.impact:,.0f} | "
                    f"{r.impact_lo:,.0f} to {r.impact_hi:,.0f} |"
                )
        if self.notes:
            lines += ["", *[f"Note: {n}" for n in self.notes]]
        return "\n".join(lines)


OUTPUT_FILES = (
    "cost_effectiveness.md",
    "cost_effectiveness.csv",
    "ce_draws.csv",
    "ceac.csv",
    "evpi.csv",
    "budget_impact.csv",
)
FIGURE_FILES = ("ce_plane.png", "ceac.png", "budget_impact.png")


def write_outputs(ce: CostEffectiveness, folder, *, figures: bool = True) -> list[str]:
    """Write an analysis into ``folder`` (which must exist): the table and budget impact as
    markdown (:data:`OUTPUT_FILES`: ``cost_effectiveness.md``), the tables as CSV, and with
    ``figures`` the plane, the acceptability curve and the budget impact as PNG
    (:data:`FIGURE_FILES`). Returns the names written. The caller makes the write atomic (a
    comparison writes its whole folder at once)."""
    from pathlib import Path

    out = Path(folder)
    (out / "cost_effectiveness.md").write_text(ce.to_markdown() + "\n", encoding="utf-8")
    ce.table.to_csv(out / "cost_effectiveness.csv", index=False)
    ce.draws.to_csv(out / "ce_draws.csv", index=False)
    ce.acceptability.to_csv(out / "ceac.csv", index=False)
    ce.evpi.to_csv(out / "evpi.csv", index=False)
    ce.budget.to_csv(out / "budget_impact.csv", index=False)
    written = list(OUTPUT_FILES)
    if figures:
        from . import plots

        for name, make in zip(
            FIGURE_FILES,
            (plots.ce_plane_figure, plots.ceac_figure, plots.budget_impact_figure),
            strict=True,
        ):
            make(ce).savefig(out / name, dpi=120)
            written.append(name)
    return written


def _num(v: float) -> str:
    return "" if v is None or not np.isfinite(v) else f"{v:,.0f}"


def _icer_text(dc: float, de: float) -> str:
    """The ICER as a decision maker reads it, with the quadrant where a ratio would mislead."""
    if not (np.isfinite(dc) and np.isfinite(de)):
        return ""
    if dc == 0 and de == 0:
        return "comparator"
    if de > 0 and dc <= 0:
        return "dominant (cheaper, more QALYs)"
    if de <= 0 and dc >= 0:
        return "dominated (dearer, fewer QALYs)"
    if de < 0:
        return f"{dc / de:,.0f} saved per QALY lost"
    return f"{dc / de:,.0f}"


def analyse(
    yearly,
    comparator: str = "status_quo",
    *,
    discounting: str | Discounting = "kce",
    perspective: str = "payer",
    wtp: float = DEFAULT_WTP,
    wtp_grid=None,
    informal_care_hour: float = INFORMAL_CARE_HOUR_EUR,
    budget_years: int = 5,
) -> CostEffectiveness:
    """The cost-effectiveness analysis of a per-year table (:data:`YEARLY_COLUMNS`).

    Means over draws decide the table (the expected values of the field's decision rules);
    the draws give the plane, the acceptability curve and the EVPI.
    """
    import pandas as pd

    if not np.isfinite(wtp) or wtp < 0:
        raise ValueError(f"wtp: expected a non-negative number of euro per QALY, got {wtp!r}")
    d = _discounting(discounting)
    draws = discounted_totals(yearly, d, perspective, informal_care_hour)
    if comparator not in set(draws["policy"]):
        raise ValueError(f"comparator {comparator!r} is not among the policies of the table")
    base = draws[draws["policy"] == comparator].set_index("draw")
    draws["inc_cost"] = draws["cost"] - draws["draw"].map(base["cost"])
    draws["inc_qalys"] = draws["qalys"] - draws["draw"].map(base["qalys"])
    mean = draws.groupby("policy", sort=False)[
        ["cost", "qalys", "cost_per_capita", "qalys_per_capita", "population"]
    ].mean()
    mean["draws"] = draws.groupby("policy", sort=False).size()
    table = mean.reset_index()
    c0, e0 = float(mean.loc[comparator, "cost"]), float(mean.loc[comparator, "qalys"])
    table["inc_cost"] = table["cost"] - c0
    table["inc_qalys"] = table["qalys"] - e0
    with np.errstate(divide="ignore", invalid="ignore"):
        table["icer"] = np.where(
            table["inc_qalys"] != 0, table["inc_cost"] / table["inc_qalys"], np.nan
        )
    table["nmb"] = net_monetary_benefit(table["cost"], table["qalys"], wtp)
    table["inc_nmb"] = table["nmb"] - float(net_monetary_benefit(c0, e0, wtp))
    front = icer_frontier(table["policy"], table["cost"], table["qalys"]).set_index("strategy")
    table["status"] = table["policy"].map(front["status"])
    table["frontier_icer"] = table["policy"].map(front["icer"])
    notes = []
    n_draws = int(draws["draw"].nunique())
    if n_draws < 2:
        notes.append("one draw per policy: no plane, acceptability curve or EVPI")
        acc = ev = pd.DataFrame()
    else:
        acc = ceac(draws, wtp_grid)
        ev = evpi(draws, wtp_grid)
    years = int(yearly["year"].max())
    if years < budget_years:
        notes.append(
            f"the runs cover {years} year(s): the budget impact shows those, not {budget_years}"
        )
    budget = budget_impact(yearly, comparator, budget_years)
    return CostEffectiveness(
        comparator=comparator,
        discounting=d,
        perspective=perspective,
        wtp=float(wtp),
        table=table,
        draws=draws,
        acceptability=acc,
        evpi=ev,
        budget=budget,
        notes=notes,
    )
