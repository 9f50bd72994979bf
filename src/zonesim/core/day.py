"""One function that runs the days: the processes of MODEL.md section 3 in their order.

``simulate(state, prm, tables, seed, n_days)`` advances ``state`` by ``n_days`` whole days in one
call. It is a pure function of (state, parameters, seed, days): the same inputs give the same
bits, whatever else runs. Governance (process 10) acts between calls, from Python (the care
council in zonesim.model).

Speed: every kernel that allocates nothing is compiled with ``_nrt=False`` (no reference
counting). The state is one tuple of ~70 arrays; with numba's reference counting on, each call of
a process kernel (one per slow-path event) increfed and decrefed every array it touched, which
cost about 1-2 microseconds per call, more than the work. Only ``_simulate`` (which allocates
the day's scratch) and the table builder keep it. numba compiles a callee under its caller's
setting unless the callee sets its own, so a kernel called from a ``_nrt=False`` one must not
allocate: ``gatekeeper`` and ``workforce`` get scratch rows instead.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .case_management import case_manager_allocation
from .demography import recount, renewal
from .events import patient_events
from .gatekeeper import gatekeeper
from .hospital import secondary_care
from .state import N_DISCIPLINES, N_EVENTS
from .streams import seed_key
from .switching import caregivers, switch_moments
from .workforce import start_of_day, workforce

RECOUNT_EVERY = 30  # days between exact recounts of the zone aggregates


@njit(cache=True, _nrt=False)
def _end_of_day(st, z):
    """Daily accumulators: person-days and QALYs per equity group."""
    zr = st.zone[z]
    acc = st.acc[z]
    acc.days += 1.0
    for g in range(4):
        acc.person_days[g] += zr.alive_group[g]
        acc.qaly[g] += zr.utility_sum[g] / 365.0
    acc.person_days_65plus += zr.alive_65plus


@njit(cache=True, _nrt=False)
def simulate_day(st, prm, thr, day, key, probs, work):
    """One day of the region, processes 1-9 in MODEL.md's order."""
    nz = st.zone.shape[0]
    for z in range(nz):
        if day % RECOUNT_EVERY == 0:
            recount(st, prm[z], z, day)
        start_of_day(st, prm[z], z)
    for z in range(nz):
        patient_events(st, prm[z], thr, z, day, key, probs)  # 1-4: demography .. care seeking
        renewal(st, prm[z], z, day, key)  # 1: entrants
    for z in range(nz):
        gatekeeper(st, prm[z], z, day, key, work)  # 5
    secondary_care(st, prm, day, key)  # 6 (shared by the region)
    for z in range(nz):
        caregivers(st, prm[z], z, day, key)  # 7: caregivers' own switch moments
        switch_moments(st, prm[z], z, day, key)  # 7: re-arrangement
        case_manager_allocation(st, prm[z], z, day)  # 8
        workforce(st, prm[z], z, day, key, work)  # 9
        _end_of_day(st, z)


@njit(cache=True, nogil=True)  # releases the GIL: two models can run in two threads
def _simulate(st, prm, thr, seed, n_days):
    key = seed_key(seed)
    probs = np.zeros(N_EVENTS)
    width = N_DISCIPLINES
    for z in range(st.zone.shape[0]):
        width = max(width, st.zone[z].end_practice - st.zone[z].first_practice)
    work = np.zeros((6, width))  # scratch of gatekeeper (practices) and workforce (disciplines)
    first = st.day[0]
    for day in range(first, first + n_days):
        simulate_day(st, prm, thr, day, key, probs, work)
    st.day[0] = first + n_days


def simulate(state, prm, tables, seed: int, n_days: int) -> None:
    """Advance ``state`` by ``n_days`` days (in place)."""
    if n_days <= 0:
        return
    # Record arrays as np.recarray views: attribute access (acc[z].deaths) then works both in
    # compiled kernels and in plain Python (NUMBA_DISABLE_JIT=1, used by the coverage tests).
    st = state._replace(zone=state.zone.view(np.recarray), acc=state.acc.view(np.recarray))
    _simulate(st, prm.view(np.recarray), tables.thr_total, np.uint64(seed), np.int64(n_days))
