"""Sweep throughput: runs per minute on 1, 2 and all cores, and the parallel efficiency.

    python benchmarks/sweep_throughput.py                       # 1, 2 and all cores
    python benchmarks/sweep_throughput.py --cores 1,4,16 --runs-per-core 8 --json out.json

Each measurement is a fresh sweep of identical runs (one policy, no design parameters, replicates
only: every run simulates the same zone with its own seed, so the runs are equally long) through
a local Dask cluster of N single-threaded worker processes. The clock starts once the cluster is
up and every worker has loaded the numba kernels (what a long study amortises), and stops when
the last run's file is written; ``startup_s`` reports the cluster's own start. "sequential" is
the same sweep in this process, without Dask.

    efficiency(N) = rate(N) / (N * rate(1 worker))

Run it on an otherwise idle machine (and with NUMBA_CACHE_DIR set, so the kernels are compiled
once). The default run size (20,000 inhabitants, 30 days of warm-up and one measured year,
about 0.6 s per run) keeps the per-run overhead of Dask and of writing the Parquet file small next
to the simulation, as in real studies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def study(runs: int, population: int, years: float, warmup: int) -> dict:
    return {
        "name": "throughput",
        "policies": ["status_quo"],
        "replicates": runs,
        "years": years,
        "warmup_days": warmup,
        "population": population,
        "seed": 1,
        "outputs": {"timeseries": True},
    }


def measure(kind: str, workers: int, runs: int, args, root: Path) -> dict:
    from zonesim.executors import ExecutorSpec, open_executor
    from zonesim.runs.pipeline import load_results, sweep

    out = root / f"{kind}-{workers}"
    spec = ExecutorSpec(kind, workers=workers if kind == "local" else None)
    t0 = time.perf_counter()
    with open_executor(spec) as handle:
        if kind == "local":  # every worker has run the warm-up plugin: the kernels are loaded
            handle.client.wait_for_workers(workers)
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        summaries: list[dict] = []
        report = sweep(
            study(runs, args.population, args.years, args.warmup_days),
            executor=handle.executor,
            workers=handle.capacity,
            out=out,
            on_result=summaries.append,
        )
        wall = time.perf_counter() - t1
    assert report.complete and report.executed == runs, report
    sim = load_results(out, provenance=True)["run_seconds"]  # simulation time inside each run
    store = [s["total_seconds"] - s["seconds"] for s in summaries]  # writing its file, logging
    shutil.rmtree(out, ignore_errors=True)
    return {
        "executor": kind,
        "workers": workers,
        "runs": runs,
        "wall_s": round(wall, 3),
        "startup_s": round(startup, 3),
        "runs_per_min": round(runs / wall * 60, 2),
        "s_per_run": round(wall / runs, 4),
        "sim_s_per_run": round(float(sim.mean()), 4),
        "store_ms_per_run": round(1000 * sum(store) / len(store), 1),
        # share of the workers' time spent simulating (the rest: storing, scheduling, idling)
        "busy": round(float(sim.sum()) / (workers * wall), 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cores", default="1,2,all", help="worker counts, e.g. 1,2,4,all")
    p.add_argument("--runs-per-core", type=int, default=32, help="runs per worker (default 32)")
    p.add_argument("--population", type=int, default=20_000)
    p.add_argument("--years", type=float, default=1.0)
    p.add_argument("--warmup-days", type=int, default=30)
    p.add_argument("--no-sequential", action="store_true", help="skip the in-process baseline")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)

    all_cores = _cores()
    counts = []
    for item in args.cores.split(","):
        n = all_cores if item.strip() == "all" else int(item)
        if n not in counts:
            counts.append(n)
    if 1 not in counts:
        counts.insert(0, 1)  # the reference of the efficiency

    from zonesim.runs.simulate import warm_up

    warm_up()  # compile or load the kernels once, before any timing
    root = Path(tempfile.mkdtemp(prefix="zonesim-throughput-"))
    rows = []
    try:
        if not args.no_sequential:
            rows.append(measure("sequential", 1, max(4, args.runs_per_core), args, root))
            print(json.dumps(rows[-1]), file=sys.stderr)
        for n in counts:
            rows.append(measure("local", n, n * args.runs_per_core, args, root))
            print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = next(r["runs_per_min"] for r in rows if r["executor"] == "local" and r["workers"] == 1)
    for r in rows:
        r["efficiency"] = round(r["runs_per_min"] / (r["workers"] * base), 3)

    import platform

    header = (
        f"sweep throughput on {platform.node()} ({all_cores} cores, {platform.processor() or '?'})"
        f": {args.population:,} inhabitants, {args.warmup_days} days warm-up + "
        f"{args.years:g} year measured per run"
    )
    print(header)
    print(f"{'executor':<12}{'workers':>8}{'runs':>6}{'wall s':>9}{'runs/min':>10}"
          f"{'efficiency':>12}{'sim s/run':>11}{'store ms':>10}{'busy':>7}"
          f"{'startup s':>11}")  # fmt: skip
    for r in rows:
        print(
            f"{r['executor']:<12}{r['workers']:>8}{r['runs']:>6}{r['wall_s']:>9.1f}"
            f"{r['runs_per_min']:>10.1f}{r['efficiency']:>12.0%}{r['sim_s_per_run']:>11.3f}"
            f"{r['store_ms_per_run']:>10.1f}{r['busy']:>7.0%}{r['startup_s']:>11.1f}"
        )
    print(
        "efficiency: runs/min over workers x runs/min of 1 worker; sim s/run: the simulation "
        "inside a run (it grows when runs share memory bandwidth); store ms: writing a run's "
        "file and its log lines; busy: the workers' share of the wall time spent simulating "
        "(the rest: storing, scheduling, the driver's setup, idling at the end)"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"header": header, "cores": all_cores, "results": rows}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
