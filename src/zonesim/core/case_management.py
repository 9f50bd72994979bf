"""Process 8, case-manager allocation: requests wait for a case manager of the zone under the
policy's rule (first come first served, highest need first, or equity-weighted), within each
case manager's caseload. Attached case managers take only their own practice's patients; a
zone pool takes anyone. The episode itself (work, follow-up, hand-back) is in core/switching.py.

Case management is counted in hours. A case manager's caseload is the smaller of the policy's
cap and what the hours allow at the hours a client needs on average
(``hours_per_fte_per_week / client_hours_per_week``: 36 h / 0.72 h = 50 clients per FTE by
default, so the default cap and the hours agree); each day the clients' coordination hours
come out of the case manager's hours that day (none on sick leave), shared in proportion to
what each client asks when they fall short (core/switching.py). An episode lasts from the
allocation 6-24 months (MODEL.md section 6; drawn uniformly, an assumption), or until the
switch moment is resolved if that is later, and then hands back to the regular team.

The wait counts every eligible request: each day, each request still waiting after the day's
allocation adds a day (``cm_queue_days``), so requests later allocated, those the regular team
resolved or that died while waiting, and those still waiting when the window closes (censored
at the window's end: the days waited so far) all count; the mean wait is those days over the
requests made in the window (Little's law in a steady state).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import day16
from .state import (
    CASE_MANAGED,
    CASE_MANAGER,
    DAYS_PER_YEAR,
    F_CM_WAITING,
    F_UNRESOLVED,
    IN_HOSPITAL,
    PV_ACTIVE,
    RULE_CODES,
    RULE_EQUITY,
    RULE_FCFS,
    RULE_HIGHEST_NEED,
)
from .streams import uniform

DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0

# Random-stream purposes of this process (issue16c range 2300-2399).
PURPOSE_CM_EPISODE = 2300  # length of a case-management episode, drawn at the allocation
PURPOSES = {"cm_episode_length": PURPOSE_CM_EPISODE}


def hours_caseload(config) -> float:
    """Clients per case-manager FTE that the hours allow: hours per FTE per week over the hours
    a client needs per week on average (``parameters.case_management``)."""
    cm = config.parameters.case_management
    return cm.hours_per_fte_per_week / max(cm.client_hours_per_week, 1e-9)


PARAMS = (
    ("cm_rule", np.int64, None, lambda config, policy: RULE_CODES[policy.allocation_rule]),
    (
        "cm_attached",
        np.int64,
        None,
        lambda config, policy: 1 if policy.cm_organisation == "practice_attached" else 0,
    ),
    ("equity_weight", np.float64, None, lambda config, policy: policy.equity_weight),
    ("cm_hours_caseload", np.float64, None, lambda config, policy: hours_caseload(config)),
    (
        "cm_episode_days",
        np.float64,
        (2,),
        lambda config, policy: (
            np.asarray(config.parameters.switching.cm_episode_months) * DAYS_PER_MONTH
        ),
    ),
)
ACCUMULATORS = (
    # long-standing counts of this process (moved from state._ACC_FIELDS, issue 14)
    ("cm_allocations", np.float64, None),
    ("cm_wait_days", np.float64, None),  # summed over allocations: days from request to CM
    ("cm_queue_days", np.float64, None),  # days waited by every eligible request
    ("cm_hours_available", np.float64, None),  # case managers' hours at work
    ("cm_hours_asked", np.float64, None),  # hours their clients asked
    ("cm_hours_given", np.float64, None),  # hours given (<= available, every day)
    ("cm_handbacks", np.float64, None),  # episodes handed back to the regular team
)


def metrics(w, person_years):
    """The case-management wait of every eligible request, the share allocated, the use of
    case managers' hours."""
    asked = float(w["switch_to_cm"])
    avail = float(w["cm_hours_available"])
    nan = float("nan")
    return {
        "cm_allocation_share": float(w["cm_allocations"]) / asked if asked > 0 else nan,
        "cm_hours_used_share": float(w["cm_hours_given"]) / avail if avail > 0 else nan,
    }


@njit(cache=True, inline="always")
def caseload_capacity(caseload_cap, fte, hours_cap):
    """Clients a case manager of ``fte`` FTE can hold: the policy's ``caseload_cap`` (per FTE)
    or what the hours allow (``hours_cap`` clients per FTE, :func:`hours_caseload`), whichever
    is smaller. The one owner of this quantity: the workforce's utilisation of case managers,
    the care council's pressure and (rounded, :func:`caseload_slots`) allocation and the
    dashboard. Works on numbers in kernels and on numpy arrays in Python."""
    return np.minimum(caseload_cap, hours_cap) * fte


@njit(cache=True, inline="always")
def caseload_slots(caseload_cap, fte, hours_cap):
    """Whole clients a case manager can take: :func:`caseload_capacity` rounded to the nearest."""
    return np.floor(caseload_capacity(caseload_cap, fte, hours_cap) + 0.5)


@njit(cache=True, _nrt=False)
def _priority(pat, p, i, queued_day):
    """Larger is served first; ties go to the longest waiting."""
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
def case_manager_allocation(pat, prov, zones, accs, cmq, p, z, day, key):
    """Match waiting requests of zone z with case managers who have room in their caseload;
    then count a day of waiting for every request still waiting."""
    zr = zones[z]
    acc = accs[z]
    # Drop requests that no longer wait (resolved by the team, or deceased).
    n = zr.cm_queue_len
    j = 0
    while j < n:
        i = cmq.pid[z, j]
        if not (pat.flags[i] & F_CM_WAITING) or not (pat.flags[i] & F_UNRESOLVED):
            pat.flags[i] &= 255 ^ F_CM_WAITING
            n -= 1
            cmq.pid[z, j] = cmq.pid[z, n]
            cmq.day[z, j] = cmq.day[z, n]
            continue
        j += 1
    zr.cm_queue_len = n
    if n > 0 and p.cm_enabled:
        _allocate(pat, prov, zones, accs, cmq, p, z, day, key)
    acc.cm_queue_days += zr.cm_queue_len


@njit(cache=True, _nrt=False)
def _allocate(pat, prov, zones, accs, cmq, p, z, day, key):
    """Each active case manager with room takes the best waiting request of those it may take,
    and draws the length of the episode."""
    zr = zones[z]
    acc = accs[z]
    for cm in range(zr.first_provider, zr.end_provider):
        if prov.discipline[cm] != CASE_MANAGER or prov.state[cm] != PV_ACTIVE:
            continue
        cap = int(caseload_slots(p.caseload_cap, prov.fte[cm], p.cm_hours_caseload))
        home = prov.practice[cm] if p.cm_attached else -1
        while prov.caseload[cm] < cap and zr.cm_queue_len > 0:
            best = -1
            best_score = -1e300
            for j in range(zr.cm_queue_len):
                i = cmq.pid[z, j]
                if home >= 0 and pat.practice[i] != home:
                    continue
                s = _priority(pat, p, i, cmq.day[z, j])
                if s > best_score:
                    best_score = s
                    best = j
            if best < 0:
                break
            i = cmq.pid[z, best]
            acc.cm_allocations += 1.0
            acc.cm_wait_days += day - cmq.day[z, best]  # the wait of those allocated
            pat.case_manager[i] = cm
            lo, hi = p.cm_episode_days[0], p.cm_episode_days[1]
            length = lo + (hi - lo) * uniform(key, i, day, PURPOSE_CM_EPISODE)
            pat.cm_until[i] = day16(day + np.int64(length + 0.5))
            prov.caseload[cm] += 1
            pat.flags[i] &= 255 ^ F_CM_WAITING
            if pat.situation[i] != IN_HOSPITAL:
                pat.situation[i] = CASE_MANAGED
            last = zr.cm_queue_len - 1
            cmq.pid[z, best] = cmq.pid[z, last]
            cmq.day[z, best] = cmq.day[z, last]
            zr.cm_queue_len = last
