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

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from .case_management import case_manager_allocation
from .demography import recount, renewal
from .events import handle_event, patient_events
from .gatekeeper import gatekeeper
from .hospital import secondary_care
from .state import AGE_BAND_DAYS, DECEASED, N_AGE_BANDS, N_DISCIPLINES, N_EVENTS
from .streams import PURPOSE_DAILY, draw_u32, seed_key
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


@njit(cache=True, _nrt=False)
def _collect_slow(st, thr, z, day, key, slow):
    """The fast path of zone z's patient pass, without acting: the living patients whose daily
    draw falls under their class's threshold go to ``slow[first_patient:first_patient + n]``;
    returns n. Reads only (a patient's class changes only through its own event, and entrants
    arrive after the pass), so zones can do this at once."""
    pat = st.pat
    zr = st.zone[z]
    t = thr[z]
    base = zr.first_patient
    n = 0
    for i in range(zr.first_patient, zr.next_free):
        sit = pat.situation[i]
        if sit >= DECEASED:
            continue
        band = min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1)
        u = draw_u32(key, i, day, PURPOSE_DAILY)
        if u >= t[sit, band, pat.need[i], pat.literacy[i], pat.ses[i], pat.propensity[i]]:
            continue
        slow[base + n] = i
        n += 1
    return n


@njit(cache=True, _nrt=False)
def _slow_events(st, p, z, day, key, probs, slow, n):
    """The slow path of zone z's patient pass: the collected patients' events, in slot order
    (exactly the calls patient_events makes)."""
    pat = st.pat
    base = st.zone[z].first_patient
    for s in range(n):
        i = slow[base + s]
        band = min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1)
        u = draw_u32(key, i, day, PURPOSE_DAILY)
        handle_event(st, p, z, i, day, key, u, band, probs)


@njit(cache=True, nogil=True, _nrt=False)
def _zones_morning(st, prm, thr, day, key, slow, nslow, zones):
    """Zone-local (one worker's zones): recount, start of day, the patient pass's fast path."""
    for zz in range(zones.shape[0]):
        z = zones[zz]
        if day % RECOUNT_EVERY == 0:
            recount(st, prm[z], z, day)
        start_of_day(st, prm[z], z)
        nslow[z] = _collect_slow(st, thr, z, day, key, slow)


@njit(cache=True, nogil=True, _nrt=False)
def _zones_evening(st, prm, day, key, zwork, zones):
    """Zone-local (one worker's zones): processes 7-9 and the day's accumulators, each zone
    with its own scratch."""
    for zz in range(zones.shape[0]):
        z = zones[zz]
        caregivers(st, prm[z], z, day, key)
        switch_moments(st, prm[z], z, day, key)
        case_manager_allocation(st, prm[z], z, day)
        workforce(st, prm[z], z, day, key, zwork[z])
        _end_of_day(st, z)


@njit(cache=True, nogil=True, _nrt=False)
def _region_middle(st, prm, day, key, probs, work, slow, nslow):
    """Serial, in zone order: everything that touches the shared lists (slow-path events,
    entrants, the gatekeeper, secondary care), in the same order as simulate_day."""
    nz = st.zone.shape[0]
    for z in range(nz):
        _slow_events(st, prm[z], z, day, key, probs, slow, nslow[z])  # 1-4
        renewal(st, prm[z], z, day, key)  # 1: entrants
    for z in range(nz):
        gatekeeper(st, prm[z], z, day, key, work)  # 5
    secondary_care(st, prm, day, key)  # 6


@njit(cache=True, nogil=True)  # releases the GIL: two models can run in two threads
def _simulate(st, prm, thr, seed, n_days):
    key = seed_key(seed)
    probs = np.zeros(N_EVENTS)
    nz = st.zone.shape[0]
    width = N_DISCIPLINES
    for z in range(nz):
        width = max(width, st.zone[z].end_practice - st.zone[z].first_practice)
    work = np.zeros((6, width))  # scratch of gatekeeper (practices) and workforce (disciplines)
    first = st.day[0]
    for day in range(first, first + n_days):
        simulate_day(st, prm, thr, day, key, probs, work)
    st.day[0] = first + n_days


def _chunks(st, n_threads: int) -> list[np.ndarray]:
    """Zones dealt to workers, largest first to the least loaded (by patient slots)."""
    size = st.zone["end_patient"] - st.zone["first_patient"]
    load = [0] * n_threads
    parts: list[list[int]] = [[] for _ in range(n_threads)]
    for z in np.argsort(-size, kind="stable"):
        w = load.index(min(load))
        parts[w].append(int(z))
        load[w] += int(size[z])
    return [np.array(sorted(p), dtype=np.int64) for p in parts if p]


def _simulate_zones_parallel(st, prm, thr, seed, n_days, n_threads):
    """The same days as _simulate, the zone-local phases on ``n_threads`` threads.

    Per day: (1) in parallel, each zone's recount, start of day and the fast path of its
    patient pass (which only reads); (2) serially, in zone order, everything that may touch the
    region's shared lists: the slow-path events, entrants, the gatekeeper, secondary care;
    (3) in parallel, each zone's processes 7-9 and accumulators. Each parallel phase writes only
    its zone's data, so the result is that of _simulate, bit for bit, for any thread count."""
    key = np.uint64(seed_key(seed))  # a Python int from Python: keep numba's uint64 arithmetic
    nz = st.zone.shape[0]
    probs = np.zeros(N_EVENTS)
    width = max(N_DISCIPLINES, int(np.max(st.zone["end_practice"] - st.zone["first_practice"])))
    work = np.zeros((6, width))
    zwork = np.zeros((nz, 6, N_DISCIPLINES))
    slow = np.zeros(st.pat.situation.shape[0], dtype=np.int32)
    nslow = np.zeros(nz, dtype=np.int64)
    chunks = _chunks(st, n_threads)
    first = int(st.day[0])
    with ThreadPoolExecutor(len(chunks)) as pool:
        for day in range(first, first + n_days):
            d = np.int64(day)
            jobs = [
                pool.submit(_zones_morning, st, prm, thr, d, key, slow, nslow, c) for c in chunks
            ]
            for j in jobs:
                j.result()
            _region_middle(st, prm, d, key, probs, work, slow, nslow)
            jobs = [pool.submit(_zones_evening, st, prm, d, key, zwork, c) for c in chunks]
            for j in jobs:
                j.result()
    st.day[0] = first + n_days


def simulate(state, prm, tables, seed: int, n_days: int) -> None:
    """Advance ``state`` by ``n_days`` days (in place)."""
    if n_days <= 0:
        return
    # Record arrays as np.recarray views: attribute access (acc[z].deaths) then works both in
    # compiled kernels and in plain Python (NUMBA_DISABLE_JIT=1, used by the coverage tests).
    st = state._replace(zone=state.zone.view(np.recarray), acc=state.acc.view(np.recarray))
    prm = prm.view(np.recarray)
    threads = min(numba.get_num_threads(), state.zone.shape[0])
    if threads <= 1:  # one zone (or one thread): the plain serial path
        _simulate(st, prm, tables.thr_total, np.uint64(seed), np.int64(n_days))
    else:
        _simulate_zones_parallel(st, prm, tables.thr_total, np.uint64(seed), n_days, threads)
