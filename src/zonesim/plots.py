"""Figures of a policy comparison, for a care council as much as for a researcher.

- :func:`scorecard_figure`: the headline metrics of each aim (one row of panels per aim), the
  mean per policy as a bar with the spread over replicates (min to max) as a line;
- :func:`forest_figure`: paired differences against the baseline policy with their 95% intervals,
  one panel per metric, one row per policy, a line at zero;
- :func:`timeseries_figure`: monthly means per policy;
- :func:`ce_plane_figure`, :func:`ceac_figure`, :func:`budget_impact_figure`: the
  health-economic outputs of :mod:`zonesim.economics` (cost-effectiveness plane,
  acceptability curve, the payer's budget impact per year).

matplotlib only, imported inside the functions (``import zonesim`` never loads it). Figures are
built as :class:`matplotlib.figure.Figure` objects without pyplot, so nothing global changes and
they render anywhere (``fig.savefig``, or inline in a notebook).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "AIMS",
    "HEADLINE",
    "LABELS",
    "TIMESERIES",
    "budget_impact_figure",
    "ce_plane_figure",
    "ceac_figure",
    "forest_figure",
    "label",
    "scorecard_figure",
    "timeseries_figure",
]

# The aims of MODEL.md section 5 in reading order, with their headings.
AIMS = {
    "population_health": "Population health",
    "experience": "Experience of care",
    "cost": "Cost",
    "workforce": "Work life of care providers",
    "equity": "Equity (limited minus adequate health literacy)",
}

# Headline metrics per aim (the scorecard and forest figures).
HEADLINE: dict[str, tuple[str, ...]] = {
    "population_health": (
        "qalys_per_capita",
        "avoidable_admissions_per_1000",
        "deaths_per_1000",
    ),
    "experience": (
        "switch_to_equilibrium_days_median",
        "gp_wait_days_mean",
        "unmet_need_days_per_1000",
    ),
    "cost": (
        "cost_per_capita_eur",
        "cost_specialist_per_capita_eur",
        "cost_hospital_per_capita_eur",
    ),
    "workforce": (
        "utilisation_gp",
        "strained_share",
        "attrition_per_100_fte",
    ),
    "equity": (
        "unmet_need_days_gap_literacy",
        "qalys_gap_literacy",
        "switch_days_gap_literacy",
    ),
}

# Monthly series shown by default.
TIMESERIES = (
    "qalys_per_capita",
    "unmet_need_days_per_1000",
    "gp_wait_days_mean",
    "switch_moments_per_1000",
    "cost_per_capita_eur",
    "utilisation_gp",
)

# Plain-language labels: metric -> (label, unit, which direction is better).
LABELS: dict[str, tuple[str, str, str]] = {
    "qalys_per_capita": ("Quality-adjusted life years per inhabitant", "QALY/year", "higher"),
    "avoidable_admissions_per_1000": ("Avoidable hospital admissions", "per 1,000/year", "lower"),
    "deaths_per_1000": ("Deaths", "per 1,000/year", "lower"),
    "admissions_per_1000": ("Hospital admissions", "per 1,000/year", "lower"),
    "switch_to_equilibrium_days_median": (
        "Days from a switch moment to a new equilibrium (median)",
        "days",
        "lower",
    ),
    "switch_to_equilibrium_days_p90": (
        "Days from a switch moment to a new equilibrium (90th percentile)",
        "days",
        "lower",
    ),
    "switch_resolved_14d_share": ("Switch moments resolved within 14 days", "share", "higher"),
    "switch_moments_per_1000": ("Switch moments", "per 1,000/year", "lower"),
    "gp_wait_days_mean": ("Waiting days for a GP appointment", "days", "lower"),
    "unmet_need_days_per_1000": ("Days of unmet care need", "per 1,000/year", "lower"),
    "continuity_upc": ("Continuity with the usual GP", "share", "higher"),
    "caregiver_overloaded_share": ("Informal caregivers overloaded", "share", "lower"),
    "caregiver_burden_mean": ("Informal caregiver burden", "0-1", "lower"),
    "specialist_wait_over_14d_share": ("Specialist waits over 2 weeks", "share", "lower"),
    "cm_wait_days_mean": ("Waiting days for a case manager", "days", "lower"),
    "cost_per_capita_eur": ("Total cost per inhabitant", "euro/year", "lower"),
    "cost_specialist_per_capita_eur": ("Specialist cost per inhabitant", "euro/year", "lower"),
    "cost_hospital_per_capita_eur": ("Hospital cost per inhabitant", "euro/year", "lower"),
    "cost_gp_per_capita_eur": ("GP cost per inhabitant", "euro/year", "lower"),
    "cost_case_management_per_capita_eur": (
        "Case management cost per inhabitant",
        "euro/year",
        "lower",
    ),
    "utilisation_gp": ("GP workload (demand / capacity)", "ratio", "lower"),
    "utilisation_mean": ("Workload of all providers (demand / capacity)", "ratio", "lower"),
    "strained_share": ("Providers over the strain threshold (burnout risk)", "share", "lower"),
    "attrition_per_100_fte": ("Providers leaving", "per 100 FTE/year", "lower"),
    "gp_attrition_per_100_fte": ("GPs leaving", "per 100 FTE/year", "lower"),
    "sick_leave_days_per_fte": ("Sick-leave days", "per FTE/year", "lower"),
    "overtime_hours_per_fte": ("Overtime hours", "per FTE/year", "lower"),
    "unmet_need_days_gap_literacy": (
        "Gap in unmet-need days (limited - adequate literacy)",
        "per 1,000/year",
        "closer to 0",
    ),
    "qalys_gap_literacy": (
        "Gap in QALYs (limited - adequate literacy)",
        "QALY/year",
        "closer to 0",
    ),
    "switch_days_gap_literacy": (
        "Gap in days to a new equilibrium (limited - adequate literacy)",
        "days",
        "closer to 0",
    ),
    "avoidable_admissions_gap_literacy": (
        "Gap in avoidable admissions (limited - adequate literacy)",
        "per 1,000/year",
        "closer to 0",
    ),
    "specialist_visits_per_capita": ("Specialist visits per inhabitant", "per year", "-"),
    "emergency_visits_per_1000": ("Emergency department visits", "per 1,000/year", "lower"),
}


def label(metric: str, *, unit: bool = True, wrap: int | None = None) -> str:
    """The plain-language label of a metric (its name where none is known)."""
    import textwrap

    text, u, _ = LABELS.get(metric, (metric.replace("_", " "), "", ""))
    if unit and u:
        text = f"{text} ({u})"
    return "\n".join(textwrap.wrap(text, wrap)) if wrap else text


def _short(v: float) -> str:
    """A value in 3-4 significant digits for a label."""
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 1 or a == 0:
        return f"{v:.3g}" if a < 100 else f"{v:.0f}"
    return f"{v:.3g}"


def _policy_label(name: str) -> str:
    return name.replace("_", " ")


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _subtitle(result: Any) -> str:
    e, c = result.experiment, result.config
    return (
        f"{c.zone.name}, {c.zone.population:,} inhabitants, scenario {c.scenario.name}; "
        f"{e.replicates} runs per policy, {e.years:g} year(s) each after "
        f"{e.warmup_days} days of warm-up"
    )


def scorecard_figure(result: Any, headline: dict[str, tuple[str, ...]] | None = None):
    """Headline metrics per aim: one row of panels per aim, one bar per policy (the mean over
    replicates, from zero, its value written next to it) with the spread over replicates (min
    to max) as a black line. The differences themselves are in :func:`forest_figure`."""
    from matplotlib.ticker import MaxNLocator

    headline = HEADLINE if headline is None else headline
    metrics = set(result.metrics())
    rows = [(aim, [m for m in ms if m in metrics]) for aim, ms in headline.items()]
    rows = [(aim, ms) for aim, ms in rows if ms]
    ncols = max((len(ms) for _, ms in rows), default=1)
    labels = result.labels
    n = len(labels)
    colors = _colors(n)
    fig = _new_figure(4.6 * ncols + 1.6, (0.28 * n + 1.3) * max(1, len(rows)) + 0.8)
    fig.suptitle(f"Scorecard per aim: {_subtitle(result)}", fontsize=12)
    subfigs = fig.subfigures(max(1, len(rows)), 1, squeeze=False)[:, 0]
    y = np.arange(n)
    for sub, (aim, ms) in zip(subfigs, rows, strict=False):
        sub.suptitle(AIMS.get(aim, aim), fontsize=11, fontweight="bold", x=0.02, ha="left")
        axes = sub.subplots(1, ncols, squeeze=False)[0]
        for j, ax in enumerate(axes):
            if j >= len(ms):
                ax.set_axis_off()
                continue
            m = ms[j]
            vals = result.values(m)
            with np.errstate(all="ignore"), _quiet():
                mean = np.nanmean(vals, axis=1)
                lo = np.nanmin(vals, axis=1)
                hi = np.nanmax(vals, axis=1)
            ax.barh(y, np.nan_to_num(mean), color=colors, alpha=0.85)
            ax.hlines(y, lo, hi, color="black", linewidth=1.5)
            ax.set_yticks(y)
            ax.set_yticklabels([_policy_label(p) for p in labels] if j == 0 else [])
            ax.invert_yaxis()
            ax.set_title(label(m, wrap=42), fontsize=9)
            ax.grid(axis="x", alpha=0.3)
            ax.tick_params(labelsize=8)
            ax.axvline(0.0, color="grey", linewidth=0.8)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            for i, v in enumerate(mean):  # the value itself, beyond the bar and its spread
                if np.isfinite(v):
                    edge = hi[i] if v >= 0 else lo[i]
                    ax.annotate(
                        _short(v),
                        (edge if np.isfinite(edge) else v, i),
                        xytext=(3 if v >= 0 else -3, 0),
                        textcoords="offset points",
                        ha="left" if v >= 0 else "right",
                        va="center",
                        fontsize=7,
                    )
            ax.margins(x=0.18)
    return fig


class _quiet:
    """Silence numpy's 'mean of empty slice' warnings inside a block."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _headline_list() -> list[str]:
    return [m for ms in HEADLINE.values() for m in ms]


def forest_figure(result: Any, metrics: list[str] | tuple[str, ...] | None = None):
    """Paired differences against the baseline with 95% intervals: one panel per metric, one row
    per policy, a line at zero. A filled marker: significant after Holm's correction."""
    from matplotlib.ticker import MaxNLocator

    metrics = _headline_list() if metrics is None else list(metrics)
    have = set(result.metrics())
    metrics = [m for m in metrics if m in have]
    diff = result.differences()
    others = result.labels[1:]
    colors = _colors(len(result.labels))[1:]
    ncols = 3 if len(metrics) > 4 else max(1, len(metrics))
    nrows = max(1, -(-len(metrics) // ncols))
    fig = _new_figure(5.0 * ncols + 1.2, (0.32 * len(others) + 1.2) * nrows + 1.0)
    fig.suptitle(
        f"Difference from {_policy_label(result.baseline)} with 95% interval "
        f"(filled: significant after Holm correction)\n{_subtitle(result)}",
        fontsize=11,
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    y = np.arange(len(others))
    for k, ax in enumerate(axes.ravel()):
        if k >= len(metrics):
            ax.set_axis_off()
            continue
        m = metrics[k]
        d = diff[diff["metric"] == m].set_index("policy").reindex(others)
        ax.axvline(0.0, color="grey", linewidth=1)
        for i, p in enumerate(others):
            row = d.loc[p]
            if not np.isfinite(row["diff"]):
                continue
            ax.hlines(i, row["ci_low"], row["ci_high"], color=colors[i], linewidth=2)
            ax.plot(
                [row["diff"]],
                [i],
                marker="o",
                color=colors[i],
                markerfacecolor=colors[i] if row["significant"] else "white",
                markersize=6,
            )
        ax.set_yticks(y)
        ax.set_yticklabels([_policy_label(p) for p in others] if k % ncols == 0 else [])
        ax.set_ylim(len(others) - 0.5, -0.5)
        ax.set_title(label(m, wrap=42), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(5))
    return fig


def timeseries_figure(result: Any, metrics: list[str] | tuple[str, ...] | None = None):
    """Monthly means per policy (over replicates) of the flow metrics, one panel per metric."""
    ts = result.timeseries
    metrics = list(TIMESERIES if metrics is None else metrics)
    metrics = [m for m in metrics if m in ts.columns]
    ncols = 2 if len(metrics) > 1 else 1
    nrows = max(1, -(-len(metrics) // ncols))
    fig = _new_figure(6.5 * ncols, 3.0 * nrows + 1.0)
    fig.suptitle(f"Month by month: {_subtitle(result)}", fontsize=11)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colors = _colors(len(result.labels))
    for k, ax in enumerate(axes.ravel()):
        if k >= len(metrics):
            ax.set_axis_off()
            continue
        m = metrics[k]
        monthly = ts.groupby(["policy", "month"])[m].mean()
        for i, p in enumerate(result.labels):
            if p not in monthly.index.get_level_values(0):
                continue
            s = monthly.loc[p]
            width = 2.4 if i == 0 else 1.4
            ax.plot(s.index, s.to_numpy(), color=colors[i], linewidth=width, label=_policy_label(p))
        ax.set_title(label(m, wrap=60), fontsize=9)
        ax.set_xlabel("month of the measured period", fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    if metrics:
        handles, names = axes.ravel()[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=min(4, len(names)), fontsize=8)
    return fig


# --- health economics (zonesim.economics) --------------------------------------------------------


def _ce_subtitle(ce: Any) -> str:
    d = ce.discounting
    return (
        f"{ce.perspective} perspective, costs {d.costs:.1%} and QALYs {d.effects:.1%} a year; "
        f"against {_policy_label(ce.comparator)}"
    )


def ce_plane_figure(ce: Any):
    """The cost-effectiveness plane: per draw, each policy's incremental QALYs (x) and
    incremental cost (y, euro, the zone over the horizon) against the comparator in the same
    draw, with the mean as a large marker and the willingness-to-pay line through the origin.
    Below the line is cost-effective at that price."""
    fig = _new_figure(7.5, 5.5)
    ax = fig.subplots()
    others = [p for p in ce.table["policy"] if p != ce.comparator]
    colors = _colors(len(others))
    for p, col in zip(others, colors, strict=True):
        d = ce.draws[ce.draws["policy"] == p]
        ax.scatter(d["inc_qalys"], d["inc_cost"], s=14, color=col, alpha=0.45, linewidths=0)
        ax.scatter(
            d["inc_qalys"].mean(),
            d["inc_cost"].mean(),
            s=90,
            color=col,
            edgecolors="black",
            label=_policy_label(p),
            zorder=3,
        )
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.axvline(0.0, color="grey", linewidth=0.8)
    xlo, xhi = ax.get_xlim()
    xs = np.array([min(xlo, 0.0), max(xhi, 0.0)])
    ax.plot(
        xs,
        ce.wtp * xs,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"{ce.wtp:,.0f} euro per QALY",
    )
    ax.set_xlim(xlo, xhi)
    ax.set_xlabel("Incremental QALYs (zone, discounted)")
    ax.set_ylabel("Incremental cost (euro, zone, discounted)")
    ax.set_title(f"Cost-effectiveness plane\n{_ce_subtitle(ce)}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def ceac_figure(ce: Any):
    """The acceptability curve: per willingness to pay (0 to 100,000 euro per QALY; Belgium
    has no official threshold), the share of draws in which each policy has the highest net
    monetary benefit; the optimal policy (highest expected net benefit) is drawn thicker."""
    fig = _new_figure(7.5, 4.8)
    ax = fig.subplots()
    acc = ce.acceptability
    if acc is None or len(acc) == 0:
        ax.text(0.5, 0.5, "one draw per policy: no acceptability curve", ha="center", va="center")
        ax.set_axis_off()
        return fig
    policies = list(dict.fromkeys(acc["policy"]))
    for p, col in zip(policies, _colors(len(policies)), strict=True):
        d = acc[acc["policy"] == p]
        ax.plot(d["wtp"], d["probability"], color=col, linewidth=1.5, label=_policy_label(p))
        opt = d["probability"].where(d["optimal"])
        ax.plot(d["wtp"], opt, color=col, linewidth=4, alpha=0.5)
    ax.axvline(ce.wtp, color="black", linestyle="--", linewidth=1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Willingness to pay (euro per QALY)")
    ax.set_ylabel("Probability of the highest net benefit")
    ax.set_title(
        f"Cost-effectiveness acceptability curve (thick: optimal)\n{_ce_subtitle(ce)}", fontsize=10
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def budget_impact_figure(ce: Any):
    """The payer's budget impact per year (undiscounted euro, policy minus comparator, paired by
    draw): the mean as a bar per policy and year, the 95% interval over draws as a line."""
    fig = _new_figure(7.5, 4.8)
    ax = fig.subplots()
    b = ce.budget[ce.budget["policy"] != ce.comparator]
    policies = list(dict.fromkeys(b["policy"]))
    years = sorted(b["year"].unique())
    width = 0.8 / max(1, len(policies))
    for k, (p, col) in enumerate(zip(policies, _colors(len(policies)), strict=True)):
        d = b[b["policy"] == p].set_index("year").reindex(years)
        x = np.arange(len(years)) + (k - (len(policies) - 1) / 2) * width
        ax.bar(x, d["impact"], width=width, color=col, alpha=0.85, label=_policy_label(p))
        ax.vlines(x, d["impact_lo"], d["impact_hi"], color="black", linewidth=1.2)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(np.arange(len(years)))
    ax.set_xticklabels([f"year {y}" for y in years])
    ax.set_ylabel("Budget impact (euro per year, undiscounted)")
    ax.set_title(
        f"Budget impact for the zone's payer, against {_policy_label(ce.comparator)}", fontsize=10
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig
