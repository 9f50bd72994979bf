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
        "within tolerance for every published figure, in three kinds: inputs (the figure "
        "also sets a parameter), fitting targets (parameters were tuned to reach them) and "
        "hold-out targets (never used in fitting: the validation).",
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
    print("\n" + verdict(df), file=sys.stderr)
    return 0


def verdict(df) -> str:
    """One line per kind: inputs arrive, fitting targets hold, hold-outs within or missed.

    Only hold-outs count as validation; inputs and fitting targets are reported apart."""
    from ..calibration import FIT, HOLDOUT, INPUT

    def count(kind: str) -> tuple[int, int]:
        part = df[df["kind"] == kind]
        return int(part["within"].sum()), len(part)

    i_ok, i_n = count(INPUT)
    f_ok, f_n = count(FIT)
    h_ok, h_n = count(HOLDOUT)
    missed = h_n - h_ok
    explained = int(
        ((df["kind"] == HOLDOUT) & ~df["within"] & (df["miss"] != "no reason recorded yet")).sum()
    )
    return (
        f"hold-out targets (validation): {h_ok} of {h_n} within tolerance"
        + (f", {missed} missed ({explained} with a recorded reason)" if missed else "")
        + f"; fitting targets: {f_ok} of {f_n} within tolerance; inputs: {i_ok} of {i_n} "
        "reproduced (not validation)"
    )


def _target_text(r) -> str:
    from ..calibration import describe_target

    return describe_target(r.target, r.tolerance, r.sense)


def _fmt(x: float) -> str:
    from ..calibration import fmt_value

    return fmt_value(x)


def _sections(df):
    from ..calibration import KIND_TITLES, KINDS

    for kind in KINDS:
        part = df[df["kind"] == kind]
        if len(part):
            yield kind, KIND_TITLES[kind], part


def to_table(df) -> str:
    lines: list[str] = []
    for _, title, part in _sections(df):
        if lines:
            lines.append("")
        lines += [title, f"{'metric':40} {'target':>14} {'simulated':>10}  ok   source"]
        for r in part.itertuples():
            ok = "yes" if r.within else "NO"
            lines.append(
                f"{r.metric:40} {_target_text(r):>14} {_fmt(r.simulated):>10}  {ok:4} {r.source}"
            )
            if not r.within and r.miss:
                lines.append(f"{'':40} miss: {r.miss}")
    return "\n".join(lines)


def to_markdown(df) -> str:
    lines: list[str] = []
    for kind, title, part in _sections(df):
        if lines:
            lines.append("")
        lines += [
            f"### {title}",
            "",
            "| metric | target | simulated | within | source |",
            "|---|---|---|---|---|",
        ]
        for r in part.itertuples():
            within = "yes" if r.within else ("**no**" if kind != "holdout" else "**missed**")
            lines.append(
                f"| `{r.metric}` | {_target_text(r)} | {_fmt(r.simulated)} | {within} | "
                f"{r.source} |"
            )
    return "\n".join(lines)
