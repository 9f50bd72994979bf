"""Process 6, the region's specialist waiting list (issue 16): the wait emerges from demand and
capacity, and the list stays bounded when demand outgrows the slots (extra sessions, patients
leaving) instead of growing without end."""

from __future__ import annotations

import numpy as np

from engine_helpers import build
from zonesim.core import state as S
from zonesim.core.day import simulate
from zonesim.metrics import acc_window

SEED = 5
# Specialist demand at 1.3x: self-referrals and GP referral probabilities, per need level.
DIRECT = (0.38, 1.0, 1.3, 1.4)
REFERRAL = (0.038, 0.064, 0.085, 0.10)


def _high_demand(factor: float) -> dict:
    return {
        "parameters.care.direct_specialist_per_year": [factor * x for x in DIRECT],
        "parameters.gatekeeper.referral_probability_by_need": [factor * x for x in REFERRAL],
    }


def _year(state, prm, tables, seed):
    """Run one year; return (waiting at its end, its accumulators' window)."""
    before = state.acc.copy()
    simulate(state, prm, tables, seed, S.DAYS_PER_YEAR)
    return int(state.spec_n[0]), acc_window(state.acc, before)


def _listed(state) -> np.ndarray:
    """How many times each patient is on the specialist list."""
    pid = state.spec_pid[: int(state.spec_n[0])]
    return np.bincount(pid[pid >= 0], minlength=state.pat.situation.shape[0])


def test_the_list_holds_each_waiting_patient_once():
    cfg, pol, state, *_, prm, tables = build(population=4000, seed=SEED)
    simulate(state, prm, tables, SEED, 200)
    on_list = _listed(state)
    waiting = (state.pat.flags & S.F_SPEC_WAITING) != 0
    assert (on_list[waiting] == 1).all()
    assert (on_list[~waiting] == 0).all()
    assert (state.pat.situation[on_list > 0] < S.DECEASED).all()


def test_fewer_slots_lengthen_the_wait():
    """The wait is an outcome: the same demand with fewer slots waits longer."""
    out = {}
    for slots in (600.0, 800.0):
        over = {"parameters.secondary.specialist_slots_per_1000_per_year": slots}
        cfg, pol, state, *_, prm, tables = build(population=6000, seed=SEED, overrides=over)
        simulate(state, prm, tables, SEED, 180)
        _, w = _year(state, prm, tables, SEED)
        out[slots] = w["specialist_wait_days"] / w["specialist_visits"]
    assert out[600.0] > out[800.0] + 5, out


def test_the_list_stays_bounded_at_1_3x_demand_for_10_years():
    """Specialist demand at 1.3x the default for 10 years: the list settles (extra sessions at
    their maximum, patients leaving) rather than growing year after year."""
    cfg, pol, state, *_, prm, tables = build(
        population=5000, seed=SEED, overrides=_high_demand(1.3)
    )
    sizes, waits, leavers, requests = [], [], [], []
    for _ in range(10):
        n, w = _year(state, prm, tables, SEED)
        sizes.append(n)
        waits.append(w["specialist_wait_days"] / w["specialist_visits"])
        left = w["specialist_gave_up"].sum() + w["specialist_went_elsewhere"].sum()
        leavers.append(left)
        requests.append(left + w["specialist_visits"])
    sizes = np.array(sizes, dtype=float)
    # Bounded: the last three years' list is no longer than the years 3-5 list by more than
    # what population ageing adds, and no year's list exceeds a quarter of the population.
    assert sizes[-3:].mean() < 1.3 * sizes[2:5].mean(), sizes
    assert sizes.max() < 0.25 * 5000, sizes
    assert max(waits) < 120, waits
    # What keeps it bounded is counted: leavers are a minority of the requests.
    share_left = np.array(leavers) / np.array(requests)
    assert (share_left > 0).all() and (share_left < 0.5).all(), share_left
    assert state.acc["unmet_no_place"].sum() == 0
