"""The dashboard's figures: matplotlib :class:`~matplotlib.figure.Figure` objects drawn from a
:class:`~zonesim.dashboard.state.View` (no pyplot, so figures can be drawn in any thread).

Each ``*_figure(view)`` returns a figure; :func:`png` turns one into PNG bytes (what the page
shows and what its download buttons give). Baseline is drawn in blue, the alternative in orange,
differences (alternative - baseline) in green.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .state import AIM_METRICS, FLOW_STAGES, SIDE_TITLES, SIDES, View

COLORS = {"baseline": "#4C72B0", "alternative": "#DD8452", "difference": "#2E8B57"}
_FONT = 8


def png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _figure(width: float, height: float, **adjust: float) -> Figure:
    # Fixed margins rather than a layout engine: one draw per PNG instead of several.
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(**adjust)
    return fig


def _style(ax, title: str) -> None:
    ax.set_title(title, fontsize=_FONT + 1, loc="left")
    ax.tick_params(labelsize=_FONT)
    ax.grid(True, alpha=0.3, linewidth=0.5)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)


def _empty(ax, text: str = "no months simulated yet: press Step or Play") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=_FONT, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _series(rows, key: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([r["month"] for r in rows], dtype=float)
    y = np.array([r.get(key, math.nan) for r in rows], dtype=float)
    return x, y


def aims_figure(view: View) -> Figure:
    """Monthly Quadruple Aim and equity metrics of both policies (each month's own value)."""
    return _metric_grid(view, cumulative=False)


def difference_figure(view: View) -> Figure:
    """The running difference (alternative - baseline) of the same metrics, cumulative since
    month 0 (the scorecard each would show if the run stopped that month)."""
    return _metric_grid(view, cumulative=True)


def _metric_grid(view: View, cumulative: bool) -> Figure:
    fig = _figure(12, 5.6, left=0.06, right=0.99, top=0.86, bottom=0.09, wspace=0.32, hspace=0.6)
    axes = fig.subplots(2, 4).ravel()
    data = view.cumulative if cumulative else view.monthly
    for ax, (key, aim, title, unit) in zip(axes, AIM_METRICS, strict=True):
        _style(ax, f"{aim}: {title}\n({unit})")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not data["baseline"]:
            _empty(ax)
            continue
        if cumulative:
            xb, yb = _series(data["baseline"], key)
            xa, ya = _series(data["alternative"], key)
            n = min(len(xb), len(xa))
            ax.axhline(0.0, color="black", linewidth=0.7)
            ax.plot(xb[:n], ya[:n] - yb[:n], color=COLORS["difference"], marker=".", ms=3)
        else:
            for side in SIDES:
                x, y = _series(data[side], key)
                ax.plot(x, y, color=COLORS[side], marker=".", ms=3, label=SIDE_TITLES[side])
        ax.set_xlabel("month", fontsize=_FONT)
    if not cumulative and data["baseline"]:
        axes[0].legend(fontsize=_FONT, frameon=False)
    what = "running difference, alternative - baseline, cumulative since month 0"
    fig.suptitle(
        what if cumulative else "Quadruple Aim and equity, each month (rates per year)",
        fontsize=_FONT + 2,
    )
    return fig


def flow_figure(view: View) -> Figure:
    """The switch-moment flow of both policies now, and its stocks month by month."""
    fig = _figure(12, 4.2, left=0.17, right=0.99, top=0.92, bottom=0.11, wspace=0.15)
    ax_bar, ax_line = fig.subplots(1, 2, width_ratios=[1.1, 1])
    _style(ax_bar, "Switch moments: triggered and resolved since month 0; the rest now")
    labels = [f"{label}\n({kind})" for _, label, kind in FLOW_STAGES]
    y = np.arange(len(FLOW_STAGES))
    h = 0.38
    for k, side in enumerate(SIDES):
        vals = [view.flow[side][key] for key, _, _ in FLOW_STAGES]
        bars = ax_bar.barh(
            y + (k - 0.5) * h, vals, height=h, color=COLORS[side], label=SIDE_TITLES[side]
        )
        ax_bar.bar_label(bars, labels=[f"{v:,.0f}" for v in vals], fontsize=_FONT - 1, padding=2)
    ax_bar.set_yticks(y, labels, fontsize=_FONT)
    ax_bar.invert_yaxis()
    ax_bar.legend(fontsize=_FONT, frameon=False, loc="center right")
    ax_bar.margins(x=0.12)
    ax_bar.set_xlabel("patients", fontsize=_FONT)
    _style(ax_line, "Open switch moments at each month end")
    if not view.monthly["baseline"]:
        _empty(ax_line)
    else:
        styles = {"regular_team": "-", "waiting_cm": "--", "case_managed": ":"}
        names = {"regular_team": "regular team", "waiting_cm": "waiting for CM"}
        names["case_managed"] = "case-managed"
        for side in SIDES:
            for key, ls in styles.items():
                x, yv = _series(view.monthly[side], key)
                ax_line.plot(
                    x, yv, ls, color=COLORS[side], label=f"{SIDE_TITLES[side]}: {names[key]}"
                )
        ax_line.set_xlabel("month", fontsize=_FONT)
        ax_line.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_line.set_ylabel("patients", fontsize=_FONT)
        ax_line.set_ylim(bottom=0)
        ax_line.margins(y=0.35)
        ax_line.legend(fontsize=_FONT - 1, frameon=False, ncol=2, loc="upper left")
    return fig


def caseload_figure(view: View) -> Figure:
    """Clients of each case manager (sorted), with the cap (the caseload cap, or what the hours
    allow if fewer, x FTE)."""
    fig = _figure(12, 3.4, left=0.06, right=0.99, top=0.9, bottom=0.14, wspace=0.08)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, side in zip(axes, SIDES, strict=True):
        c = view.caseloads[side]
        load, cap = c["caseload"], c["cap"]
        pol = view.policies[side]
        _style(ax, f"{SIDE_TITLES[side]} ({pol.name}): {len(load)} case managers")
        if len(load) == 0:
            _empty(ax, "no case managers in this policy")
            continue
        order = np.argsort(-load, kind="stable")
        x = np.arange(len(load))
        ax.bar(x, load[order], color=COLORS[side], label="clients")
        ax.scatter(x, cap[order], marker="_", s=120, color="black", label="cap")
        ax.set_xlabel("case managers, most clients first", fontsize=_FONT)
        ax.set_ylabel("clients", fontsize=_FONT)
        ax.set_xlim(-0.6, max(len(load), 10) - 0.4)
        ax.set_xticks([])
        ax.margins(y=0.15)
        ax.legend(fontsize=_FONT, frameon=False, loc="upper right")
    return fig


def strain_figure(view: View) -> Figure:
    """Provider strain and utilisation by discipline (FTE-weighted means of working staff)."""
    fig = _figure(12, 3.6, left=0.05, right=0.99, top=0.9, bottom=0.3, wspace=0.22)
    axes = fig.subplots(1, 3)
    names = [r["discipline"] for r in view.strain["baseline"]]
    for r in view.strain["alternative"]:
        if r["discipline"] not in names:
            names.append(r["discipline"])
    x = np.arange(len(names))
    w = 0.38
    panels = (
        ("strain_mean", "Mean strain now (0-1)"),
        ("strained_share", "Share of FTE over the strain threshold now"),
        ("utilisation", "Utilisation now (demand / capacity, smoothed)"),
    )
    for ax, (key, title) in zip(axes, panels, strict=True):
        _style(ax, title)
        for k, side in enumerate(SIDES):
            by = {r["discipline"]: r[key] for r in view.strain[side]}
            vals = [by.get(n, math.nan) for n in names]
            ax.bar(x + (k - 0.5) * w, vals, width=w, color=COLORS[side], label=SIDE_TITLES[side])
        ax.set_xticks(x, [n.replace("_", " ") for n in names], rotation=35, ha="right")
        ax.tick_params(labelsize=_FONT)
    axes[0].legend(fontsize=_FONT, frameon=False)
    return fig


def municipality_figure(view: View) -> Figure:
    """Per municipality: GP contacts per inhabitant per year, and open switch moments."""
    rows = view.municipalities
    fig = _figure(12, 3.8, left=0.06, right=0.99, top=0.9, bottom=0.3, wspace=0.25)
    axes = fig.subplots(1, 3)
    names = [r["municipality"] for r in rows]
    x = np.arange(len(names))
    w = 0.38
    _style(axes[0], "Inhabitants")
    axes[0].bar(x, [r["inhabitants"] for r in rows], color="#888888")
    panels = (
        ("gp_contacts_per_capita_year", "GP demand: contacts per inhabitant per year"),
        ("unresolved", "Unresolved switch moments now"),
    )
    for ax, (key, title) in zip(axes[1:], panels, strict=True):
        _style(ax, title)
        if key.startswith("gp_") and view.month == 0:
            _empty(ax)
            continue
        for k, side in enumerate(SIDES):
            vals = [r[f"{key}_{side}"] for r in rows]
            ax.bar(x + (k - 0.5) * w, vals, width=w, color=COLORS[side], label=SIDE_TITLES[side])
        ax.margins(y=0.25)
        ax.legend(fontsize=_FONT, frameon=False, loc="upper left", ncol=2)
    for ax in axes:
        if ax.get_xticks().size and len(names) <= 40:
            ax.set_xticks(x, names, rotation=45, ha="right")
        ax.tick_params(labelsize=_FONT - (1 if len(names) > 12 else 0))
    return fig


# The figures the page offers: key -> (title, builder, file name stem).
FIGURES: dict[str, tuple[str, Callable[[View], Figure]]] = {
    "aims": ("Quadruple Aim and equity, monthly", aims_figure),
    "difference": ("Running difference", difference_figure),
    "flow": ("Switch-moment flow", flow_figure),
    "caseloads": ("Case-manager caseloads", caseload_figure),
    "strain": ("Provider strain by discipline", strain_figure),
    "municipalities": ("Municipalities", municipality_figure),
}


def figure_png(key: str, view: View, dpi: int = 100) -> bytes:
    """PNG bytes of one of :data:`FIGURES` for ``view``."""
    return png(FIGURES[key][1](view), dpi=dpi)


def is_blank(data: bytes) -> bool:
    """True when PNG bytes decode to a single colour (a blank chart)."""
    import matplotlib.image as mpimg

    img = mpimg.imread(io.BytesIO(data), format="png")
    flat = img.reshape(-1, img.shape[-1]) if img.ndim == 3 else img.reshape(-1, 1)
    return bool((flat == flat[0]).all())


# The Economics panel's figures: drawn from a cost-effectiveness analysis
# (zonesim.economics.CostEffectiveness), the same figures `zonesim compare` writes.
def _economics_figures() -> dict[str, tuple[str, Callable[[Any], Figure]]]:
    from .. import plots

    return {
        "ce_plane": ("Cost-effectiveness plane", plots.ce_plane_figure),
        "ceac": ("Acceptability curve", plots.ceac_figure),
        "budget_impact": ("Budget impact per year", plots.budget_impact_figure),
    }


ECONOMICS_FIGURES = ("ce_plane", "ceac", "budget_impact")


def economics_png(key: str, ce: Any, dpi: int = 100) -> bytes:
    """PNG bytes of one of :data:`ECONOMICS_FIGURES` for the analysis ``ce``."""
    return png(_economics_figures()[key][1](ce), dpi=dpi)


def economics_title(key: str) -> str:
    return _economics_figures()[key][0]
