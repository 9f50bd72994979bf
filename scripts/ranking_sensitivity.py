"""Which flagged assumptions can change the ranking of the presets? (issue 18, item 3)

    zonesim sweep experiments/ranking_morris.toml --executor processes --workers 2
    python scripts/ranking_sensitivity.py morris   # -> docs/data/ranking_morris.csv,
                                                   #    experiments/ranking_sobol.toml
    zonesim sweep experiments/ranking_sobol.toml --executor processes --workers 2
    python scripts/ranking_sensitivity.py sobol    # -> docs/data/ranking_sobol.csv
    python scripts/ranking_sensitivity.py figure   # -> docs/img/ranking_sensitivity.png

At every design point of a study that runs every preset on the same seed, the presets are
ranked per aim by the aim's ranking metric (``zonesim.experiment.RANKING_METRICS``: 1 = best;
the equity gap ranks by its distance from 0), and each preset's paired difference from the
status quo is taken. Those are the outputs whose sensitivity indices are computed through
:func:`zonesim.sensitivity.analyse` (SALib): Morris's mu* of a preset's rank (the mean absolute
elementary effect, in places per whole range of the parameter: SALib scales each step's change
by the step's share of the range) and of its paired difference; then, for the few
parameters Morris ranks highest, Sobol's first-order and total indices of the paired
differences. docs/validation.md (scripts/gen_validation_md.py) reads the files written here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "data"
IMG = ROOT / "docs" / "img" / "ranking_sensitivity.png"
MORRIS_STUDY = ROOT / "experiments" / "ranking_morris.toml"
SOBOL_STUDY = ROOT / "experiments" / "ranking_sobol.toml"
BASELINE = "status_quo"
TOP = 4  # parameters Morris passes on to Sobol
SOBOL_POPULATION = 30_000  # the Sobol step's zone (see write_sobol_study)


def _study_folder(study: Path) -> Path:
    from zonesim.runs.pipeline import default_folder
    from zonesim.runs.study import load_study

    return default_folder(load_study(study))


def ranking_outputs(folder: Path):
    """Per design point: each preset's rank and paired difference from the status quo, per aim.

    Returns (x, names, bounds, meta, out): the design matrix in point order, the parameters,
    their bounds, the design's metadata and a DataFrame indexed by point with columns
    (aim, kind, policy), kind ``rank`` or ``diff``."""
    from zonesim.experiment import RANKING_METRICS
    from zonesim.runs.pipeline import DESIGN_FILE, _read_meta, load_results

    meta = _read_meta(folder / DESIGN_FILE)
    names = [p["key"] for p in meta["parameters"]]
    bounds = [tuple(p["bounds"]) for p in meta["parameters"]]
    manifest = pd.read_parquet(folder / DESIGN_FILE)
    x = manifest.drop_duplicates("point").sort_values("point")[names].to_numpy(dtype=float)
    res = load_results(folder)
    n_points = len(x)
    cols = {}
    for aim, (metric, better) in RANKING_METRICS.items():
        wide = res.pivot_table(index="point", columns="policy", values=metric, aggfunc="mean")
        wide = wide.reindex(range(n_points))
        if wide.isna().any().any():
            missing = int(wide.isna().any(axis=1).sum())
            raise SystemExit(f"{folder}: {missing} design points lack a result; rerun the sweep")
        key = {"higher": -wide, "lower": wide}.get(better, wide.abs())
        ranks = key.rank(axis=1, method="average")
        for pol in wide.columns:
            cols[(aim, "rank", pol)] = ranks[pol]
            if pol != BASELINE:
                cols[(aim, "diff", pol)] = wide[pol] - wide[BASELINE]
    out = pd.DataFrame(cols)
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["aim", "kind", "policy"])
    return x, names, bounds, meta, out


def indices(folder: Path, method: str) -> pd.DataFrame:
    """One row per (aim, kind, policy, parameter) with the method's indices."""
    from zonesim import sensitivity

    x, names, bounds, meta, out = ranking_outputs(folder)
    rows = []
    for (aim, kind, pol), y in out.items():
        res = sensitivity.analyse(
            method,
            names,
            bounds,
            x,
            y.to_numpy(dtype=float),
            calc_second_order=bool(meta.get("calc_second_order")),
            num_levels=int(meta.get("num_levels", 4)),
            seed=18,
        )
        yv = y.to_numpy(dtype=float)
        if np.all(np.isfinite(yv)) and np.ptp(yv) == 0:
            # a rank that never changes (a preset always last on an aim): no parameter moves
            # it, which is an index of 0, not an undefined one
            res = {k: np.zeros(len(names)) for k in res}
        scale = float(np.nanstd(yv))
        for j, name in enumerate(names):
            rows.append(
                {
                    "aim": aim,
                    "kind": kind,
                    "policy": pol,
                    "parameter": name,
                    "output_sd": scale,
                    **{k: float(v[j]) for k, v in res.items()},
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["points"] = len(x)
    return table


def chance_shares(folder: Path) -> pd.DataFrame:
    """How much of each preset's paired difference from the status quo, across the design
    points, is chance: per (aim, policy), the variance of the chance that differs from point to
    point, divided by the replicates (the noise left in the mean the indices are computed on),
    over the variance of that mean across points. Replicate r has the same seed at every point,
    so part of its luck is shared by all points and moves no index; what is left after taking
    out each point's mean and each replicate's mean (a two-way decomposition, residual degrees
    of freedom (points - 1) x (replicates - 1)) is the chance that does. Near 0: the
    parameters drive the differences; near 1: chance does, and no index can say which
    parameter matters. NaN with one replicate (chance cannot be told apart)."""
    from zonesim.experiment import RANKING_METRICS
    from zonesim.runs.pipeline import load_results

    res = load_results(folder)
    n_rep = int(res["replicate"].nunique())
    rows = []
    for aim, (metric, _better) in RANKING_METRICS.items():
        wide = res.pivot_table(
            index=["point", "replicate"], columns="policy", values=metric, aggfunc="mean"
        )
        for pol in wide.columns:
            if pol == BASELINE:
                continue
            d = (wide[pol] - wide[BASELINE]).unstack("replicate").to_numpy(dtype=float)
            n_pts = d.shape[0]
            between = float(np.var(d.mean(axis=1), ddof=1))
            if n_rep > 1 and n_pts > 1:
                resid = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0, keepdims=True) + d.mean()
                noise = float(np.sum(resid**2) / ((n_pts - 1) * (n_rep - 1)))
                share = noise / n_rep / between if between > 0 else np.nan
            else:
                share = np.nan
            rows.append({"aim": aim, "policy": pol, "replicates": n_rep, "chance_share": share})
    return pd.DataFrame(rows)


def _short(name: str) -> str:
    return name.removeprefix("parameters.")


def morris(args) -> int:
    folder = args.folder or _study_folder(MORRIS_STUDY)
    table = indices(folder, "morris")
    DATA.mkdir(parents=True, exist_ok=True)
    table.to_csv(DATA / "ranking_morris.csv", index=False)
    # Rank the parameters by the largest mean mu* of the presets' ranks over the aims.
    rank = table[table["kind"] == "rank"]
    per_aim = rank.groupby(["aim", "parameter"])["mu_star"].mean().unstack("aim")
    order = per_aim.max(axis=1).sort_values(ascending=False)
    top = list(order.index[:TOP])
    chance = chance_shares(folder)
    chance.to_csv(DATA / "ranking_morris_chance.csv", index=False)
    summary = {
        "points": int(table.attrs["points"]),
        "replicates": int(chance["replicates"].iloc[0]),
        "folder": str(folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder),
        "top": top,
        "mean_rank_mu_star": {k: round(float(v), 4) for k, v in order.items()},
    }
    (DATA / "ranking_morris_summary.json").write_text(json.dumps(summary, indent=1))
    write_sobol_study(top)
    print(f"Morris over {summary['points']} points; top {TOP}: {', '.join(map(_short, top))}")
    print(per_aim.loc[order.index].round(3).to_string())
    return 0


def write_sobol_study(top: list[str]) -> None:
    """experiments/ranking_sobol.toml: the Morris study's settings, a Sobol design over ``top``
    (with the bounds of the Morris study)."""
    import tomllib

    morris_study = tomllib.loads(MORRIS_STUDY.read_text(encoding="utf-8"))
    bounds = morris_study["design"]["parameters"]
    n = 16  # Saltelli base samples: 16 x (4 + 2) points
    lines = [
        "# Sobol indices of the presets' paired differences from the status quo, over the few",
        "# flagged assumptions that Morris screening (experiments/ranking_morris.toml) ranks",
        "# highest. WRITTEN by `python scripts/ranking_sensitivity.py morris`; run it with",
        "#   zonesim sweep experiments/ranking_sobol.toml --executor processes --workers 2",
        "#   python scripts/ranking_sensitivity.py sobol",
        f"# Saltelli: n * (D + 2) = {n} * {len(top) + 2} = {n * (len(top) + 2)} points "
        f"x 7 presets x {int(morris_study.get('replicates', 1))} replicates, on a zone of "
        f"{max(int(morris_study['population']), SOBOL_POPULATION):,} inhabitants.",
        "",
        'name = "ranking_sobol"',
        'description = "Sobol indices of the assumptions Morris ranks highest, per preset and aim"',
    ]
    for key in ("scenario", "years", "warmup_days", "seed", "retries"):
        lines.append(f"{key} = {json.dumps(morris_study[key])}")
    # A larger zone than the screening's: at 10,000 inhabitants and 2 replicates the replicates'
    # chance is most of the variance of a preset's advantage across points (chance_shares), and
    # Sobol's indices would mostly apportion chance. Three times the zone, a third of the noise.
    lines.append(f"population = {max(int(morris_study['population']), SOBOL_POPULATION)}")
    lines.append("policies = [" + ", ".join(json.dumps(p) for p in morris_study["policies"]) + "]")
    lines.append(f"replicates = {int(morris_study.get('replicates', 1))}")
    lines += ["", "[design]", 'method = "sobol"', f"n = {n}", "seed = 18", ""]
    lines.append("[design.parameters]")
    for k in top:
        lines.append(f'"{k}" = {json.dumps(bounds[k])}')
    lines += ["", "[outputs]", "timeseries = false", "", "[executor]", 'kind = "processes"', ""]
    SOBOL_STUDY.write_text("\n".join(lines), encoding="utf-8")


def sobol(args) -> int:
    folder = args.folder or _study_folder(SOBOL_STUDY)
    table = indices(folder, "sobol")
    table = table[table["kind"] == "diff"]
    DATA.mkdir(parents=True, exist_ok=True)
    table.to_csv(DATA / "ranking_sobol.csv", index=False)
    chance_shares(folder).to_csv(DATA / "ranking_sobol_chance.csv", index=False)
    print(table.groupby(["aim", "parameter"])[["S1", "ST"]].mean().round(3).to_string())
    return 0


def figure(args) -> int:
    """Per aim: mu* of each preset's rank for every parameter (a heat map), and, where the
    Sobol study ran, the mean total index of the paired differences of the top parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zonesim.experiment import RANKING_METRICS

    table = pd.read_csv(DATA / "ranking_morris.csv")
    rank = table[table["kind"] == "rank"]
    aims = list(RANKING_METRICS)
    params = list(dict.fromkeys(rank["parameter"]))
    order = rank.groupby("parameter")["mu_star"].mean().reindex(params).sort_values().index
    policies = list(dict.fromkeys(rank["policy"]))
    vmax = float(rank["mu_star"].max())
    fig, axes = plt.subplots(1, len(aims), figsize=(3.0 * len(aims) + 2, 0.32 * len(params) + 2.4))
    for ax, aim in zip(axes, aims, strict=True):
        sub = rank[rank["aim"] == aim].pivot(index="parameter", columns="policy", values="mu_star")
        sub = sub.reindex(index=order, columns=policies)
        im = ax.imshow(sub.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=vmax)
        ax.set_title(f"{aim.replace('_', ' ')}\n({RANKING_METRICS[aim][0]})", fontsize=8)
        ax.set_xticks(range(len(policies)), policies, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(order)), [_short(p) for p in order] if ax is axes[0] else [])
        ax.tick_params(axis="y", labelsize=7)
    cb = fig.colorbar(im, ax=axes, shrink=0.8)
    cb.set_label("Morris mu* of the preset's rank (places over the parameter's range)", fontsize=8)
    fig.suptitle(
        "Which assumptions move the ranking of the presets (rank 1-7 per aim; Morris screening)",
        fontsize=10,
    )
    IMG.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(IMG, dpi=110, bbox_inches="tight")
    print(f"wrote {IMG}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=("morris", "sobol", "figure"))
    ap.add_argument("--folder", type=Path, default=None, help="the sweep's results folder")
    args = ap.parse_args(argv)
    return {"morris": morris, "sobol": sobol, "figure": figure}[args.step](args)


if __name__ == "__main__":
    sys.exit(main())
