"""Process 6, secondary care (shared by the zones of a region): the specialist waiting list with a
daily capacity, hospital admissions, length of stay, and discharge, which for a patient with
complex needs is a switch moment.

The waiting list is a binary min-heap keyed by ``due_day * 4096 + lead_days``: a request is due
after its booking lead time and is served, oldest due first, while the day's capacity lasts.
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


@njit(cache=True, _nrt=False)
def hosp_append(st, i, until):
    """Append patient i (in hospital until day ``until``) to the hospital list (room checked by
    the caller)."""
    n = st.hosp_n[0]
    st.hosp_pid[n] = i
    st.hosp_until[n] = until
    st.hosp_n[0] = n + 1


@njit(cache=True, _nrt=False)
def heap_push(st, k, i):
    """Push patient i with key k onto the specialist heap (room checked by the caller).

    A zone worker of a region's parallel gatekeeper (zonesim.core.day) passes stand-in lists
    whose ``spec_n`` has two entries instead of one: there the push is appended, unsorted, in
    call order, and replayed onto the real heap later."""
    h = st.spec_due
    pid = st.spec_pid
    pos = st.spec_n[0]
    if st.spec_n.shape[0] > 1:  # a zone worker's log
        h[pos] = k
        pid[pos] = i
        st.spec_n[0] = pos + 1
        return
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
def admit(st, p, z, i, day, key, avoidable):
    """Admit patient i to hospital today (avoidable: an ambulatory-care sensitive admission)."""
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
    hosp_append(st, i, day16(day + los))
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


@njit(cache=True, _nrt=False)
def specialist_request(st, p, z, i, day, key):
    """Put patient i on the specialist waiting list (one open request per patient)."""
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
    heap_push(st, np.int32((day + lead) * _LEAD_BITS + lead), i)
    pat.flags[i] |= F_SPEC_WAITING


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
            admit(st, p, z, i, day, key, False)
