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
from .demography import leave_hospital_list, migration, recount, renewal, withdraw_specialist
from .events import (
    handle_event,
    may_admit,
    may_request_specialist,
    patient_events,
    pick_event,
)
from .gatekeeper import gatekeeper
from .hospital import heap_push, hosp_append, secondary_care
from .state import (
    AGE_BAND_DAYS,
    DECEASED,
    F_SPEC_WAITING,
    N_AGE_BANDS,
    N_DISCIPLINES,
    N_EVENTS,
)
from .streams import (
    PURPOSE_DAILY,
    PURPOSE_EMERGENCY,
    PURPOSE_QUEUE,
    draw_u32,
    seed_key,
    uniform,
)
from .switching import caregivers, switch_moments
from .workforce import start_of_day, workforce

RECOUNT_EVERY = 30  # days between exact recounts of the zone aggregates

# What a slow-path event did to the region's shared lists (the zone-parallel path logs it per
# event patient and replays it serially, in zone order).
LOG_ADMIT = 1  # appended to the hospital list
LOG_SPECIALIST = 2  # pushed onto the specialist heap
LOG_DIED = 4  # died: leaves the hospital list
LOG_DIED_WAITING = 8  # died while on the specialist heap: its request is withdrawn
LOCAL_LIST = 4  # room of a worker's own stand-in lists (an event adds at most one to each)
# Room of the zone-parallel gatekeeper's logs of shared-list additions, per patient slot (a day
# needs one entry per patient queued at a GP; the default scenario queues well under 1%).
GATEKEEPER_LOG_PER_SLOT = 0.02


def gatekeeper_log_room(n_slots: int) -> int:
    """Entries of each of the zone-parallel gatekeeper's logs for a region of ``n_slots``."""
    return max(4096, int(np.ceil(GATEKEEPER_LOG_PER_SLOT * n_slots)))


# Days the zone-parallel path ran the slow-path events serially (a shared list could have
# filled up), days it ran the gatekeeper serially (likewise, or its log was too small), and all
# its days; diagnostics for benchmarks.
parallel_days = {"serial": 0, "gatekeeper_serial": 0, "all": 0}


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
            migration(st, prm[z], z, day, key)  # 1-2: migration by age, need regression
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
def _zones_morning(st, prm, thr, day, key, slow, nslow, probs, event, nshared, zones):
    """Zone-local (one worker's zones): recount, start of day, the patient pass's fast path;
    then the event each collected patient will have (``event``, at its index in ``slow``) and
    how many of them may admit (``nshared[z, 0]``) or request a specialist (``nshared[z, 1]``)."""
    pat = st.pat
    for zz in range(zones.shape[0]):
        z = zones[zz]
        p = prm[z]
        if day % RECOUNT_EVERY == 0:
            recount(st, p, z, day)
            migration(st, p, z, day, key)  # 1-2: migration by age, need regression
        start_of_day(st, p, z)
        n = _collect_slow(st, thr, z, day, key, slow)
        nslow[z] = n
        base = st.zone[z].first_patient
        n_admit = 0
        n_spec = 0
        for s in range(n):
            i = slow[base + s]
            band = min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1)
            k = pick_event(p, pat, i, draw_u32(key, i, day, PURPOSE_DAILY), band, probs)
            event[base + s] = k
            if may_admit(k):
                n_admit += 1
            if may_request_specialist(k):
                n_spec += 1
        nshared[z, 0] = n_admit
        nshared[z, 1] = n_spec


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
def _zones_events(st, lst, prm, day, key, probs, slow, nslow, event, log, until, hkey, err, zones):
    """Zone-local (one worker's zones): the slow-path events of the collected patients and the
    entrants, with ``lst`` (the state with this worker's own stand-in lists in place of the
    region's shared hospital list and specialist heap) so that what an event would do to the
    shared lists lands in the stand-ins; after each patient it is moved to ``log``, ``until``
    and ``hkey`` at the patient's index in ``slow``, and the stand-ins are emptied. Taken only
    when the shared lists have room for every event patient's admission and request, so no
    event can meet a full list and the patient-local effects do not depend on the fill."""
    pat = st.pat
    for zz in range(zones.shape[0]):
        z = zones[zz]
        p = prm[z]
        base = st.zone[z].first_patient
        for s in range(nslow[z]):
            i = slow[base + s]
            fl = pat.flags[i]
            band = min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1)
            u = draw_u32(key, i, day, PURPOSE_DAILY)
            handle_event(lst, p, z, i, day, key, u, band, probs)
            what = 0
            if lst.hosp_n[0] > 0:
                if lst.hosp_n[0] > 1 or lst.hosp_pid[0] != i:
                    err[0] = 1
                what |= LOG_ADMIT
                until[base + s] = lst.hosp_until[0]
                lst.hosp_n[0] = 0
            if lst.spec_n[0] > 0:
                if lst.spec_n[0] > 1 or lst.spec_pid[0] != i:
                    err[0] = 1
                what |= LOG_SPECIALIST
                hkey[base + s] = lst.spec_due[0]
                lst.spec_n[0] = 0
            if (what & LOG_ADMIT and not may_admit(event[base + s])) or (
                what & LOG_SPECIALIST and not may_request_specialist(event[base + s])
            ):
                err[0] = 1  # the morning's bound did not hold
            if pat.situation[i] == DECEASED:
                if what != 0:
                    err[0] = 1
                what |= LOG_DIED
                if fl & F_SPEC_WAITING:
                    what |= LOG_DIED_WAITING
            log[base + s] = what
        renewal(st, p, z, day, key)  # 1: entrants (zone-local)


@njit(cache=True, nogil=True, _nrt=False)
def _replay_shared(st, slow, nslow, log, until, hkey):
    """Serial, in zone order and slot order: the logged operations on the shared lists, so
    that they happen in the order of simulate_day (each event patient adds at most one entry to
    each list, and a death nothing, so the two lists' orders are each reproduced)."""
    for z in range(st.zone.shape[0]):
        base = st.zone[z].first_patient
        for s in range(nslow[z]):
            what = log[base + s]
            if what == 0:
                continue
            i = slow[base + s]
            if what & LOG_SPECIALIST:
                heap_push(st, hkey[base + s], i)
            if what & LOG_ADMIT:
                hosp_append(st, i, until[base + s])
            if what & LOG_DIED:
                if what & LOG_DIED_WAITING:
                    withdraw_specialist(st, i)
                leave_hospital_list(st, i)


@njit(cache=True, nogil=True, _nrt=False)
def _gatekeeper_bounds(st, prm, day, key, hoff, soff):
    """Bounds on what each zone's gatekeeper adds to the shared lists today. A queued patient
    is served (at most one specialist request), or, having waited past ``unmet_wait_days``,
    may go to the emergency department and be admitted (at most one admission; whether it
    would is fixed by its own draws of the day, which are counter-based), or waits on. Zone
    z's shares of the gatekeeper's logs are ``hoff[z]:hoff[z + 1]`` (admissions) and
    ``soff[z]:soff[z + 1]`` (specialist requests); returns the two totals."""
    admissible = 0
    queued = 0
    for z in range(st.zone.shape[0]):
        hoff[z] = admissible
        soff[z] = queued
        p = prm[z]
        for k in range(st.zone[z].first_practice, st.zone[z].end_practice):
            n = st.prac.queue_len[k]
            queued += n
            mask = st.prac.queue_cap[k] - 1
            base = st.prac.queue_start[k]
            for t in range(n):  # in arrival order: the longest waits first
                pos = base + ((st.prac.queue_head[k] + t) & mask)
                if day - st.queue_day[pos] <= p.unmet_wait_days:
                    break
                i = st.queue_pid[pos]
                if (
                    i >= 0
                    and uniform(key, i, day, PURPOSE_QUEUE) < p.ed_after_wait
                    and uniform(key, i, day, PURPOSE_EMERGENCY) < p.admission_after_emergency
                ):
                    admissible += 1
    nz = st.zone.shape[0]
    hoff[nz] = admissible
    soff[nz] = queued
    return admissible, queued


@njit(cache=True, nogil=True, _nrt=False)
def _zones_gatekeeper(gst, prm, day, key, work, hoff, soff, hend, send, zones):
    """Zone-local (one worker's zones): process 5 with ``gst``, the state with logs in place
    of the shared lists (a hospital list, and a specialist "heap" whose two-entry ``spec_n``
    makes heap_push append in call order), so that zone z's additions land in its shares
    ``hoff[z]:hend[z]`` and ``soff[z]:send[z]``. Taken only when the shared lists have room
    for everything the bounds of _gatekeeper_bounds allow, so no addition meets a full list."""
    for zz in range(zones.shape[0]):
        z = zones[zz]
        gst.hosp_n[0] = hoff[z]
        gst.spec_n[0] = soff[z]
        gatekeeper(gst, prm[z], z, day, key, work)
        hend[z] = gst.hosp_n[0]
        send[z] = gst.spec_n[0]


@njit(cache=True, nogil=True, _nrt=False)
def _replay_gatekeeper(st, prm, day, key, glog, hoff, soff, hend, send):
    """Serial: the gatekeeper's logged additions in zone order (the order of simulate_day;
    the two lists are independent), then secondary care. Returns False (nothing replayed) if
    a zone logged more than its share, which the bounds of _gatekeeper_bounds exclude."""
    nz = st.zone.shape[0]
    for z in range(nz):
        if hend[z] > hoff[z + 1] or send[z] > soff[z + 1]:
            return False
    for z in range(nz):
        for n in range(hoff[z], hend[z]):
            hosp_append(st, glog.hosp_pid[n], glog.hosp_until[n])
        for n in range(soff[z], send[z]):
            heap_push(st, glog.spec_due[n], glog.spec_pid[n])
    secondary_care(st, prm, day, key)  # 6
    return True


@njit(cache=True, nogil=True, _nrt=False)
def _region_rest(st, prm, day, key, work):
    """Serial, in zone order: the gatekeeper and secondary care."""
    for z in range(st.zone.shape[0]):
        gatekeeper(st, prm[z], z, day, key, work)  # 5
    secondary_care(st, prm, day, key)  # 6


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
    patient pass (which only reads); (2) in parallel, each zone's slow-path events and entrants,
    their additions to the region's shared hospital list and specialist heap logged per event
    patient, then replayed serially in zone order; (3) in parallel, each zone's gatekeeper, its
    additions logged per zone, replayed serially in zone order, then secondary care (serial:
    it serves the shared lists); (4) in parallel, each zone's processes 7-9 and accumulators.
    (2) and (3) are taken on days when the shared lists have room for every addition they may
    make, so no addition meets a full list; otherwise that phase runs serially, as
    simulate_day. Each parallel phase writes only its zone's data and the replays keep the
    serial order of the shared lists, so the result is that of _simulate, bit for bit, for any
    thread count."""
    key = np.uint64(seed_key(seed))  # a Python int from Python: keep numba's uint64 arithmetic
    nz = st.zone.shape[0]
    probs = np.zeros(N_EVENTS)
    width = max(N_DISCIPLINES, int(np.max(st.zone["end_practice"] - st.zone["first_practice"])))
    work = np.zeros((6, width))
    zwork = np.zeros((nz, 6, N_DISCIPLINES))
    n_pat = st.pat.situation.shape[0]
    slow = np.zeros(n_pat, dtype=np.int32)
    nslow = np.zeros(nz, dtype=np.int64)
    log = np.zeros(n_pat, dtype=np.uint8)
    until = np.zeros(n_pat, dtype=st.hosp_until.dtype)
    hkey = np.zeros(n_pat, dtype=st.spec_due.dtype)
    err = np.zeros(1, dtype=np.int64)
    event = np.zeros(n_pat, dtype=np.int8)
    nshared = np.zeros((nz, 2), dtype=np.int64)
    hosp_cap = st.hosp_pid.shape[0]
    spec_cap = st.spec_due.shape[0]
    # The gatekeeper's logs: a hospital list and a specialist list, appended in call order.
    log_cap = gatekeeper_log_room(n_pat)
    glog = st._replace(
        hosp_pid=np.full(log_cap, -1, dtype=st.hosp_pid.dtype),
        hosp_until=np.zeros(log_cap, dtype=st.hosp_until.dtype),
        spec_due=np.zeros(log_cap, dtype=st.spec_due.dtype),
        spec_pid=np.full(log_cap, -1, dtype=st.spec_pid.dtype),
    )
    hoff = np.zeros(nz + 1, dtype=np.int64)
    soff = np.zeros(nz + 1, dtype=np.int64)
    hend = np.zeros(nz, dtype=np.int64)
    send = np.zeros(nz, dtype=np.int64)
    chunks = _chunks(st, n_threads)
    # Per worker: its own scratch of event probabilities and stand-in shared lists.
    local = [
        (
            st._replace(
                hosp_pid=np.full(LOCAL_LIST, -1, dtype=st.hosp_pid.dtype),
                hosp_until=np.zeros(LOCAL_LIST, dtype=st.hosp_until.dtype),
                hosp_n=np.zeros(1, dtype=st.hosp_n.dtype),
                spec_due=np.zeros(LOCAL_LIST, dtype=st.spec_due.dtype),
                spec_pid=np.full(LOCAL_LIST, -1, dtype=st.spec_pid.dtype),
                spec_n=np.zeros(1, dtype=st.spec_n.dtype),
            ),
            np.zeros(N_EVENTS),
        )
        for _ in chunks
    ]
    # Per worker, for the gatekeeper: the shared logs (each zone writes its own share) with the
    # worker's own counts (a two-entry spec_n: see heap_push), and scratch rows of practices.
    gk_local = [
        (
            glog._replace(hosp_n=np.zeros(1, np.int64), spec_n=np.zeros(2, np.int64)),
            np.zeros((6, width)),
        )
        for _ in chunks
    ]
    first = int(st.day[0])
    with ThreadPoolExecutor(len(chunks)) as pool:
        for day in range(first, first + n_days):
            d = np.int64(day)
            jobs = [
                pool.submit(
                    _zones_morning, st, prm, thr, d, key, slow, nslow, zprobs, event, nshared, c
                )
                for c, (_lst, zprobs) in zip(chunks, local, strict=True)
            ]
            for j in jobs:
                j.result()
            # An event patient adds at most one entry to each shared list, and only with an
            # event that may admit or refer: with room for all of them, no event can meet a
            # full list, and the events can run zone by zone.
            n_admit, n_spec = (int(x) for x in nshared.sum(axis=0))
            parallel_days["all"] += 1
            if st.hosp_n[0] + n_admit <= hosp_cap and st.spec_n[0] + n_spec <= spec_cap:
                jobs = [
                    pool.submit(
                        _zones_events,
                        st,
                        lst,
                        prm,
                        d,
                        key,
                        zprobs,
                        slow,
                        nslow,
                        event,
                        log,
                        until,
                        hkey,
                        err,
                        c,
                    )
                    for c, (lst, zprobs) in zip(chunks, local, strict=True)
                ]
                for j in jobs:
                    j.result()
                if err[0]:
                    raise RuntimeError("a slow-path event touched the shared lists twice")
                _replay_shared(st, slow, nslow, log, until, hkey)
                admissible, queued = _gatekeeper_bounds(st, prm, d, key, hoff, soff)
                if (
                    queued <= log_cap
                    and st.hosp_n[0] + admissible <= hosp_cap
                    and st.spec_n[0] + queued <= spec_cap
                ):
                    jobs = [
                        pool.submit(
                            _zones_gatekeeper, gst, prm, d, key, gw, hoff, soff, hend, send, c
                        )
                        for c, (gst, gw) in zip(chunks, gk_local, strict=True)
                    ]
                    for j in jobs:
                        j.result()
                    if not _replay_gatekeeper(st, prm, d, key, glog, hoff, soff, hend, send):
                        raise RuntimeError("a zone's gatekeeper added more than its bound")
                else:
                    parallel_days["gatekeeper_serial"] += 1
                    _region_rest(st, prm, d, key, work)
            else:  # a list could fill up today: the middle phase serially, as simulate_day
                parallel_days["serial"] += 1
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
    nz = state.zone.shape[0]
    # A single zone never asks numba for threads: that would start its thread pool for nothing.
    threads = 1 if nz <= 1 else min(numba.get_num_threads(), nz)
    if threads <= 1:  # one zone (or one thread): the plain serial path
        _simulate(st, prm, tables.thr_total, np.uint64(seed), np.int64(n_days))
    else:
        _simulate_zones_parallel(st, prm, tables.thr_total, np.uint64(seed), n_days, threads)
