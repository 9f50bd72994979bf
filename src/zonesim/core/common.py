"""Small helpers every process kernel uses: equity group, age, utility bookkeeping."""

from __future__ import annotations

import numpy as np
from numba import njit

from .state import (
    DAYS_PER_AGE_YEAR,
    DECEASED,
    F_UNRESOLVED,
    IN_HOSPITAL,
)

DAYS_65 = int(65 * DAYS_PER_AGE_YEAR)  # 23741


@njit(inline="always", cache=True)
def group_index(pat, i):
    """Equity group of patient i: 2 * literacy + ses."""
    return 2 * np.int64(pat.literacy[i]) + np.int64(pat.ses[i])


@njit(inline="always", cache=True)
def zone_of(st, i):
    return np.int64(st.prac.zone[st.pat.practice[i]])


@njit(cache=True, _nrt=False, inline="always")
def target_utility(pat, p, i):
    """Health utility implied by need level and care situation (MODEL.md section 2)."""
    if pat.situation[i] == IN_HOSPITAL:
        return p.utility_hospital
    u = p.utility_need[pat.need[i]]
    if pat.flags[i] & F_UNRESOLVED:
        u -= p.utility_loss_disrupted
    return max(0.0, min(1.0, u))


@njit(cache=True, _nrt=False, inline="always")
def refresh_utility(st, p, z, i):
    """Set patient i's utility from its state and keep the zone's utility sums exact."""
    pat = st.pat
    if pat.situation[i] >= DECEASED:
        return
    new = np.float32(target_utility(pat, p, i))
    old = pat.utility[i]
    if new != old:
        st.zone[z].utility_sum[group_index(pat, i)] += np.float64(new) - np.float64(old)
        pat.utility[i] = new


@njit(inline="always", cache=True)
def gets_care_plan(need, u, care_plan_share):
    """Whether a patient of need level ``need``, whose own care-plan draw (purpose
    PURPOSE_CARE_PLAN, day 0) is ``u``, has an integrated care plan: complex needs (level 2 or
    more) and the draw under the policy's ``care_plan_share``. The one owner of this rule: the
    population's build, need progression and entrants. Works on numbers in kernels and on numpy
    arrays in Python."""
    return (need >= 2) & (u < care_plan_share)


@njit(inline="always", cache=True)
def bump_u16(arr, i):
    """Saturating increment of a uint16 counter."""
    if arr[i] < 65535:
        arr[i] += 1


@njit(inline="always", cache=True)
def day16(day):
    """A day as int16 (horizons up to 89 years)."""
    return np.int16(min(day, 32767))


@njit(inline="always", cache=True)
def first_unmet_today(pat, i, day):
    """True the first time today that patient i's unmet need is counted, and marks the day: the
    total ``unmet_need_days`` counts each patient-day at most once, in the component of the
    process that reaches it first in the day (notes/interfaces.md; docs/odd.md)."""
    d = day16(day)
    if pat.last_unmet_day[i] == d:
        return False
    pat.last_unmet_day[i] = d
    return True
