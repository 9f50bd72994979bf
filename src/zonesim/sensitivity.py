"""Designs over parameters and sensitivity indices: the SALib adapter of :mod:`zonesim.runs`.

A design turns the parameters of a study (each with bounds, or a list of values) into a matrix of
points, one row per point, one column per parameter:

- ``grid``: every combination of the listed values (or of ``levels`` evenly spaced values
  between the bounds);
- ``lhs``: a Latin hypercube of ``n`` points in the bounds
  (:class:`scipy.stats.qmc.LatinHypercube`);
- ``sobol``: Saltelli's scheme through SALib (:func:`SALib.sample.sobol.sample`): ``n`` base
  samples give ``n * (D + 2)`` points (``n * (2 D + 2)`` with second-order indices);
- ``morris``: Morris trajectories through SALib (:func:`SALib.sample.morris.sample`): ``n``
  trajectories give ``n * (D + 1)`` points.

Sampling is deterministic: the same design and seed give the same points. :func:`analyse` computes
Sobol indices (S1, ST with confidence intervals) or Morris measures (mu, mu*, sigma) from one
output per point, in point order, and :func:`figure` draws them.

SALib is optional (the ``sensitivity`` extra); only the Sobol and Morris designs need it.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np

from .errors import ZonesimInputError

__all__ = [
    "METHODS",
    "N_POINTS",
    "analyse",
    "figure",
    "n_points",
    "problem",
    "sample",
]

# design method -> does it need `n`?
METHODS = ("none", "grid", "lhs", "sobol", "morris")
N_POINTS = {
    "sobol": "n * (D + 2), or n * (2 D + 2) with second-order indices",
    "morris": "n * (D + 1)",
    "lhs": "n",
}


def _salib(module: str):
    """Import a SALib module, or say how to get it."""
    import importlib

    try:
        return importlib.import_module(f"SALib.{module}")
    except ImportError:  # pragma: no cover - SALib is installed wherever the tests run
        raise ZonesimInputError(
            "Sobol and Morris designs need SALib: pip install 'zonesim[sensitivity]'",
            source="<environment>",
            field="SALib",
        ) from None


def problem(names: list[str], bounds: list[tuple[float, float]]) -> dict[str, Any]:
    """SALib's problem dict (``num_vars``, ``names``, ``bounds``)."""
    return {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [[float(lo), float(hi)] for lo, hi in bounds],
    }


def n_points(method: str, d: int, n: int | None, calc_second_order: bool = False) -> int:
    """Points of a sampled design with ``d`` parameters (``grid``/``none``: not defined here)."""
    if method == "sobol":
        return n * (2 * d + 2 if calc_second_order else d + 2)
    if method == "morris":
        return n * (d + 1)
    if method == "lhs":
        return n
    raise ValueError(method)


def sample(
    method: str,
    names: list[str],
    *,
    bounds: list[tuple[float, float] | None] | None = None,
    values: list[list[Any] | None] | None = None,
    n: int | None = None,
    seed: int = 0,
    calc_second_order: bool = False,
    num_levels: int = 4,
) -> list[list[Any]]:
    """The raw points of a design: a list of rows, one value per parameter.

    ``grid`` takes ``values`` (a list per parameter); the others take ``bounds`` and ``n``.
    Values are floats for sampled designs (rounding to a parameter's type is the caller's).
    """
    d = len(names)
    if method == "none":
        return [[]]
    if method == "grid":
        assert values is not None and len(values) == d
        return [list(row) for row in itertools.product(*values)]
    assert bounds is not None and len(bounds) == d and n is not None
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n)
        lo = np.array([b[0] for b in bounds], dtype=float)
        hi = np.array([b[1] for b in bounds], dtype=float)
        x = lo + unit * (hi - lo)
    elif method == "sobol":
        sobol = _salib("sample.sobol")
        with warnings.catch_warnings():
            # "balance properties ... require n to be a power of 2": the study file's choice,
            # documented in docs/sweeps.md; not worth a warning on every run.
            warnings.filterwarnings("ignore", message=".*power of 2", category=UserWarning)
            x = sobol.sample(
                problem(names, bounds),
                n,
                calc_second_order=calc_second_order,
                scramble=True,
                seed=seed,
            )
    elif method == "morris":
        morris = _salib("sample.morris")
        x = morris.sample(problem(names, bounds), n, num_levels=num_levels, seed=seed)
    else:  # pragma: no cover - validated before
        raise ValueError(method)
    return [[float(v) for v in row] for row in np.asarray(x, dtype=float)]


def analyse(
    method: str,
    names: list[str],
    bounds: list[tuple[float, float]],
    x: np.ndarray,
    y: np.ndarray,
    *,
    calc_second_order: bool = False,
    num_levels: int = 4,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Sensitivity indices of one output ``y`` (one value per point, in design order).

    Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (bootstrap intervals at ``conf_level``);
    Morris: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``. One entry per parameter.
    An output that is constant or not finite everywhere gives NaN indices.
    """
    y = np.asarray(y, dtype=float)
    prob = problem(names, bounds)
    d = len(names)
    if method == "sobol":
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    elif method == "morris":
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    else:
        raise ZonesimInputError(
            "sensitivity indices need a sobol or morris design",
            source="<study>",
            field="design.method",
            value=method,
        )
    if y.size == 0 or not np.all(np.isfinite(y)) or np.ptp(y) == 0:
        return {k: np.full(d, np.nan) for k in keys}
    # a Generator, not the int: SALib's Sobol analysis ignores a seed of 0 (``if seed:``)
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # near-constant outputs
        if method == "sobol":
            res = _salib("analyze.sobol").analyze(
                prob,
                y,
                calc_second_order=calc_second_order,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=rng,
            )
        else:
            res = _salib("analyze.morris").analyze(
                prob,
                np.asarray(x, dtype=float),
                y,
                num_resamples=num_resamples,
                conf_level=conf_level,
                num_levels=num_levels,
                seed=rng,
            )
    return {k: np.asarray(res[k], dtype=float) for k in keys}


def figure(table, method: str, metrics: list[str], policies: list[str]):
    """Bar charts of the indices: one panel per (metric, policy), one group of bars per
    parameter (Sobol: S1 and ST with their intervals; Morris: mu* with its interval and sigma).
    ``table`` is :func:`zonesim.runs.analyse`'s tidy table. Returns a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows, cols = len(metrics), len(policies)
    params = list(dict.fromkeys(table["parameter"]))
    height = max(2.2, 0.45 * len(params) + 1.2)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.8 * cols + 1.5, height * rows), squeeze=False, sharey=True
    )
    bar = 0.38
    ypos = np.arange(len(params))
    if method == "sobol":
        pairs = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST"))
    else:
        pairs = (("mu_star", "mu_star_conf", "mu*"), ("sigma", None, "sigma"))
    for i, metric in enumerate(metrics):
        for j, policy in enumerate(policies):
            ax = axes[i][j]
            sub = table[(table["metric"] == metric) & (table["policy"] == policy)]
            sub = sub.set_index("parameter").reindex(params)
            for k, (col, conf, label) in enumerate(pairs):
                vals = sub[col].to_numpy(dtype=float)
                err = None if conf is None else sub[conf].to_numpy(dtype=float)
                ax.barh(
                    ypos + (k - 0.5) * bar,
                    np.nan_to_num(vals),
                    height=bar,
                    xerr=None if err is None else np.nan_to_num(err),
                    capsize=2,
                    label=label,
                    color=("#3b75af", "#ef8636")[k],
                )
            if method == "sobol":
                ax.axvline(0, color="0.6", lw=0.8)
                ax.set_xlim(min(-0.05, ax.get_xlim()[0]), max(1.05, ax.get_xlim()[1]))
            ax.set_yticks(ypos, params, fontsize=8)
            ax.invert_yaxis()
            ax.set_title(f"{metric}\n{policy}", fontsize=9)
            ax.tick_params(axis="x", labelsize=8)
            if np.all(np.isnan(sub[pairs[0][0]].to_numpy(dtype=float))):
                ax.text(0.5, 0.5, "constant output", transform=ax.transAxes, ha="center")
    axes[0][-1].legend(fontsize=8, loc="lower right")
    level = round(100 * table.attrs.get("conf_level", 0.95))
    title = (
        f"Sobol indices ({level}% bootstrap intervals)"
        if method == "sobol"
        else f"Morris screening (mu* with {level}% intervals)"
    )
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
