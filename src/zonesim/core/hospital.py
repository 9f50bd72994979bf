"""Process 6, secondary care (shared by the zones of a region): the specialist waiting list with a
daily capacity, hospital admissions, length of stay, and discharge, which for a patient with
complex needs is a switch moment.

The waiting list is a binary min-heap keyed by ``due_day * 4096 + lead_days``: a request is due
after its booking lead time and is served, oldest due first, while the day's capacity lasts.

The two lists are shared by the zones of a region, and a zone's phase never writes them: an
admission, a specialist request, or a death that takes a patient off the lists is filed as a
*request* in the zone's own buffer (``State.req``, :func:`file_request`), and
:func:`apply_requests` carries out every zone's requests after the phase, zone by zone in zone
order and each zone's in the order filed, whatever the number of threads (as Starsim carries out
requested deaths in one step). Whether a list still has room is decided there, so when a list is
full the patients refused are those whose requests come last in that order. A patient files at
most one request of each kind per phase (one event a day; one GP contact or wait a day).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import bump_u16, day16, group_index, refresh_utility, zone_of
from .state import (
    CASE_MANAGED,
    DECEASED,
    DISRUPTED,
    F_SPEC_WAITING,
    F_UNRESOLVED,
    IN_HOSPITAL,
    STABLE,
)
from .streams import (
    PURPOSE_DISCHARGE,
    PURPOSE_LOS,
    PURPOSE_SPECIALIST,
    PURPOSE_SPECIALIST_ADMISSION,
    exponential,
    uniform,
)
from .switching import TRIGGER_DISCHARGE, trigger_switch

_LEAD_BITS = 4096


# Request bits (State.req.what): what a zone's phase asks of the shared lists for a patient.
REQ_ADMIT = 1  # admit to hospital
REQ_AVOIDABLE = 2  # ... an avoidable (ambulatory-care sensitive) admission
REQ_SPECIALIST = 4  # join the specialist waiting list
REQ_WITHDRAW = 8  # died: withdraw its specialist request
REQ_LEAVE = 16  # died: leave the hospital list


@njit(cache=True, _nrt=False, inline="always")
def file_request(st, z, i, bits):
    """Patient i of zone z asks for ``bits`` (REQ_*) on the shared lists; carried out by
    :func:`apply_requests` after the phase."""
    req = st.req
    if req.what[i] == 0:
        n = req.n[z]
        req.pid[st.zone[z].first_patient + n] = i
        req.n[z] = n + 1
    req.what[i] |= bits


@njit(cache=True, _nrt=False)
def _hosp_append(st, i, until):
    """Append patient i (in hospital until day ``until``) to the hospital list (room checked by
    the caller)."""
    n = st.hosp_n[0]
    st.hosp_pid[n] = i
    st.hosp_until[n] = until
    st.hosp_n[0] = n + 1


@njit(cache=True, _nrt=False)
def _heap_push(st, k, i):
    """Push patient i with key k onto the specialist heap (room checked by the caller)."""
    h = st.spec_due
    pid = st.spec_pid
    pos = st.spec_n[0]
    while pos > 0:  # sift up
        parent = (pos - 1) >> 1
        if h[parent] <= k:
            break
        h[pos] = h[parent]
        pid[pos] = pid[parent]
        pos = parent
    h[pos] = k
    pid[pos] = i
    st.spec_n[0] += 1


@njit(cache=True, _nrt=False)
def _withdraw_specialist(st, i):
    """Withdraw patient i's request from the specialist heap (its key stays)."""
    for t in range(st.spec_n[0]):
        if st.spec_pid[t] == i:
            st.spec_pid[t] = -1


@njit(cache=True, _nrt=False)
def _leave_hospital_list(st, i):
    """Remove patient i from the hospital list (the last entry takes its place)."""
    for t in range(st.hosp_n[0]):
        if st.hosp_pid[t] == i:
            st.hosp_n[0] -= 1
            st.hosp_pid[t] = st.hosp_pid[st.hosp_n[0]]
            st.hosp_until[t] = st.hosp_until[st.hosp_n[0]]
            break


@njit(cache=True, _nrt=False, inline="always")
def admit(st, p, z, i, day, key, avoidable):
    """Ask to admit patient i to hospital today (avoidable: an ambulatory-care sensitive
    admission); :func:`_admit` carries it out after the phase."""
    if st.req.what[i] & REQ_ADMIT:
        return
    file_request(st, z, i, REQ_ADMIT | (REQ_AVOIDABLE if avoidable else 0))


@njit(cache=True, _nrt=False)
def _admit(st, p, z, i, day, key, avoidable):
    """Admit patient i to hospital today, if the hospital list has room."""
    pat = st.pat
    if pat.situation[i] >= IN_HOSPITAL:  # already in hospital, or deceased
        return
    n = st.hosp_n[0]
    acc = st.acc[z]
    if n >= st.hosp_pid.shape[0]:
        acc.list_overflow += 1.0
        return
    mean = p.los_mean_need[pat.need[i]]
    los = max(1, np.int64(exponential(key, i, day, PURPOSE_LOS, mean) + 0.5))
    _hosp_append(st, i, day16(day + los))
    pat.situation[i] = IN_HOSPITAL
    bump_u16(pat.hospital_admissions, i)
    pat.last_admission_day[i] = day16(day)
    g = group_index(pat, i)
    acc.admissions[g] += 1.0
    acc.los_days_planned += los
    if avoidable:
        acc.avoidable_admissions[g] += 1.0
    refresh_utility(st, p, z, i)


@njit(cache=True, _nrt=False)
def _discharge(st, p, z, i, day, key):
    pat = st.pat
    if pat.case_manager[i] >= 0:
        pat.situation[i] = CASE_MANAGED
    elif pat.flags[i] & F_UNRESOLVED:
        pat.situation[i] = DISRUPTED
    else:
        pat.situation[i] = STABLE
    st.acc[z].discharges += 1.0
    refresh_utility(st, p, z, i)
    if uniform(key, i, day, PURPOSE_DISCHARGE) < p.discharge_switch[pat.need[i]]:
        trigger_switch(st, p, z, i, day, key, TRIGGER_DISCHARGE)


@njit(cache=True, _nrt=False, inline="always")
def specialist_request(st, p, z, i, day, key):
    """Ask to put patient i on the specialist waiting list; :func:`_join_waiting_list` carries
    it out after the phase."""
    file_request(st, z, i, REQ_SPECIALIST)


@njit(cache=True, _nrt=False)
def _join_waiting_list(st, p, z, i, day, key):
    """Put patient i on the specialist waiting list (one open request per patient), if it has
    room."""
    pat = st.pat
    if pat.flags[i] & F_SPEC_WAITING:
        return
    n = st.spec_n[0]
    if n >= st.spec_due.shape[0]:
        st.acc[z].list_overflow += 1.0
        return
    lead = min(
        np.int64(exponential(key, i, day, PURPOSE_SPECIALIST, p.specialist_lead_days)),
        _LEAD_BITS - 1,
    )
    _heap_push(st, np.int32((day + lead) * _LEAD_BITS + lead), i)
    pat.flags[i] |= F_SPEC_WAITING


@njit(cache=True, nogil=True, _nrt=False)
def apply_requests(st, prm, day, key):
    """Carry out the requests the zones filed during a phase: zone by zone in zone order, each
    zone's patients in the order they filed, so the shared lists change in an order that does
    not depend on how the zones were spread over threads. Empties the buffers."""
    req = st.req
    for z in range(st.zone.shape[0]):
        base = st.zone[z].first_patient
        p = prm[z]
        for s in range(req.n[z]):
            i = req.pid[base + s]
            req.pid[base + s] = -1
            what = req.what[i]
            req.what[i] = 0
            if what & REQ_WITHDRAW:
                _withdraw_specialist(st, i)
            if what & REQ_LEAVE:
                _leave_hospital_list(st, i)
            if what & REQ_SPECIALIST:
                _join_waiting_list(st, p, z, i, day, key)
            if what & REQ_ADMIT:
                _admit(st, p, z, i, day, key, (what & REQ_AVOIDABLE) != 0)
        req.n[z] = 0


@njit(cache=True, _nrt=False)
def _heap_pop(st):
    h = st.spec_due
    pid = st.spec_pid
    n = st.spec_n[0] - 1
    top_k = h[0]
    top_i = pid[0]
    k = h[n]
    i = pid[n]
    st.spec_n[0] = n
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and h[child + 1] < h[child]:
            child += 1
        if h[child] >= k:
            break
        h[pos] = h[child]
        pid[pos] = pid[child]
        pos = child
    if n > 0:
        h[pos] = k
        pid[pos] = i
    return top_k, top_i


@njit(cache=True, _nrt=False)
def secondary_care(st, prm, day, key):
    """One day of the region's secondary care: hospital discharges and bed-days, then the
    specialist appointments the day's capacity allows."""
    pat = st.pat
    # Hospital: discharges and bed-days.
    j = 0
    while j < st.hosp_n[0]:
        i = st.hosp_pid[j]
        z = zone_of(st, i)
        if pat.situation[i] == DECEASED or pat.situation[i] != IN_HOSPITAL:
            n = st.hosp_n[0] - 1
            st.hosp_pid[j] = st.hosp_pid[n]
            st.hosp_until[j] = st.hosp_until[n]
            st.hosp_n[0] = n
            continue
        st.acc[z].hospital_days += 1.0
        if day >= st.hosp_until[j]:
            n = st.hosp_n[0] - 1
            st.hosp_pid[j] = st.hosp_pid[n]
            st.hosp_until[j] = st.hosp_until[n]
            st.hosp_n[0] = n
            _discharge(st, prm[z], z, i, day, key)
            continue
        j += 1
    # Specialist appointments: integer capacity per day, fractions carried exactly.
    cap = prm[0].specialist_capacity_day
    slots = np.int64(np.floor((day + 1) * cap)) - np.int64(np.floor(day * cap))
    while slots > 0 and st.spec_n[0] > 0 and st.spec_due[0] // _LEAD_BITS <= day:
        k, i = _heap_pop(st)
        if i < 0 or pat.situation[i] == DECEASED:  # withdrawn (the patient died)
            continue
        pat.flags[i] &= 255 ^ F_SPEC_WAITING
        z = zone_of(st, i)
        if pat.situation[i] == IN_HOSPITAL:  # seen during the stay instead
            continue
        slots -= 1
        lead = k % _LEAD_BITS
        due = k // _LEAD_BITS
        wait = lead + (day - due)
        acc = st.acc[z]
        bump_u16(pat.specialist_visits, i)
        acc.specialist_visits += 1.0
        acc.specialist_wait_days += wait
        if wait > 14:
            acc.specialist_wait_over_14 += 1.0
        p = prm[z]
        if uniform(key, i, day, PURPOSE_SPECIALIST_ADMISSION) < p.admission_after_specialist:
            _admit(st, p, z, i, day, key, False)  # the region's own phase: no request
