"""``zonesim calibrate``: the default scenario against the published figures; with ``--fit``,
estimate the flagged assumptions against the fitting targets (:mod:`zonesim.fit`).

    zonesim calibrate                                   inputs, fitting targets, hold-outs
    zonesim calibrate --fit                             the built-in fit (configs/fit/default.toml)
    zonesim calibrate --fit my_fit.toml --out results/fit/mine --workers 2
    zonesim calibrate --fit --executor local --workers 8   on a local Dask cluster
"""

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
    p.add_argument(
        "--years", type=float, default=None, help="measured years (default 1, or the fit's)"
    )
    p.add_argument("--population", type=int, default=None, help="override zone.population")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    f = p.add_argument_group("fit (needs the fit extra: pip install 'zonesim[fit]')")
    f.add_argument(
        "--fit",
        nargs="?",
        const="default",
        default=None,
        metavar="FILE",
        help="estimate the flagged assumptions of a fit file (default: configs/fit/default.toml) "
        "against the fitting targets with Optuna; reports the hold-outs apart; resumable",
    )
    f.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="the fit's folder (default results/fit/<fit file name>); rerun to resume",
    )
    f.add_argument("--trials", type=int, default=None, help="trials in all (default: the file's)")
    f.add_argument(
        "--executor",
        default="processes",
        metavar="KIND|PROFILE|ADDRESS",
        help="where the runs go: sequential, processes (default), local (Dask), slurm, an address",
    )
    f.add_argument("--workers", "-w", type=int, default=None, metavar="N", help="worker processes")
    f.add_argument("--site", default=None, help="SLURM site profile for --executor slurm")
    f.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        metavar="M",
        help="ask no new trial after M minutes (the fit is written; rerun to go on)",
    )
    f.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..calibration import calibrate
    from ..config import load_config
    from ..errors import ZonesimInputError

    if args.years is not None and args.years <= 0:
        raise ZonesimInputError(
            "expected a positive number of years",
            source="<argument>",
            field="--years",
            value=args.years,
        )
    if args.population is not None and args.population <= 0:
        raise ZonesimInputError(
            "expected a positive number of inhabitants",
            source="<argument>",
            field="--population",
            value=args.population,
        )
    cfg = load_config(args.config, args.override, scenario=args.scenario)
    if args.fit is not None:
        return run_fit(args, cfg)
    years = 1.0 if args.years is None else args.years
    df = calibrate(cfg, seed=args.seed, years=years, population=args.population)
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


def run_fit(args, cfg) -> int:
    """``--fit``: check everything, then run or resume the fit and print its report."""
    from pathlib import Path

    from ..errors import ZonesimInputError
    from ..executors import resolve_executor
    from ..fit import _optuna, check_folder, fit, load_spec

    if args.trials is not None and args.trials < 1:
        raise ZonesimInputError(
            "expected at least 1 trial", source="<argument>", field="--trials", value=args.trials
        )
    spec = load_spec(args.fit, trials=args.trials, years=args.years, population=args.population)
    ex = resolve_executor(args.executor, workers=args.workers, site=args.site)
    _optuna()
    out = Path(args.out) if args.out else Path("results/fit") / Path(spec.source).stem
    check_folder(spec, out)
    print(
        f"fit: {len(spec.parameters)} parameters, {len(spec.fitting_targets())} fitting targets, "
        f"{spec.trials} trials x {len(spec.seeds)} seeds; {ex.describe()}; folder {out}",
        file=sys.stderr,
    )
    if args.max_minutes is not None and not args.max_minutes > 0:
        raise ZonesimInputError(
            "expected a positive number of minutes",
            source="<argument>",
            field="--max-minutes",
            value=args.max_minutes,
        )
    res = fit(
        spec,
        out=out,
        config=cfg,
        executor=ex,
        progress=not args.no_progress,
        max_minutes=args.max_minutes,
    )
    if args.format == "json":
        json.dump(json.loads((out / "fitted.json").read_text()), sys.stdout, indent=2)
        print()
    else:
        print(fit_report(res, markdown=args.format == "markdown"))
    print(
        f"\nfit: {len(res.trials)} of {spec.trials} trials"
        + ("" if len(res.trials) >= spec.trials else " (time limit: rerun to go on)")
        + f", best loss {res.loss:.3g} (seed-noise floor "
        f"{res.noise_floor:.2g}); {res.evaluated} runs in {res.seconds:.0f} s; "
        + verdict(res.targets),
        file=sys.stderr,
    )
    return 0


def fit_report(res, markdown: bool = False) -> str:
    """The fitted values with their plausible ranges, then every target at the fitted values
    (on the confirmation seeds), inputs, fitting targets and hold-outs apart."""
    lines = [
        "Fitted values (plausible range over trials meeting every fitting target; * = the "
        "fitting targets constrain it)",
        f"{'parameter':58} {'fitted':>10} {'range':>23}",
    ]
    for k, v in res.best.items():
        lo, hi = res.ranges[k]
        star = "*" if res.constrained[k] else " "
        lines.append(f"{k:58} {_fmt(v):>10} [{_fmt(lo):>9}, {_fmt(hi):>9}] {star}")
    lines.append("")
    body = to_markdown(res.targets) if markdown else to_table(res.targets)
    return "\n".join(lines) + "\n" + body
