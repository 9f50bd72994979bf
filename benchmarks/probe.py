"""The limit probe: the least a daily agent-based step can cost in numba on this machine.

One hazard (death, 1% a year) for every patient every day, drawn with the engine's own
counter-based hash (SplitMix64 of seed, patient, day, purpose), on a byte of state per patient:
touching every patient every day cannot be cheaper than this. The engine's patient-days per
second are reported as a ratio of this figure, measured in the same run.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from zonesim.core.streams import PURPOSE_DAILY, draw_u32, seed_key

ALIVE, DEAD = 0, 1


@njit(cache=True, nogil=True)
def one_hazard_days(alive, seed, first_day, n_days, threshold):
    """Advance ``alive`` (0 alive, 1 dead) by ``n_days``; return the patient-days simulated."""
    key = seed_key(seed)
    n = alive.shape[0]
    patient_days = 0
    for day in range(first_day, first_day + n_days):
        for i in range(n):
            if alive[i] == ALIVE:
                patient_days += 1
                if draw_u32(key, i, day, PURPOSE_DAILY) < threshold:
                    alive[i] = DEAD
    return patient_days


def run_probe(n_patients: int = 100_000, days: int = 3650, seed: int = 1) -> dict:
    """Patient-days per second of the one-hazard loop over ``n_patients`` for ``days``."""
    threshold = np.uint32(0.01 / 365.0 * 2.0**32)
    alive = np.zeros(n_patients, dtype=np.uint8)
    one_hazard_days(alive.copy(), np.uint64(seed), 0, 1, threshold)  # compile / load
    t0 = time.perf_counter()
    pd = one_hazard_days(alive, np.uint64(seed), 0, days, threshold)
    wall = time.perf_counter() - t0
    return {
        "patients": n_patients,
        "days": days,
        "patient_days": int(pd),
        "wall_s": wall,
        "patient_days_per_s": pd / wall,
    }
