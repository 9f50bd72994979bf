"""``zonesim calibrate``: the default scenario against the published figures."""

from __future__ import annotations

import json
import sys

from . import add_config_options


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="compare the default scenario with published figures",
        description="Run the default zone (status quo, after a warm-up) and "
        "print target, source, simulated value and whether it is "
        "within tolerance, for every figure of MODEL.md section 6.",
    )
    add_config_options(p)
    p.add_argument("--seed", type=int, default=2020, help="random seed (default 2020)")
    p.add_argument("--years", type=float, default=1.0, help="measured years (default 1)")
    p.add_argument("--population", type=int, default=None, help="override zone.population")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..calibration import calibrate
    from ..config import load_config
    from ..errors import ZonesimInputError

    if args.years <= 0:
        raise ZonesimInputError(
            "expected a positive number of years",
            source="<argument>",
            field="--years",
            value=args.years,
        )
    cfg = load_config(args.config, args.override, scenario=args.scenario)
    df = calibrate(cfg, seed=args.seed, years=args.years, population=args.population)
    if args.format == "json":
        json.dump(df.to_dict(orient="records"), sys.stdout, indent=2)
        print()
    elif args.format == "markdown":
        print(to_markdown(df))
    else:
        print(to_table(df))
    n_ok = int(df["within"].sum())
    print(f"\n{n_ok} of {len(df)} targets within tolerance", file=sys.stderr)
    return 0


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def to_table(df) -> str:
    lines = [f"{'metric':34} {'target':>10} {'tol':>8} {'simulated':>10}  ok   source"]
    for r in df.itertuples():
        ok = "yes" if r.within else "NO"
        lines.append(
            f"{r.metric:34} {_fmt(r.target):>10} {_fmt(r.tolerance):>8} "
            f"{_fmt(r.simulated):>10}  {ok:4} {r.source}"
        )
    return "\n".join(lines)


def to_markdown(df) -> str:
    lines = [
        "| metric | target | tolerance | simulated | within | source |",
        "|---|---|---|---|---|---|",
    ]
    for r in df.itertuples():
        lines.append(
            f"| `{r.metric}` | {_fmt(r.target)} | ±{_fmt(r.tolerance)} | "
            f"{_fmt(r.simulated)} | {'yes' if r.within else '**no**'} | {r.source} |"
        )
    return "\n".join(lines)
