"""``zonesim sweep``: run a study (a design over parameters x policies x replicates), resumably.

    zonesim sweep experiments/sobol_small.toml                   run it (the study's executor)
    zonesim sweep STUDY.toml --executor local --workers 8         a local Dask cluster
    zonesim sweep STUDY.toml --executor slurm --site mysite.toml  Dask on SLURM
    zonesim sweep STUDY.toml --executor tcp://host:8786           a running Dask scheduler
    zonesim sweep STUDY.toml --status                             done / failed / missing
    zonesim sweep STUDY.toml --compact                            merge the per-run files
    zonesim sweep STUDY.toml --dry-run                            check and describe, run nothing
    zonesim sweep STUDY.toml --psa-ranges docs/data/fit/fitted.json   draw the fitted parameters

Results go to ``results/sweeps/<name>/`` (or ``--out``), one Parquet file per run; rerunning
skips what is done. Exit codes: 0 every run done, 1 some runs failed after their retries (rerun
to retry them), 2 bad input (nothing run or written), 130 interrupted (Ctrl-C) and 143
terminated (SIGTERM): rerun to resume.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep study (grid, Latin hypercube, Sobol, Morris), resumably",
        description=(
            "Run every design point x policy x replicate of a study file (see "
            "experiments/sobol_small.toml and docs/sweeps.md) through an executor: in this "
            "process, a local Dask cluster, Dask on SLURM, or a running Dask scheduler. Each "
            "run writes one Parquet file; rerunning the same study skips finished runs. "
            "Replicate r has the same seed under every policy and design point (common random "
            "numbers)."
        ),
    )
    p.add_argument(
        "study",
        metavar="STUDY.toml",
        help="study file (with --status or --compact also a study's results folder)",
    )
    p.add_argument(
        "--executor",
        "-e",
        metavar="KIND|ADDRESS|PROFILE",
        default=None,
        help="sequential, local, slurm (with --site), a scheduler address tcp://host:port, or "
        "an executor profile (configs/executors/NAME.toml or a path); default: the study's "
        "[executor], else local",
    )
    p.add_argument(
        "--workers", "-w", type=int, metavar="N", help="local worker processes (default: all cores)"
    )
    p.add_argument(
        "--site",
        metavar="NAME|FILE",
        default=None,
        help="SLURM site profile for --executor slurm (see configs/executors/slurm_example.toml)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="the study's results folder (default: results/sweeps/<name>/)",
    )
    p.add_argument(
        "--retries", type=int, metavar="N", help="extra attempts of a failing run (default 2)"
    )
    p.add_argument(
        "--psa-ranges",
        metavar="FILE",
        help="draw the parameters of a fitted-ranges file (zonesim calibrate --fit's "
        "fitted.json, or its folder) from its ranges, once per replicate; turns the study's "
        "PSA on (parameters its [psa] names keep their own distribution)",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--status", action="store_true", help="say how many runs are done, failed and missing"
    )
    what.add_argument(
        "--compact",
        action="store_true",
        help="merge the per-run files into results.parquet (loading and resuming still work)",
    )
    what.add_argument(
        "--dry-run",
        action="store_true",
        help="check the study and the executor and say what would run; run and write nothing",
    )
    what.add_argument(
        "--job-script",
        action="store_true",
        help="print the SLURM job script the slurm executor would submit, and stop",
    )
    p.add_argument("--format", "-f", choices=["text", "json"], default="text", help="what to print")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    bar.add_argument(
        "--progress", action="store_true", help="a progress bar even when stderr is no terminal"
    )
    p.set_defaults(func=run)


def _emit(args, doc: dict, text: str) -> None:
    if args.format == "json":
        json.dump(doc, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def run(args: argparse.Namespace) -> int:
    import importlib

    from ..errors import ZonesimInputError
    from ..executors import resolve_executor, slurm_job_script

    S = importlib.import_module("zonesim.runs.pipeline")

    target = Path(args.study)
    is_folder = target.is_dir()
    if is_folder and not (args.status or args.compact):
        raise ZonesimInputError(
            "expected a study TOML (a results folder works with --status and --compact)",
            source="<argument>",
            field="STUDY.toml",
            value=str(target),
        )
    if args.status:
        st = S.status(target, out=args.out)
        _emit(args, st.to_json(), st.text())
        return 0
    if args.compact:
        if is_folder:
            folder = target
        else:
            study = S.load_study(target)
            folder = Path(args.out) if args.out else S.default_folder(study)
        res = S.compact(folder)
        _emit(
            args,
            res,
            f"compacted {res['merged']} per-run file(s); {res['runs']} runs in {res['file']}",
        )
        return 0

    study = S.load_study(target)
    if args.psa_ranges is not None:
        import dataclasses

        from .compare import with_ranges

        study = dataclasses.replace(study, psa=with_ranges(study.psa, args.psa_ranges))
    spec = resolve_executor(
        args.executor, workers=args.workers, site=args.site, study=study.executor
    )
    if args.job_script:
        if spec.kind != "slurm":
            raise ZonesimInputError(
                "--job-script needs the slurm executor (--executor slurm --site ...)",
                source="<argument>",
                field="--executor",
                value=spec.kind,
            )
        S.resolve_study(study)  # the study must be valid too
        sys.stdout.write(slurm_job_script(spec).rstrip("\n") + "\n")
        return 0
    if args.dry_run:
        plan = S.resolve_study(study)
        folder = Path(args.out) if args.out else S.default_folder(study)
        st = S.status(study, out=folder) if folder.is_dir() else None
        done = st.done if st else 0
        doc = {
            "study": study.name,
            "runs": plan.n_runs,
            "points": len(plan.points),
            "policies": list(plan.policies),
            "replicates": study.replicates,
            "done": done,
            "to_run": plan.n_runs - done,
            "executor": spec.describe(),
            "folder": str(folder),
        }
        text = (
            f"{plan.describe()}\nexecutor: {spec.describe()}\nfolder: {folder}\n"
            f"{done} run(s) already done, {plan.n_runs - done} to run"
        )
        _emit(args, doc, text)
        return 0

    interactive = (sys.stderr.isatty() or args.progress) and not args.quiet
    if interactive:
        print(f"zonesim sweep: {spec.describe()}", file=sys.stderr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        report = S.sweep(
            study,
            executor=spec,
            out=args.out,
            retries=args.retries,
            progress=interactive,
        )
    for w in caught:  # one line each
        print(f"zonesim sweep: warning: {w.message}", file=sys.stderr)
    doc = {
        "folder": str(report.folder),
        "total": report.total,
        "done": report.done,
        "already_done": report.already_done,
        "executed": report.executed,
        "failed": report.failed,
        "missing": report.missing,
        "wall_s": round(report.wall_s, 3),
        "executor": report.executor,
        "failures": report.failures,
    }
    _emit(args, doc, f"zonesim sweep: {report}; results in {report.folder}/")
    if report.failed:
        print(
            f"zonesim sweep: {report.failed} run(s) failed after their retries; "
            f"`zonesim sweep {args.study} --status` lists them, a rerun retries them",
            file=sys.stderr,
        )
        return 1
    return 0
