"""``zonesim compare``: the main job, policies compared under common random numbers.

    zonesim compare                          the policy presets on the default zone, baseline
                                             scenario (the defaults of experiments/default.toml)
    zonesim compare study.toml               an experiment file (see experiments/README.md)
    zonesim compare --replicates 4 --policies status_quo,integrated -n 20000

    zonesim compare --from-checkpoint warm.npz   every replicate starts from a saved model
    zonesim compare --psa 16                     16 replicates, each with its own parameter draw
    zonesim compare --psa 16 --psa-ranges fit/fitted.json   fitted parameters from their ranges
    zonesim compare --fitted docs/data/fit/fitted.json       the fitted values as point estimate

Every replicate warms up once (under ``--warmup-policy``, default status_quo) and every policy is
branched from that state. Prints the comparison over the whole horizon, the differences by window
(year 1, year 5, the last year, the horizon) and a ranking summary per aim (a table, or JSON with
``--format json``), shows a progress bar on a terminal, and writes tables (CSV, Parquet), figures
(PNG), the resolved configuration and the provenance into ``results/<name>/`` (or ``--out``),
atomically. Each run's result is kept in ``<out>/study/`` as it completes: a comparison stopped
(Ctrl-C, SIGTERM, a crash) resumes when the same command is run again, running only what is
missing. Every input is checked before the first run: a bad one is a one-line error, exit code 2,
and no folder is created.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from . import add_config_options


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare policies under common random numbers (the main job)",
        description=(
            "Run one scenario under several policies with N replicates each, under common "
            "random numbers (replicate r has the same seed under every policy), and report "
            "every scorecard metric per policy with the paired difference against the baseline "
            "policy and its 95% interval (paired t; * marks significance after Holm's "
            "correction across policies). Without EXPERIMENT: the policy presets on the "
            "built-in default zone (experiments/default.toml documents these defaults). "
            "Overrides (-o) starting with 'policy.' set a lever of every policy, the others "
            "configuration values."
        ),
    )
    p.add_argument(
        "experiment",
        nargs="?",
        metavar="EXPERIMENT.toml",
        default=None,
        help="experiment file (default: the built-in main job)",
    )
    add_config_options(p)
    p.add_argument("--replicates", "-r", type=int, metavar="N", help="replicates per policy")
    p.add_argument("--years", "-y", type=float, metavar="Y", help="measured years per run")
    p.add_argument(
        "--policies",
        "-p",
        metavar="A,B,...",
        help="comma-separated presets or policy TOML files (default: all presets)",
    )
    p.add_argument("--baseline", "-b", metavar="P", help="the policy the others are compared with")
    p.add_argument(
        "--population", "-n", type=int, metavar="N", help="inhabitants (zone.population)"
    )
    p.add_argument("--seed", "-s", type=int, metavar="S", help="experiment seed")
    p.add_argument("--warmup-days", type=int, metavar="D", help="warm-up days before measuring")
    p.add_argument(
        "--warmup-policy",
        metavar="P",
        help="the policy every replicate warms up under before the policies branch "
        "(default: status_quo)",
    )
    p.add_argument(
        "--from-checkpoint",
        metavar="FILE",
        help="start every replicate from a saved model (zonesim run --save-checkpoint, "
        "ZoneModel.save) instead of a warm-up",
    )
    p.add_argument(
        "--psa",
        type=int,
        metavar="N",
        help="probabilistic sensitivity analysis: N replicates, each drawing the uncertain "
        "parameters once (the same draw for every policy)",
    )
    p.add_argument(
        "--psa-ranges",
        metavar="FILE",
        help="draw the parameters of a fitted-ranges file (zonesim calibrate --fit's "
        "fitted.json, or its folder) from its ranges; turns the PSA on",
    )
    p.add_argument(
        "--fitted",
        metavar="FILE",
        help="set the fitted values of a fit (zonesim calibrate --fit's fitted.json, or its "
        "folder) as the point estimate: applied like -o overrides, before any -o of yours",
    )
    p.add_argument(
        "--executor",
        "-e",
        metavar="KIND",
        help="where the runs execute: processes (default), sequential, local (Dask), slurm, "
        "a scheduler address or an executor profile",
    )
    p.add_argument(
        "--workers", "-w", type=int, metavar="N", help="parallel processes (default: all cores)"
    )
    p.add_argument("--name", metavar="NAME", help="experiment name (names the output folder)")
    p.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: results/<name>/)"
    )
    p.add_argument(
        "--format",
        "-f",
        choices=["table", "json"],
        default="table",
        help="what to print (default: table)",
    )
    p.add_argument("--no-figures", action="store_true", help="do not draw the PNG figures")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


# CLI option -> experiment field (the option's name is what an error message shows)
_OPTIONS = {
    "config": ("--config", "config"),
    "scenario": ("--scenario", "scenario"),
    "replicates": ("--replicates", "replicates"),
    "years": ("--years", "years"),
    "policies": ("--policies", "policies"),
    "baseline": ("--baseline", "baseline"),
    "population": ("--population", "population"),
    "seed": ("--seed", "seed"),
    "warmup_days": ("--warmup-days", "warmup_days"),
    "warmup_policy": ("--warmup-policy", "warmup_policy"),
    "from_checkpoint": ("--from-checkpoint", "checkpoint"),
    "executor": ("--executor", "executor"),
    "workers": ("--workers", "workers"),
    "name": ("--name", "name"),
}


def build_experiment(args: argparse.Namespace):
    """The experiment the command line asks for (file or defaults, then the options)."""
    from ..errors import ZonesimInputError
    from ..experiment import Experiment, load_experiment

    exp = Experiment() if args.experiment is None else load_experiment(args.experiment)
    for attr, (option, fld) in _OPTIONS.items():
        value = getattr(args, attr)
        if value is None:
            continue
        try:
            exp = exp.replace(**{fld: value})
        except ZonesimInputError as exc:  # name the option, not the field
            raise ZonesimInputError(
                exc.expected, source="<argument>", field=option, value=value
            ) from None
    if args.psa is not None:
        try:
            exp = exp.replace(replicates=args.psa)
        except ZonesimInputError as exc:
            raise ZonesimInputError(
                exc.expected, source="<argument>", field="--psa", value=args.psa
            ) from None
        if not exp.psa.enabled:
            exp = exp.replace(psa=True)
    if args.psa_ranges is not None:
        exp = exp.replace(psa=with_ranges(exp.psa, args.psa_ranges))
    if args.fitted is not None:
        exp = exp.replace(overrides=(*exp.overrides, *fitted_overrides(exp, args.fitted)))
    if args.override:
        exp = exp.replace(overrides=(*exp.overrides, *args.override))
    return exp


def fitted_overrides(exp, path: str) -> list[str]:
    """A fit's fitted values as ``key=value`` overrides (a list element sets its whole list,
    the other elements taken from the experiment's configuration)."""
    import json

    from ..config import load_config
    from ..errors import ZonesimInputError
    from ..fit import fitted_values
    from ..runs.psa import as_overrides

    try:
        values = fitted_values(path)
    except ZonesimInputError as exc:  # name the option
        raise ZonesimInputError(
            exc.expected, source="<argument>", field="--fitted", value=path
        ) from None
    except (OSError, KeyError, TypeError, ValueError):
        raise ZonesimInputError(
            "a fitted.json of zonesim calibrate --fit (or its folder)",
            source="<argument>",
            field="--fitted",
            value=path,
        ) from None
    base = load_config(exp.config) if exp.config is not None else load_config()
    return [f"{k}={json.dumps(v)}" for k, v in as_overrides(values, base).items()]


def with_ranges(psa, path: str):
    """``psa`` turned on with the parameters of a fitted-ranges file drawn from its ranges
    (the parameters ``psa`` names itself keep their own distribution)."""
    from ..runs.psa import PSA, read_ranges

    named = {u.key: u for u in read_ranges(path, "<argument>", "--psa-ranges")}
    named.update((u.key, u) for u in psa.parameters)
    return PSA(True, psa.assumptions, psa.spread, tuple(named.values()))


def run(args: argparse.Namespace) -> int:
    from ..experiment import run_plan

    exp = build_experiment(args)
    with warnings.catch_warnings(record=True) as caught:  # e.g. fewer workers, to fit memory
        warnings.simplefilter("always")
        plan = exp.resolve()  # everything loaded and checked: nothing runs or is written before
    for w in caught:
        print(f"zonesim compare: warning: {w.message}", file=sys.stderr)
    out = Path(args.out) if args.out else Path("results") / exp.name
    _check_output(out)
    interactive = sys.stderr.isatty() and not args.quiet
    if interactive:
        print(
            f"zonesim compare: {len(plan.policies)} policies x {len(plan.seeds)} replicates "
            f"= {plan.n_runs} runs on {plan.workers} worker(s), {plan.study.warmup_text()}",
            file=sys.stderr,
        )
    with warnings.catch_warnings(record=True) as caught:  # the default filters still apply
        result = run_plan(plan, progress=interactive, store=out / "study")
    for w in caught:  # one line each, not Python's two-line format pointing into zonesim
        print(f"zonesim compare: warning: {w.message}", file=sys.stderr)
    result.save(out, figures=not args.no_figures)
    if args.format == "json":
        doc = result.to_json()
        doc["output"] = str(out)
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(result.table() + "\n")
        if result.n_years:
            sys.stdout.write(result.windows_table() + "\n\n" + result.ranking_text() + "\n")
    resumed = f" ({result.resumed} resumed from {out}/study/)" if result.resumed else ""
    print(
        f"zonesim compare: {result.executed} runs in {result.wall_s:.1f} s{resumed}; "
        f"results in {out}/",
        file=sys.stderr,
    )
    return 0


def _check_output(out: Path) -> None:
    """The output folder can be written (checked before the runs, creating nothing)."""
    import os

    from ..errors import ZonesimInputError

    def bad(expected: str) -> ZonesimInputError:
        return ZonesimInputError(expected, source="<argument>", field="--out", value=str(out))

    if out.exists() and not out.is_dir():
        raise bad("expected a folder (or nothing) there")
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise bad(f"expected a folder path, but {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise bad(f"cannot write into {parent}")
