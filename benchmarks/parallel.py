"""A region's parallel speed-up against an embarrassingly parallel numba loop, in the same run.

The 2-core machines here are shared and noisy: a plain parallel loop gets 1.1-1.7x on them, so
the region's speed-up is reported as a share of what such a loop gets in the same run:

* **probe**: the limit probe's one-hazard loop (benchmarks/probe.py) over the region's patients,
  split into the region's zones and dealt to threads as the engine deals them (largest zone
  first to the least loaded thread); each thread runs its zones for all days in one nogil call,
  so nothing is shared and nothing waits;
* **region**: the engine on the region with 1 thread (the compiled one-thread loop) and with
  ``threads`` threads, over the same days from the same state;
* **serial share**: the threaded loop on one worker, the wall time outside the zones' phases
  (the region's steps, i.e. the zones' requests and secondary care, and the Python round trips
  of three phases a day) as a share of its total; Amdahl's law then projects the day to 16 cores
  assuming the zones' phases scale perfectly.

``python -m benchmarks.parallel`` prints the figures as JSON (``--quick``: a smaller region).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numba import njit

from zonesim.core.streams import PURPOSE_DAILY, draw_u32, seed_key

ROOT = Path(__file__).resolve().parent.parent


@njit(cache=True, nogil=True)
def _probe_zones(alive, first, end, zones, seed, n_days, threshold):
    key = seed_key(seed)
    pd = 0
    for zz in range(zones.shape[0]):
        z = zones[zz]
        for day in range(n_days):
            for i in range(first[z], end[z]):
                if alive[i] == 0:
                    pd += 1
                    if draw_u32(key, i, day, PURPOSE_DAILY) < threshold:
                        alive[i] = 1
    return pd


def probe(first: np.ndarray, end: np.ndarray, chunks: list[np.ndarray], days: int) -> dict:
    """Patient-days per second of the probe over the zones ``first[z]:end[z]``, the zones dealt
    to ``len(chunks)`` threads."""
    threshold = np.uint32(0.01 / 365.0 * 2.0**32)
    alive = np.zeros(int(end.max()), dtype=np.uint8)
    _probe_zones(alive.copy(), first, end, chunks[0][:1], np.uint64(1), 1, threshold)  # compile
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(chunks)) as pool:
        jobs = [
            pool.submit(_probe_zones, alive, first, end, c, np.uint64(1), days, threshold)
            for c in chunks
        ]
        pd = sum(j.result() for j in jobs)
    wall = time.perf_counter() - t0
    return {"threads": len(chunks), "wall_s": wall, "patient_days_per_s": pd / wall}


def measure(total: int, days: int, threads: int = 2) -> dict:
    """The probe, the region and the serial share on a region of ``total`` inhabitants (the
    Flanders zoning of benchmarks/run.py)."""
    import numba

    from benchmarks.run import _build, _patient_days, _zone_config, flanders_zones
    from zonesim.core import day as D

    zones = flanders_zones(total)
    state, prm, tables, _build_s = _build(_zone_config(min(total, 1_000_000), 1.0), zones=zones)
    st = state._replace(zone=state.zone.view(np.recarray), acc=state.acc.view(np.recarray))
    first = np.asarray(state.zone["first_patient"], dtype=np.int64)
    end = np.asarray(state.zone["next_free"], dtype=np.int64)
    out: dict = {"inhabitants": total, "zones": state.n_zones, "days": days, "threads": threads}
    out["probe"] = {
        str(k): probe(first, end, D._chunks(state, k), days * 4) for k in sorted({1, threads})
    }
    p1, pk = (out["probe"][str(k)]["wall_s"] for k in (1, threads))
    out["probe_speedup"] = p1 / pk
    for k in sorted({1, threads}):  # load the kernels of both paths
        numba.set_num_threads(k)
        D.simulate(state.copy(), prm, tables, 1, 2)
    runs = {}
    for k in sorted({1, threads}):
        numba.set_num_threads(k)
        run = state.copy()
        before = _patient_days(run)
        t0 = time.perf_counter()
        D.simulate(run, prm, tables, 1, days)
        wall = time.perf_counter() - t0
        runs[str(k)] = {"wall_s": wall, "patient_days_per_s": (_patient_days(run) - before) / wall}
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    out["region"] = runs
    out["region_speedup"] = runs["1"]["wall_s"] / runs[str(threads)]["wall_s"]
    out["speedup_ratio_to_probe"] = out["region_speedup"] / out["probe_speedup"]
    if not hasattr(D, "_simulate_threads"):  # an engine from before issue 14
        return out
    # Serial share: the threaded loop on one worker.
    run = state.copy()
    st = run._replace(zone=run.zone.view(np.recarray), acc=run.acc.view(np.recarray))
    timings: dict = {}
    t0 = time.perf_counter()
    D._simulate_threads(st, prm.view(np.recarray), tables.thr_total, np.uint64(1), days, 1, timings)
    wall = time.perf_counter() - t0
    serial = (wall - timings["zones_s"]) / wall
    out["one_worker"] = {"wall_s": wall, **timings}
    out["serial_share"] = serial
    out["region_step_share"] = timings["region_s"] / wall
    per_day = wall / days
    out["projected_day_16_cores_s"] = per_day * (serial + (1.0 - serial) / 16)
    out["projected_10y_16_cores_s"] = out["projected_day_16_cores_s"] * 3650
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.parallel", description=__doc__)
    ap.add_argument("--total", type=int, default=1_000_000, help="inhabitants of the region")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    print(json.dumps(measure(args.total, args.days, args.threads), indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
