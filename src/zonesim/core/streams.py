"""Counter-based random streams.

Every random draw is a pure function of (run seed, entity id, day, purpose): a SplitMix64
finaliser over a linear combination of the four with distinct odd 64-bit constants. There is no
hidden state, so

* the same seed gives the same bits whatever the number of threads or processes, and
* under two policies the same patient meets the same exogenous draws on the same day (common
  random numbers), unless the policy itself changes what happens.

Never use ``np.random`` inside a kernel (numba's hidden global state breaks both properties).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Purposes: one constant per decision. Never reuse one for two different decisions, and never
# let one draw decide two outcomes whose cut-points move with the policy (common random numbers
# then pair the runs for years: each decision of an entity on a day has its own uniform).
# docs/architecture.md lists them with the kernel that draws each.
PURPOSE_DAILY = 1  # the one daily uniform that picks the patient's event (or none)
PURPOSE_FALL_ADMISSION = 2  # a fall leads to an admission
PURPOSE_FALL_SWITCH = 3  # a fall (not admitted) is a switch moment
PURPOSE_LOS = 4  # length of stay
PURPOSE_WORK = 5  # re-arrangement hours of a switch moment (+ 64 x trigger)
PURPOSE_QUEUE = 6  # a waiting patient goes to the emergency department
PURPOSE_CAREGIVER = 7  # caregiver death
PURPOSE_CAREGIVER_DURATION = 8
PURPOSE_PROVIDER = 9  # a provider's sick leave
PURPOSE_PROVIDER_DURATION = 10
# 100-119: attributes of a new entrant (see core/demography.py)
PURPOSE_SPECIALIST = 12  # specialist lead time
PURPOSE_RATIONING = 13  # rationed care (served or not)
PURPOSE_REFERRAL = 17  # referral at a routine GP contact
PURPOSE_POOLED = 18  # a pooled specialist takes the referral
PURPOSE_EMERGENCY = 19  # admission after an emergency visit
PURPOSE_DISCHARGE = 20  # a discharge is a switch moment
PURPOSE_REPORT = 21  # a situation gone wrong is reported
PURPOSE_CAREGIVER_TRAIT = 22  # a caregiver's own resilience (constant over time)
PURPOSE_CARE_PLAN = 23  # the patient's own care-plan draw (day 0: constant over time)
PURPOSE_HOME_VISIT = 24
PURPOSE_PROVIDER_LEAVE = 25  # a provider's departure (retirement, attrition); apart from sick leave
PURPOSE_DEFER = 26  # a routine GP request deferred because of the expected wait
PURPOSE_GIVE_UP = 27  # a waiting patient abandons the routine request
PURPOSE_PRACTICE_CHANGE = 28  # a waiting patient re-registers with another practice
PURPOSE_EMIGRATION = 29  # which inhabitant of an over-full age band moves out (zone-level probes)
PURPOSE_NEED_REGRESSION = 30  # need improves by one level (monthly)
PURPOSE_ACUTE_ADMISSION = 31  # an acute deterioration leads to an admission
PURPOSE_NURSE_FOLLOWUP = 32  # a chronic follow-up goes to the nurse
PURPOSE_NEW_CAREGIVER = 33  # a patient becoming complex gets an informal caregiver
PURPOSE_CAREGIVER_ILLNESS = 34  # caregiver illness (apart from death and breakdown)
PURPOSE_CAREGIVER_BREAKDOWN = 35  # caregiver breakdown
PURPOSE_SPECIALIST_ADMISSION = 1012  # admission after a specialist visit
PURPOSE_REFERRAL_URGENT = 1017  # referral at an urgent (same-day) contact
PURPOSE_POOLED_KIND = 1018  # which pooled kind takes a substituted referral


_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_K_ENTITY = np.uint64(0xD1B54A32D192ED03)
_K_DAY = np.uint64(0xABC98388FB8FAC03)
_K_PURPOSE = np.uint64(0x8CB92BA72F3D8DD7)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(inline="always", cache=True)
def mix64(z):
    """SplitMix64's finaliser: a bijection of uint64 with full avalanche."""
    z = (z ^ (z >> _S30)) * _M2
    z = (z ^ (z >> _S27)) * _M3
    return z ^ (z >> _S31)


@njit(inline="always", cache=True)
def seed_key(seed):
    """Pre-mix a run seed (done once per kernel call)."""
    return mix64(np.uint64(seed) * _M1 + _M1)


@njit(inline="always", cache=True)
def draw_u64(key, entity, day, purpose):
    """64 random bits for (seeded key, entity, day, purpose)."""
    x = (
        key
        + np.uint64(entity) * _K_ENTITY
        + np.uint64(day + 1048576) * _K_DAY
        + np.uint64(purpose) * _K_PURPOSE
    )
    return mix64(x)


@njit(inline="always", cache=True)
def draw_u32(key, entity, day, purpose):
    """32 random bits (the top half): compared with uint32 thresholds on the fast path."""
    return np.uint32(draw_u64(key, entity, day, purpose) >> _S32)


@njit(inline="always", cache=True)
def uniform(key, entity, day, purpose):
    """A uniform float in [0, 1) with 53 random bits."""
    return float(draw_u64(key, entity, day, purpose) >> _S11) * _INV53


@njit(inline="always", cache=True)
def exponential(key, entity, day, purpose, mean):
    """An exponential variate with the given mean (inverse transform)."""
    u = uniform(key, entity, day, purpose)
    return -mean * np.log1p(-u)


def uniforms(seed: int, entity: np.ndarray, day: int, purpose: int) -> np.ndarray:
    """Vectorised :func:`uniform` for Python-side code and tests."""
    return _uniforms(np.uint64(seed), np.asarray(entity, dtype=np.int64), day, purpose)


@njit(cache=True)
def _uniforms(seed, entity, day, purpose):
    key = seed_key(seed)
    out = np.empty(entity.shape[0])
    for i in range(entity.shape[0]):
        out[i] = uniform(key, entity[i], day, purpose)
    return out
