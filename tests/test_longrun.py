"""Sound dynamics (issue 15): each balancing loop responds, common random numbers hold for years,
and the long-run harness measures what it says.

- recruitment answers vacancies: more vacant FTE -> more FTE recruited; a fractional post (a
  1.1-FTE pool's 0.1) is refilled as a fraction, within the labour market's yearly limit;
- a GP leaving: the list moves to a colleague, or the practice closes and its patients register
  elsewhere in the zone; a patient nobody takes is counted as without a GP;
- longer waits -> more deferral and more giving up, each counted apart;
- strain settles: at normal load it falls to zero, above it it rises towards its equilibrium;
- demography by design: the baseline keeps its 65+ share, `ageing` follows its path;
- for every preset, the status quo and the preset stay paired (correlation >= 0.5 in year 5
  across the 32 replicates of four sets of 8 seeds, a 30,000 zone), and sick leave and
  departure use separate draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine_helpers import build, fork_map
from zonesim import ZoneModel
from zonesim.config import builtin_names, load_config
from zonesim.core import state as S
from zonesim.core.day import simulate
from zonesim.experiment import available_cores
from zonesim.longrun import drift, paired_correlation, yearly


def views(state, prm):
    """The record arrays as the kernels see them (as core.day.simulate passes them)."""
    st = state._replace(zone=state.zone.view(np.recarray), acc=state.acc.view(np.recarray))
    return st, prm.view(np.recarray)


def working_fte(state, d):
    prov = state.prov
    working = (prov.state == S.PV_ACTIVE) | (prov.state == S.PV_SICK)
    return float(prov.fte[(prov.discipline == d) & working].sum())


def leave(state, d, fte):
    """Let working providers of discipline d leave until ``fte`` FTE have gone."""
    prov = state.prov
    gone = 0.0
    for j in np.flatnonzero((prov.discipline == d) & (prov.state == S.PV_ACTIVE)):
        if gone >= fte - 1e-9:
            break
        prov.state[j] = S.PV_LEFT
        gone += float(prov.fte[j])
    return gone


# --- recruitment answers vacancies ----------------------------------------------------------


def test_more_vacancies_bring_more_recruitment():
    recruited = []
    for vacant in (1.0, 4.0):
        # No departures during the test: only the vacancies made here are filled.
        cfg, pol, state, _, prm, tables = build(
            20_000,
            seed=3,
            overrides={
                "scenario.gp_retirement_per_year": 0.0,
                "parameters.workforce.attrition_per_year": 0.0,
                "scenario.recruitment_fte_per_100k_per_year": 50.0,  # not the limit here
            },
        )
        leave(state, S.GP, vacant)
        simulate(state, prm, tables, 3, 200)
        recruited.append(float(state.acc["recruited_fte"][0, S.GP]))
    assert recruited[0] > 0.0
    assert recruited[1] > recruited[0]


def test_recruitment_is_limited_by_the_labour_market():
    got = []
    for market in (20.0, 1.0):
        cfg, pol, state, _, prm, tables = build(
            20_000,
            seed=3,
            overrides={
                "scenario.gp_retirement_per_year": 0.0,
                "parameters.workforce.attrition_per_year": 0.0,
                "scenario.recruitment_fte_per_100k_per_year": market,
            },
        )
        leave(state, S.GP, 4.0)
        simulate(state, prm, tables, 3, 365)
        got.append(float(state.acc["recruited_fte"][0, S.GP]))
    # 1 FTE per 100,000 a year is 0.2 FTE a year for 20,000 inhabitants: one person, then the
    # market has nobody for five years; 20 per 100,000 (4 FTE a year) fills three in a year.
    assert got[1] == pytest.approx(1.0)
    assert got[0] >= 3.0


def test_a_fractional_post_is_refilled_as_a_fraction():
    # The case-management pool of 1.1 FTE per 110,000: a 1.0 and a 0.1 FTE person. The 0.1
    # leaves; recruitment must bring the pool back to 1.1 (whole persons never could).
    cfg, pol, state, _, prm, tables = build(
        110_000,
        seed=5,
        policy="case_management_pool",
        overrides={"parameters.workforce.attrition_per_year": 0.0},
    )
    before = working_fte(state, S.CASE_MANAGER)
    prov = state.prov
    cms = np.flatnonzero((prov.discipline == S.CASE_MANAGER) & (prov.state == S.PV_ACTIVE))
    small = cms[np.argmin(prov.fte[cms])]
    assert prov.fte[small] < 1.0
    prov.state[small] = S.PV_LEFT
    simulate(state, prm, tables, 5, 365)
    assert working_fte(state, S.CASE_MANAGER) == pytest.approx(before, abs=1e-5)


def test_the_gp_establishment_follows_the_demand_the_need_mix_implies():
    """A need mix that drifts towards chronic need raises the GP demand it implies; with the
    establishment following demand (elasticity 1) recruitment adds GP FTE, with a fixed one
    (elasticity 0) it adds none (no departures, so no vacancy otherwise)."""
    got = []
    for elasticity in (1.0, 0.0):
        cfg, pol, state, _, prm, tables = build(
            20_000,
            seed=3,
            overrides={
                "scenario.gp_retirement_per_year": 0.0,
                "parameters.workforce.attrition_per_year": 0.0,
                "parameters.workforce.gp_establishment_demand_elasticity": elasticity,
                "scenario.recruitment_fte_per_100k_per_year": 50.0,  # not the limit here
            },
        )
        before = working_fte(state, S.GP)
        # A tenth of the healthy become chronic: the zone's implied GP demand rises.
        pat, zr = state.pat, state.zone[0]
        healthy = np.flatnonzero((pat.situation < S.DECEASED) & (pat.need == 0))[::10]
        pat.need[healthy] = 1
        zr["need_count"][0] -= healthy.size
        zr["need_count"][1] += healthy.size
        simulate(state, prm, tables, 3, 300)
        got.append(working_fte(state, S.GP) - before)
    assert got[0] > 0.5  # a few percent more GP FTE
    assert abs(got[1]) < 1e-9


# --- a GP leaving: the list moves --------------------------------------------------------------


def _queues(st):
    return S.GpQueues(st.queue_pid, st.queue_day)


def _practice_gps(state, k):
    lo = int(state.prac.gp_start[k])
    return [j for j in range(lo, lo + int(state.prac.gp_slots[k])) if state.prov.state[j] == 0]


def test_a_leaving_gp_hands_the_list_to_a_colleague():
    from zonesim.core.practices import gp_departs

    cfg, pol, state, _, prm, tables = build(20_000, seed=2)
    k = next(k for k in range(len(state.prac.list_size)) if len(_practice_gps(state, k)) >= 2)
    j = _practice_gps(state, k)[0]
    pat = state.pat
    alive = pat.situation < S.DECEASED
    theirs = np.flatnonzero(alive & (pat.usual_gp == j))
    assert theirs.size > 0
    lists = state.prac.list_size.copy()
    state.prov.state[j] = S.PV_LEFT
    st, p = views(state, prm)
    gp_departs(st.pat, st.prov, st.prac, _queues(st), st.zone, st.acc, p[0], 0, j, 0)
    assert np.array_equal(state.prac.list_size, lists)  # the practice keeps its list
    new = pat.usual_gp[theirs]
    assert np.all(new != j)
    assert set(new.tolist()) <= set(_practice_gps(state, k))
    assert state.acc["list_moves"][0] == theirs.size


def test_a_closing_practice_sends_its_patients_elsewhere_in_the_zone():
    from zonesim.core.practices import gp_departs

    cfg, pol, state, _, prm, tables = build(20_000, seed=2)
    k = next(k for k in range(len(state.prac.list_size)) if len(_practice_gps(state, k)) == 1)
    (j,) = _practice_gps(state, k)
    pat = state.pat
    alive = pat.situation < S.DECEASED
    theirs = np.flatnonzero(alive & (pat.practice == k))
    total = int(state.prac.list_size.sum())
    state.prov.state[j] = S.PV_LEFT
    st, p = views(state, prm)
    gp_departs(st.pat, st.prov, st.prac, _queues(st), st.zone, st.acc, p[0], 0, j, 0)
    assert state.prac.list_size[k] == 0
    assert int(state.prac.list_size.sum()) == total
    assert np.all(pat.practice[theirs] != k)
    assert state.acc["practice_closures"][0] == 1
    # Each went to a practice with a working GP.
    for k2 in np.unique(pat.practice[theirs]):
        assert _practice_gps(state, int(k2))


def test_a_patient_nobody_takes_is_counted_without_a_gp():
    from zonesim.core.practices import count_without_gp, gp_departs

    # Every practice is full: the closing practice's patients stay where no GP works.
    cfg, pol, state, _, prm, tables = build(
        20_000, seed=2, overrides={"parameters.gatekeeper.practice_list_cap_per_fte": 1.0}
    )
    k = next(k for k in range(len(state.prac.list_size)) if len(_practice_gps(state, k)) == 1)
    (j,) = _practice_gps(state, k)
    n = int(state.prac.list_size[k])
    state.prov.state[j] = S.PV_LEFT
    st, p = views(state, prm)
    gp_departs(st.pat, st.prov, st.prac, _queues(st), st.zone, st.acc, p[0], 0, j, 0)
    assert state.prac.list_size[k] == n
    count_without_gp(st.prov, st.prac, st.zone, st.acc, 0)
    assert state.acc["without_gp_days"][0] == n


# --- demand answers access ------------------------------------------------------------------


def test_longer_waits_bring_more_deferral_and_giving_up():
    out = []
    for capacity in (8_200.0, 5_000.0):  # GP contacts per FTE a year: less capacity, longer waits
        cfg = load_config(
            overrides={"parameters.gatekeeper.gp_contacts_per_fte_per_year": capacity}
        )
        m = ZoneModel(cfg, population=20_000, rng=4, agents=False, years=1)
        m.run_for(200)
        card = m.scorecard()
        out.append(
            (
                card["experience"]["gp_wait_days_mean"],
                card["experience"]["gp_requests_deferred_per_1000"],
                card["experience"]["gp_requests_given_up_per_1000"],
            )
        )
    (w0, d0, g0), (w1, d1, g1) = out
    assert w1 > w0
    assert d1 > d0 and d1 > 0
    assert g1 > g0


# --- strain settles -------------------------------------------------------------------------


def test_strain_falls_at_normal_load_and_rises_under_overload():
    cfg, pol, state, _, prm, tables = build(20_000, seed=6)
    gp = (state.prov.discipline == S.GP) & (state.prov.state == S.PV_ACTIVE)
    start = float(state.prov.strain[gp].mean())
    simulate(state, prm, tables, 6, 365)
    working = (state.prov.discipline == S.GP) & (state.prov.state == S.PV_ACTIVE)
    assert float(state.prov.strain[working].mean()) < start
    # A third of the GP capacity: overload, strain rises well above the start.
    cfg, pol, state, _, prm, tables = build(
        20_000,
        seed=6,
        overrides={
            "parameters.gatekeeper.gp_contacts_per_fte_per_year": 2_700.0,
            "parameters.gatekeeper.deferral_max_share": 0.0,
        },
    )
    simulate(state, prm, tables, 6, 365)
    working = (state.prov.discipline == S.GP) & (state.prov.state == S.PV_ACTIVE)
    # A GP's utilisation tops out at capacity plus overtime: strain's equilibrium there is
    # (1 + max overtime - comfortable) / (full - comfortable), capped at 1 (0.52 at the fitted
    # defaults). The GPs in post (recruits start at zero) rise most of the way to it.
    w = cfg.parameters.workforce
    ceiling = 1.0 + cfg.parameters.gatekeeper.max_overtime_share
    eq = min(
        1.0,
        (ceiling - w.comfortable_utilisation)
        / (w.strain_full_utilisation - w.comfortable_utilisation),
    )
    assert float(np.median(state.prov.strain[working])) > start + 0.5 * (eq - start)


# --- demography by design ---------------------------------------------------------------------


def test_the_baseline_keeps_its_age_structure_and_ageing_follows_its_path():
    base = yearly(seed=3, years=3, population=10_000, warmup_days=0)
    aged = yearly(seed=3, years=3, population=10_000, warmup_days=0, scenario="ageing")
    s0 = base[0]["share_65plus"]
    assert abs(base[-1]["share_65plus"] - s0) < 0.004
    # ageing: 21% -> 25% in 20 years, i.e. +0.6 points in three years.
    assert aged[-1]["share_65plus"] - s0 == pytest.approx(0.006, abs=0.003)
    assert base[-1]["population"] == pytest.approx(10_000, rel=0.01)
    assert base[-1]["emigrants_per_1000"] > 0  # the pyramid is kept by migration by age


def test_drift_compares_the_last_three_years_with_the_first_three():
    rows = [{"x": v} for v in (1.0, 1.0, 1.0, 5.0, 1.1, 1.1, 1.1)]
    assert drift(rows, ["x"])["x"] == pytest.approx(0.1)
    assert paired_correlation([1, 2, 3], [2, 4, 6.5]) > 0.99
    assert paired_correlation([1, 1, 1], [1, 1, 1]) == 1.0


# --- common random numbers hold for years -----------------------------------------------------


def test_paired_runs_keep_their_entrants_paired():
    """Entrants land in the same slots of two paired runs (same seed, two policies) even when
    the runs differ by a few deaths: a patient's draws are keyed by its slot, so an entrant
    shifted by one slot would be another person for the rest of the run. Filling slots in order
    paired under a fifth of them after a year (this zone: 18%); keyed by rank, 60%."""
    runs = []
    for policy in ("status_quo", "strict_gatekeeping"):
        m = ZoneModel(policy=policy, population=10_000, rng=5, years=1.2, agents=False)
        fresh = m.state.pat.situation == S.EMPTY  # the slots entrants fill
        m.run_for(365)
        runs.append(m)
    a, b = (m.state.pat for m in runs)
    deaths = [float(m.state.acc["deaths"].sum()) for m in runs]
    assert deaths[0] != deaths[1]  # the runs did diverge
    used = fresh & ((a.situation < S.DECEASED) | (b.situation < S.DECEASED))
    assert used.sum() > 100
    same = used & (a.birth_day == b.birth_day) & (a.situation < S.DECEASED)
    assert same.sum() / used.sum() > 0.45  # 0.60 here; 0.18 when slots were filled in order


def test_sick_leave_and_departure_have_their_own_draws():
    from zonesim.core import parts, workforce

    purposes = parts.purposes()  # the core's and every process module's; raises on a reuse
    assert len(set(purposes.values())) == len(purposes), "two decisions share a purpose"
    assert workforce.PURPOSE_PROVIDER != workforce.PURPOSE_PROVIDER_LEAVE
    assert purposes["workforce.provider"] == workforce.PURPOSE_PROVIDER


# The four sets of 8 seeds of docs/validation.md (scripts/pairing_seed_sets.py): 32 replicates.
PAIRING_SEEDS = [first + r for first in (101, 201, 301, 401) for r in range(8)]


def _year5(job):
    policy, seed = job
    return yearly(seed=seed, years=5, population=30_000, policy=policy)[4]


@pytest.mark.slow
def test_every_preset_stays_paired_with_the_status_quo_in_year_5():
    """Paired outcomes (same seed, preset vs status quo) stay correlated >= 0.5 in year 5 on a
    30,000 zone, for every preset and headline metric. Measured over the 32 replicates of the
    validation page's four sets of 8 seeds: a correlation over 8 replicates has a sampling
    spread of about 0.2 where the model's is 0.7, so one set of 8 misses 0.5 by chance now and
    then (each set is shown on docs/validation.md); 32 replicates estimate the model's own."""
    metrics = ("unmet_need_days_per_1000", "cost_per_capita_eur", "gp_fte_per_100k")
    policies = builtin_names("policies")
    jobs = [(pol, s) for pol in policies for s in PAIRING_SEEDS]
    rows = fork_map(_year5, jobs, workers=min(available_cores(), 4))
    by = {
        pol: rows[k * len(PAIRING_SEEDS) : (k + 1) * len(PAIRING_SEEDS)]
        for k, pol in enumerate(policies)
    }
    base = by["status_quo"]
    low = {}
    for pol in policies:
        if pol == "status_quo":
            continue
        for m in metrics:
            low[(pol, m)] = paired_correlation([r[m] for r in base], [r[m] for r in by[pol]])
    bad = {k: round(v, 2) for k, v in low.items() if v < 0.5}
    assert not bad, f"paired correlation below 0.5 in year 5 (32 replicates): {bad}"
