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
# A process declares its own purposes beside its kernel (``PURPOSES`` in core/<process>.py;
# core/parts.py checks that no code is used twice); only the purposes several processes share
# are listed here. docs/architecture.md lists them all with the kernel that draws each.
PURPOSE_DAILY = 1  # the patient pass's one daily uniform: which event of processes 1-4, if any
PURPOSE_CARE_PLAN = 23  # the patient's own care-plan draw (day 0: constant over time), read by
# the population's build, need progression, entrants and checkpoints (common.gets_care_plan)

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
