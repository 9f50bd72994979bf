"""Small helpers every process kernel uses: equity group, age, utility bookkeeping."""

from __future__ import annotations

import numpy as np
from numba import njit

from .state import (
    DECEASED,
    F_UNRESOLVED,
    IN_HOSPITAL,
)

DAYS_65 = 23741  # 65 years of 365.25 days


@njit(inline="always", cache=True)
def group_index(pat, i):
    """Equity group of patient i: 2 * literacy + ses."""
    return 2 * np.int64(pat.literacy[i]) + np.int64(pat.ses[i])


@njit(inline="always", cache=True)
def zone_of(st, i):
    return np.int64(st.prac.zone[st.pat.practice[i]])


@njit(cache=True, _nrt=False)
def target_utility(pat, p, i):
    """Health utility implied by need level and care situation (MODEL.md section 2)."""
    if pat.situation[i] == IN_HOSPITAL:
        return p.utility_hospital
    u = p.utility_need[pat.need[i]]
    if pat.flags[i] & F_UNRESOLVED:
        u -= p.utility_loss_disrupted
    return max(0.0, min(1.0, u))


@njit(cache=True, _nrt=False)
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
def bump_u16(arr, i):
    """Saturating increment of a uint16 counter."""
    if arr[i] < 65535:
        arr[i] += 1


@njit(inline="always", cache=True)
def day16(day):
    """A day as int16 (horizons up to 89 years)."""
    return np.int16(min(day, 32767))
