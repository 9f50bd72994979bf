"""Process 8, case-manager allocation: requests wait for a case manager of the zone under the
policy's rule (first come first served, highest need first, or equity-weighted), within each
case manager's caseload cap. Attached case managers take only their own practice's patients; a
zone pool takes anyone. The episode itself (work, follow-up, hand-back) is in core/switching.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .state import (
    CASE_MANAGED,
    CASE_MANAGER,
    F_CM_WAITING,
    F_UNRESOLVED,
    IN_HOSPITAL,
    PV_ACTIVE,
    RULE_EQUITY,
    RULE_FCFS,
    RULE_HIGHEST_NEED,
)


@njit(cache=True, inline="always")
def caseload_capacity(caseload_cap, fte):
    """Clients a case manager of ``fte`` FTE can hold under the policy's ``caseload_cap`` (per
    FTE). The one owner of this quantity: the workforce's utilisation of case managers, the care
    council's pressure and (rounded, :func:`caseload_slots`) allocation and the dashboard. Works
    on numbers in kernels and on numpy arrays in Python."""
    return caseload_cap * fte


@njit(cache=True, inline="always")
def caseload_slots(caseload_cap, fte):
    """Whole clients a case manager can take: :func:`caseload_capacity` rounded to the nearest."""
    return np.floor(caseload_capacity(caseload_cap, fte) + 0.5)


@njit(cache=True, _nrt=False)
def _priority(st, p, i, queued_day):
    """Larger is served first; ties go to the longest waiting."""
    pat = st.pat
    if p.cm_rule == RULE_FCFS:
        score = 0.0
    elif p.cm_rule == RULE_HIGHEST_NEED:
        score = float(pat.need[i])
    elif p.cm_rule == RULE_EQUITY:
        score = float(pat.need[i]) + p.equity_weight * (pat.literacy[i] + pat.ses[i])
    else:
        score = 0.0
    return score * 100000.0 - queued_day


@njit(cache=True, _nrt=False)
def case_manager_allocation(st, p, z, day):
    """Match waiting requests of zone z with case managers who have room in their caseload."""
    zr = st.zone[z]
    pat = st.pat
    prov = st.prov
    acc = st.acc[z]
    # Drop requests that no longer wait (resolved by the team, or deceased).
    n = zr.cm_queue_len
    j = 0
    while j < n:
        i = st.cmq_pid[z, j]
        if not (pat.flags[i] & F_CM_WAITING) or not (pat.flags[i] & F_UNRESOLVED):
            pat.flags[i] &= 255 ^ F_CM_WAITING
            n -= 1
            st.cmq_pid[z, j] = st.cmq_pid[z, n]
            st.cmq_day[z, j] = st.cmq_day[z, n]
            continue
        j += 1
    zr.cm_queue_len = n
    if n == 0 or not p.cm_enabled:
        return
    for cm in range(zr.first_provider, zr.end_provider):
        if prov.discipline[cm] != CASE_MANAGER or prov.state[cm] != PV_ACTIVE:
            continue
        cap = int(caseload_slots(p.caseload_cap, prov.fte[cm]))
        home = prov.practice[cm] if p.cm_attached else -1
        while prov.caseload[cm] < cap and zr.cm_queue_len > 0:
            best = -1
            best_score = -1e300
            for j in range(zr.cm_queue_len):
                i = st.cmq_pid[z, j]
                if home >= 0 and pat.practice[i] != home:
                    continue
                s = _priority(st, p, i, st.cmq_day[z, j])
                if s > best_score:
                    best_score = s
                    best = j
            if best < 0:
                break
            i = st.cmq_pid[z, best]
            acc.cm_allocations += 1.0
            acc.cm_wait_days += day - st.cmq_day[z, best]  # the wait of those allocated
            pat.case_manager[i] = cm
            prov.caseload[cm] += 1
            pat.flags[i] &= 255 ^ F_CM_WAITING
            if pat.situation[i] != IN_HOSPITAL:
                pat.situation[i] = CASE_MANAGED
            last = zr.cm_queue_len - 1
            st.cmq_pid[z, best] = st.cmq_pid[z, last]
            st.cmq_day[z, best] = st.cmq_day[z, last]
            zr.cm_queue_len = last
