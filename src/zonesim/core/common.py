"""Small helpers every process kernel uses: equity group, age, utility bookkeeping."""

from __future__ import annotations

import numpy as np
from numba import njit

from .state import (
    DAYS_PER_AGE_YEAR,
    DAYS_PER_YEAR,
    DECEASED,
    F_UNRESOLVED,
    IN_HOSPITAL,
    N_AGE_BANDS,
)
from .streams import uniform

DAYS_65 = int(65 * DAYS_PER_AGE_YEAR)  # 23741

# Care gaps (issue 16, MODEL.md process 2; core/need.py owns their health effects). One byte per
# inhabitant, ``pat.care_gaps``: for each kind of gap a 2-bit counter of the monthly recounts it
# stays active for (set to GAP_MONTHS when the gap arises or recurs, lowered at each recount,
# cleared when the care is given), and one bit for a chronic follow-up waiting in the GP queue.
GAP_UNMET = 0  # recent unmet need (a GP wait past the threshold, a rationed contact): shift 0
GAP_FOLLOWUP = 1  # a chronic follow-up deferred, given up or not served: shift 2
GAP_PSYCH = 2  # untreated psychological need (a psychology contact not obtained): shift 4
N_GAPS = 3
GAP_MONTHS = 3  # a gap lasts 2-3 recounts (60-90 days) unless the care is given
GAP_ACTIVE = 0x3F  # the three counters
GAP_FOLLOWUP_PENDING = 0x40  # the open GP request carries a chronic follow-up
GAP_UNMET_BITS = 0x03
GAP_FOLLOWUP_BITS = 0x0C
GAP_PSYCH_BITS = 0x30


# Conversions the parameter compilers of every process use (core/parts.py PARAMS).
def per_day(rate_per_year) -> np.ndarray | float:
    """Convert a yearly rate into a daily probability (constant hazard)."""
    r = np.asarray(rate_per_year, dtype=np.float64)
    out = -np.expm1(-r / DAYS_PER_YEAR)
    return float(out) if out.ndim == 0 else out


def mortality_by_band(a: float, b: float) -> np.ndarray:
    """Daily death probability per 5-year band from Gompertz yearly q(age) = exp(a + b age)."""
    out = np.empty(N_AGE_BANDS)
    for band in range(N_AGE_BANDS):
        ages = band * 5 + np.arange(5) + 0.5
        q = np.minimum(np.exp(a + b * ages), 0.6)
        out[band] = np.mean(-np.log1p(-q)) / DAYS_PER_YEAR
    return out


def limited_literacy_probabilities(share: float, pref_share: float, odds_ratio: float):
    """P(limited | standard), P(limited | preferential) with the given overall share and OR."""
    if share <= 0.0:
        return 0.0, 0.0
    if share >= 1.0:
        return 1.0, 1.0
    lo, hi = 1e-9, 1 - 1e-9
    for _ in range(100):
        p0 = 0.5 * (lo + hi)
        odds1 = odds_ratio * p0 / (1 - p0)
        p1 = odds1 / (1 + odds1)
        if (1 - pref_share) * p0 + pref_share * p1 > share:
            hi = p0
        else:
            lo = p0
    p0 = 0.5 * (lo + hi)
    odds1 = odds_ratio * p0 / (1 - p0)
    return p0, odds1 / (1 + odds1)


@njit(inline="always", cache=True)
def group_index(pat, i):
    """Equity group of patient i: 2 * literacy + ses."""
    return 2 * np.int64(pat.literacy[i]) + np.int64(pat.ses[i])


@njit(inline="always", cache=True)
def zone_of(pat, prac, i):
    return np.int64(prac.zone[pat.practice[i]])


@njit(cache=True, _nrt=False, inline="always")
def target_utility(pat, p, i):
    """Health utility implied by need level and care situation (MODEL.md section 2)."""
    if pat.situation[i] == IN_HOSPITAL:
        return p.utility_hospital
    u = p.utility_need[pat.need[i]]
    if pat.flags[i] & F_UNRESOLVED:
        u -= p.utility_loss_disrupted
    gaps = pat.care_gaps[i]
    if gaps & GAP_ACTIVE:
        for k in range(N_GAPS):
            if (gaps >> (2 * k)) & 3:
                u -= p.gap_utility_loss[k]
    return max(0.0, min(1.0, u))


@njit(cache=True, _nrt=False, inline="always")
def refresh_utility(pat, zones, p, z, i):
    """Set patient i's utility from its state and keep the zone's utility sums exact."""
    if pat.situation[i] >= DECEASED:
        return
    new = np.float32(target_utility(pat, p, i))
    old = pat.utility[i]
    if new != old:
        zones[z].utility_sum[group_index(pat, i)] += np.float64(new) - np.float64(old)
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


@njit(cache=True, _nrt=False, inline="always")
def open_gap(pat, zones, accs, p, z, i, kind):
    """A care gap of ``kind`` (GAP_UNMET, GAP_FOLLOWUP, GAP_PSYCH) arises or recurs for
    patient i: active for the next GAP_MONTHS recounts unless the care is given first."""
    old = np.int64(pat.care_gaps[i])
    shift = 2 * kind
    if not (old >> shift) & 3:
        accs[z].care_gaps_opened[kind] += 1.0
        pat.care_gaps[i] = np.uint8((old & ~(3 << shift)) | (GAP_MONTHS << shift))
        refresh_utility(pat, zones, p, z, i)
    else:
        pat.care_gaps[i] = np.uint8((old & ~(3 << shift)) | (GAP_MONTHS << shift))


@njit(cache=True, _nrt=False, inline="always")
def close_gaps(pat, zones, p, z, i, mask):
    """The care is given: clear the gap bits in ``mask`` (counters and/or the pending bit)."""
    old = np.int64(pat.care_gaps[i])
    if old & mask:
        pat.care_gaps[i] = np.uint8(old & ~mask)
        if old & mask & GAP_ACTIVE:
            refresh_utility(pat, zones, p, z, i)


# The information point's draws (declared in core/demand.py PURPOSES, process 4).
PURPOSE_INFO_REACH = 2201  # whether patient i (or its caregiver) knows the point (day 0)
PURPOSE_INFO_CONTACT = 2202  # a day's contact with the point while a situation is unrecognised


@njit(cache=True, _nrt=False, inline="always")
def knows_point(p, key, i):
    """Whether patient i (or its caregiver) knows the information point: the patient's own
    draw against the policy's reach (0 without a point), the same whatever the day, so a
    larger reach adds users, never reshuffles them (common random numbers)."""
    return uniform(key, i, 0, PURPOSE_INFO_REACH) < p.info_point_reach


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
