"""The day, written once: the processes of MODEL.md section 3 in their order, for a region.

``simulate(state, prm, tables, seed, n_days)`` advances ``state`` by ``n_days`` whole days in one
call. It is a pure function of (state, parameters, seed, days): the same inputs give the same
bits, whatever else runs and whatever the number of threads. Governance (process 10) acts
between calls, from Python (the care council in zonesim.model).

A single zone is a region of one. A day is the fixed sequence of phases in :func:`zone_phase`,
each run over the zones (:func:`run_zones`) and followed by the region's own step
(:func:`region_step`):

- ``MORNING``: the zone's recount and capacity (processes 9 and 1), its patients' daily events
  (1-4) and its entrants (1);
- ``GATEKEEPER``: the GP as gatekeeper (5); then the region's secondary care (6);
- ``EVENING``: caregivers and switch moments (7), case-manager allocation (8), workforce (9) and
  the day's accumulators.

A zone's phase writes only its own zone's data. What the zones share (the specialist waiting
list and the hospital list) it changes only through requests filed in its own buffer, which
:func:`region_step` carries out once per phase in zone order (core/hospital.py). So the zones of
a phase may run on any number of threads in any order: with one thread, :func:`_simulate` runs
the days in one compiled loop; with more, :func:`_simulate_threads` runs each phase's zones on a
pool of threads (numba kernels release the GIL) and the region's step between phases. Both loop
over the same phases; neither knows what a phase does.

A process takes only what it uses: :func:`zone_phase` and :func:`region_step` unpack the state
once and pass each process kernel the parts it reads and writes (patients, caregivers, providers,
practices, the zone and accumulator records, and the lists as their own types: ``GpQueues``,
``SpecialistList``, ``HospitalList``, the episode list, ``CmQueues``, ``Requests``; see
core/state.py), never the whole State, so an array added for one process does not reach the
others' calls (benchmarks/extra_field.py).

Speed: every kernel that allocates nothing is compiled with ``_nrt=False`` (no reference
counting). With numba's reference counting on, each call of a process kernel (one per slow-path
event) increfed and decrefed every array it was passed, which cost about 1-2 microseconds per
call, more than the work. Only the table builder keeps it (the day's scratch is allocated in
Python and passed in). numba compiles a callee under its caller's setting unless the callee sets
its own, so a kernel called from a ``_nrt=False`` one must not allocate: ``gatekeeper`` and
``workforce`` get scratch rows instead. The small kernels of the slow path are inlined
(``inline="always"``).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from .case_management import case_manager_allocation
from .demography import RECOUNT_EVERY, migration, recount, renewal
from .events import patient_events
from .gatekeeper import gatekeeper
from .hospital import apply_requests, secondary_care
from .need import age_care_gaps
from .state import (
    DAYS_PER_YEAR,
    N_DISCIPLINES,
    N_EVENTS,
    CmQueues,
    GpQueues,
    HospitalList,
    SpecialistList,
)
from .streams import seed_key
from .switching import caregivers, switch_moments
from .workforce import start_of_day, workforce

# The phases of a day, in order (see the module's docstring).
MORNING = 0
GATEKEEPER = 1
EVENING = 2
N_PHASES = 3
SCRATCH_ROWS = 6  # rows of a worker's scratch (gatekeeper: practices; workforce: disciplines)


@njit(cache=True, _nrt=False)
def _end_of_day(zones, accs, z):
    """Daily accumulators: person-days and QALYs per equity group."""
    zr = zones[z]
    acc = accs[z]
    acc.days += 1.0
    for g in range(4):
        acc.person_days[g] += zr.alive_group[g]
        acc.qaly[g] += zr.utility_sum[g] / DAYS_PER_YEAR
    acc.person_days_65plus += zr.alive_65plus


@njit(cache=True, nogil=True, _nrt=False)
def zone_phase(phase, st, p, thr, z, day, key, probs, work):
    """Phase ``phase`` of zone z's day (parameters ``p``): writes only zone z's data, and files
    requests for what it would change on the shared lists. The state is unpacked here, once:
    each process gets only the parts it reads and writes."""
    pat, cg, prov, prac = st.pat, st.cg, st.prov, st.prac
    zones, accs, episodes, req = st.zone, st.acc, st.episodes, st.req
    gpq = GpQueues(st.queue_pid, st.queue_day)
    cmq = CmQueues(st.cmq_pid, st.cmq_day)
    if phase == MORNING:
        if day % RECOUNT_EVERY == 0:
            recount(pat, zones, p, z, day)
            migration(pat, cg, prac, zones, accs, p, z, day, key)  # 1-2: migration, regression
            age_care_gaps(pat, zones, p, z)  # 2: care gaps close after GAP_MONTHS recounts
        start_of_day(prov, zones, p, z)  # 9: today's capacity
        patient_events(  # 1-4: demography .. care seeking
            pat, cg, prov, prac, gpq, zones, accs, episodes, cmq, req, p, thr, z, day, key, probs
        )
        renewal(pat, cg, prov, prac, zones, accs, p, z, day, key)  # 1: entrants
    elif phase == GATEKEEPER:
        gatekeeper(pat, prov, prac, gpq, zones, accs, req, p, z, day, key, work)  # 5
    else:
        caregivers(pat, cg, zones, accs, episodes, p, z, day, key)  # 7: caregivers' own
        switch_moments(pat, prov, prac, zones, accs, episodes, cmq, p, z, day, key)  # 7
        case_manager_allocation(pat, prov, zones, accs, cmq, p, z, day, key)  # 8
        workforce(pat, prov, prac, gpq, zones, accs, p, z, day, key, work)  # 9
        _end_of_day(zones, accs, z)


@njit(cache=True, nogil=True, _nrt=False)
def region_step(phase, st, prm, day, key):
    """After phase ``phase`` of every zone, serially: the zones' requests on the shared lists,
    in zone order; after the gatekeeper, the region's secondary care (6)."""
    pat, zones, accs, req = st.pat, st.zone, st.acc, st.req
    spec = SpecialistList(st.spec_due, st.spec_pid, st.spec_n)
    hosp = HospitalList(st.hosp_pid, st.hosp_until, st.hosp_n)
    apply_requests(pat, zones, accs, spec, hosp, req, prm, day, key)
    if phase == GATEKEEPER:
        secondary_care(pat, st.cg, st.prac, zones, accs, spec, hosp, st.episodes, prm, day, key)


@njit(cache=True, nogil=True, _nrt=False)
def run_zones(phase, st, prm, thr, day, key, probs, work, zones):
    """Phase ``phase`` for the zones ``zones`` (one worker's share), in their order."""
    for zz in range(zones.shape[0]):
        z = zones[zz]
        zone_phase(phase, st, prm[z], thr, z, day, key, probs, work)


@njit(cache=True, nogil=True, _nrt=False)  # releases the GIL: two models, two threads
def _simulate(st, prm, thr, seed, n_days, probs, work, zones):
    """The days on one thread: every phase over all zones, then the region's step."""
    key = seed_key(seed)
    first = st.day[0]
    for day in range(first, first + n_days):
        for phase in range(N_PHASES):
            run_zones(phase, st, prm, thr, day, key, probs, work, zones)
            region_step(phase, st, prm, day, key)
    st.day[0] = first + n_days


def _scratch(st):
    """One worker's scratch: event probabilities and rows as wide as the widest zone's
    practices (at least one per discipline)."""
    width = max(N_DISCIPLINES, int(np.max(st.zone["end_practice"] - st.zone["first_practice"])))
    return np.zeros(N_EVENTS), np.zeros((SCRATCH_ROWS, width))


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


def _simulate_threads(st, prm, thr, seed, n_days, n_threads, timings=None):
    """The days of _simulate with each phase's zones on ``n_threads`` threads: the same phases
    and region steps, so the same bits. ``timings`` (a dict, for benchmarks) gets the seconds
    spent waiting for the zones' phases (``zones_s``) and in the region's steps (``region_s``)."""
    key = np.uint64(seed_key(seed))  # a Python int from Python: keep numba's uint64 arithmetic
    chunks = _chunks(st, n_threads)
    scratch = [_scratch(st) for _ in chunks]
    first = int(st.day[0])
    zones_s = region_s = 0.0
    clock = time.perf_counter
    with ThreadPoolExecutor(len(chunks)) as pool:
        for day in range(first, first + n_days):
            d = np.int64(day)
            for phase in range(N_PHASES):
                t0 = clock()
                jobs = [
                    pool.submit(run_zones, phase, st, prm, thr, d, key, probs, work, c)
                    for c, (probs, work) in zip(chunks, scratch, strict=True)
                ]
                for j in jobs:
                    j.result()
                t1 = clock()
                region_step(phase, st, prm, d, key)
                zones_s += t1 - t0
                region_s += clock() - t1
    st.day[0] = first + n_days
    if timings is not None:
        timings["zones_s"] = timings.get("zones_s", 0.0) + zones_s
        timings["region_s"] = timings.get("region_s", 0.0) + region_s


def simulate(state, prm, tables, seed: int, n_days: int) -> None:
    """Advance ``state`` by ``n_days`` days (in place)."""
    if n_days <= 0:
        return
    # Record arrays as np.recarray views: attribute access (acc[z].deaths) then works both in
    # compiled kernels and in plain Python (NUMBA_DISABLE_JIT=1, used by the coverage tests).
    st = state._replace(zone=state.zone.view(np.recarray), acc=state.acc.view(np.recarray))
    prm = prm.view(np.recarray)
    nz = state.zone.shape[0]
    # A single zone never asks numba for threads: that would start its thread pool for nothing.
    threads = 1 if nz <= 1 else min(numba.get_num_threads(), nz)
    if threads <= 1:
        probs, work = _scratch(st)
        zones = np.arange(nz, dtype=np.int64)
        _simulate(st, prm, tables.thr_total, np.uint64(seed), np.int64(n_days), probs, work, zones)
    else:
        _simulate_threads(st, prm, tables.thr_total, np.uint64(seed), n_days, threads)
