"""``zonesim analyse``: Sobol indices or Morris measures of a finished sweep, through SALib.

    zonesim analyse results/sweeps/sobol_small
    zonesim analyse results/sweeps/sobol_small -m qalys_per_capita -m cost_per_capita_eur

Prints the indices of the chosen metrics (Sobol: first-order S1 and total ST with their bootstrap
intervals; Morris: mu*, its interval, sigma) and writes, into the folder (or ``--out``),
``sensitivity.csv`` (every metric) and ``sensitivity.png`` (bars of the chosen metrics).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import uuid
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "analyse",
        help="Sobol / Morris sensitivity indices of a sweep's results (SALib), with a figure",
        description=(
            "Compute Sobol indices (first order S1 and total ST, with bootstrap intervals) or "
            "Morris measures (mu, mu*, sigma) of every scorecard metric of a finished Sobol or "
            "Morris sweep, per policy, through SALib; the output of a design point is the mean "
            "over its replicates. Prints the chosen metrics, writes sensitivity.csv (all "
            "metrics) and sensitivity.png (the chosen ones)."
        ),
    )
    p.add_argument("folder", metavar="DIR", help="a sweep's results folder")
    p.add_argument(
        "--metric",
        "-m",
        action="append",
        default=None,
        metavar="M",
        help="a metric to print and plot (repeatable; default: the study's [analysis] metrics, "
        "else qalys_per_capita, cost_per_capita_eur, unmet_need_days_per_1000)",
    )
    p.add_argument(
        "--policy",
        "-p",
        action="append",
        default=None,
        metavar="P",
        help="a policy to analyse (repeatable; default: all)",
    )
    p.add_argument("--resamples", type=int, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="bootstrap seed (default 0)")
    p.add_argument(
        "--out", metavar="DIR", default=None, help="where to write the files (default: DIR)"
    )
    p.add_argument(
        "--format", "-f", choices=["table", "json"], default="table", help="what to print"
    )
    p.add_argument("--no-figure", action="store_true", help="do not draw sensitivity.png")
    p.set_defaults(func=run)


def _fmt(v: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"


def table_text(table, metrics: list[str]) -> str:
    """The indices of ``metrics`` as text: one block per metric and policy."""
    method = table.attrs.get("method", "sobol")
    level = round(100 * table.attrs.get("conf_level", 0.95))
    lines = []
    if method == "sobol":
        lines.append(
            f"Sobol indices, {table.attrs.get('points', '?')} design points "
            f"(S1 first order, ST total; +- half-width of the {level}% bootstrap interval)"
        )
    else:
        lines.append(
            f"Morris screening, {table.attrs.get('points', '?')} design points "
            f"(mu* mean absolute elementary effect +- {level}% interval; sigma its spread)"
        )
    width = max(len(p) for p in table["parameter"].unique()) + 2
    for m in metrics:
        for pol in table.attrs.get("policies", list(dict.fromkeys(table["policy"]))):
            sub = table[(table["metric"] == m) & (table["policy"] == pol)]
            if sub.empty:
                continue
            lines.append("")
            lines.append(f"{m}  [{pol}]")
            if method == "sobol":
                lines.append(f"  {'parameter':<{width}}{'S1':>16}{'ST':>16}")
                for _, r in sub.iterrows():
                    s1 = f"{_fmt(r['S1'])} +- {_fmt(r['S1_conf'])}"
                    st = f"{_fmt(r['ST'])} +- {_fmt(r['ST_conf'])}"
                    lines.append(f"  {r['parameter']:<{width}}{s1:>16}{st:>16}")
            else:
                lines.append(f"  {'parameter':<{width}}{'mu*':>22}{'mu':>12}{'sigma':>12}")
                for _, r in sub.iterrows():
                    ms = f"{_fmt(r['mu_star'], 4)} +- {_fmt(r['mu_star_conf'], 4)}"
                    lines.append(
                        f"  {r['parameter']:<{width}}{ms:>22}{_fmt(r['mu'], 4):>12}"
                        f"{_fmt(r['sigma'], 4):>12}"
                    )
            if sub.iloc[:, 3:].isna().all().all():
                lines.append("  (the output is constant or undefined over the design)")
    return "\n".join(lines)


def _atomic(path: Path, write) -> None:
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    from ..errors import ZonesimInputError
    from ..runs.pipeline import analyse
    from ..sensitivity import figure

    if args.resamples is not None and args.resamples < 10:
        raise ZonesimInputError(
            "expected at least 10 resamples",
            source="<argument>",
            field="--resamples",
            value=args.resamples,
        )
    folder = Path(args.folder)
    table = analyse(folder, policies=args.policy, num_resamples=args.resamples, seed=args.seed)
    available = list(dict.fromkeys(table["metric"]))
    if args.metric:
        for m in args.metric:
            if m not in available:
                raise ZonesimInputError(
                    f"unknown metric; expected one of: {', '.join(available)}",
                    source="<argument>",
                    field="--metric",
                    value=m,
                )
        chosen = list(args.metric)
    else:
        chosen = [m for m in table.attrs["default_metrics"] if m in available] or available[:3]
    out = Path(args.out) if args.out else folder
    out.mkdir(parents=True, exist_ok=True)
    _atomic(out / "sensitivity.csv", lambda p: table.to_csv(p, index=False))
    written = [out / "sensitivity.csv"]
    if not args.no_figure:
        import matplotlib.pyplot as plt

        fig = figure(table, table.attrs["method"], chosen, table.attrs["policies"])
        _atomic(out / "sensitivity.png", lambda p: fig.savefig(p, dpi=110, format="png"))
        plt.close(fig)
        written.append(out / "sensitivity.png")
    if args.format == "json":
        sub = table[table["metric"].isin(chosen)]
        records = [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in sub.to_dict(orient="records")
        ]
        json.dump(
            {
                "method": table.attrs["method"],
                "conf_level": table.attrs["conf_level"],
                "points": table.attrs["points"],
                "metrics": chosen,
                "indices": records,
                "files": [str(p) for p in written],
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write(table_text(table, chosen) + "\n")
    print(f"zonesim analyse: wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0
