"""Where a zone's day goes: CPU seconds per phase of the day (``python -m benchmarks.phases``).

Runs one zone on one thread, phase by phase from Python (``zonesim.core.day.run_zones`` and
``region_step``, the kernels ``simulate`` runs in one compiled loop), and sums each call's CPU
time of this thread. Each call also pays numba's dispatch of the state's arrays (tens of
microseconds), so the figures add up to a little more than ``simulate`` takes; compare phases
and builds, not totals with ``python -m benchmarks``. To compare two commits, run this file's
copy in each checkout (each with its own ``NUMBA_CACHE_DIR``), alternately.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

PHASES = (
    "morning",
    "requests after the morning",
    "gatekeeper",
    "secondary care (region)",
    "evening",
    "requests after the evening",
)


def phase_seconds(population: int, days: int, seed: int = 1) -> np.ndarray:
    """CPU seconds of this thread per entry of :data:`PHASES` over ``days`` days."""
    from zonesim.core import day as D
    from zonesim.core.streams import seed_key

    from .run import _build, _zone_config

    st, prm, tab, _ = _build(_zone_config(population, days / 365 + 0.1))
    st = st._replace(zone=st.zone.view(np.recarray), acc=st.acc.view(np.recarray))
    prm = prm.view(np.recarray)
    probs, work = D._scratch(st)
    zones = np.arange(st.zone.shape[0], dtype=np.int64)
    key = np.uint64(seed_key(seed))
    out = np.zeros(2 * D.N_PHASES)
    clock = time.thread_time
    first = int(st.day[0])
    for day in range(first, first + days):
        d = np.int64(day)
        for ph in range(D.N_PHASES):
            c0 = clock()
            D.run_zones(ph, st, prm, tab.thr_total, d, key, probs, work, zones)
            c1 = clock()
            D.region_step(ph, st, prm, d, key)
            out[2 * ph] += c1 - c0
            out[2 * ph + 1] += clock() - c1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=110_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--rounds", type=int, default=2, help="best of this many (by total)")
    args = ap.parse_args(argv)
    phase_seconds(20_000, 30)  # compile (or load the cache) outside the timing
    best = None
    for _ in range(args.rounds):
        t = phase_seconds(args.population, args.days)
        best = t if best is None or t.sum() < best.sum() else best
    print(f"zone of {args.population:,} x {args.days} days, one thread, CPU seconds per phase:")
    for name, v in zip(PHASES, best, strict=True):
        print(f"  {name:28s} {v:7.3f}  ({v / best.sum():5.1%})")
    print(f"  {'total':28s} {best.sum():7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
