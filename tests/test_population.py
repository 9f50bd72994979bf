"""The initial population (zonesim.population.build_state): the shares users calibrate against,
conservation, the links between arrays, reproducibility and common random numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonesim import config as C
from zonesim import population
from zonesim.core import state as S
from zonesim.core.common import DAYS_65
from zonesim.core.streams import PURPOSE_CARE_PLAN, uniforms
from zonesim.errors import ResourceError, ZonesimInputError
from zonesim.geography import Municipality, Zone
from zonesim.population import (
    AGE_BAND_START_YEARS,
    HEADROOM_YEARS,
    Layout,
    age_band_probabilities,
    build_state,
    expected_death_rate,
    headroom,
    turnover_per_year,
)

CFG = C.Config()
SQ = C.load_policy("status_quo")
INTEGRATED = C.load_policy("integrated")
N_DEFAULT = CFG.zone.population  # 110,000


@pytest.fixture(scope="module")
def default_zone():
    """The built-in 110,000-inhabitant zone under status quo, seed 7."""
    return build_state(CFG, SQ, 7)


@pytest.fixture(scope="module")
def integrated_zone():
    return build_state(CFG, INTEGRATED, 7)


def living(st_: S.State, z: int = 0) -> slice:
    r = st_.zone[z]
    return slice(int(r["first_patient"]), int(r["next_free"]))


def make_zone(name: str, pops: list[int]) -> Zone:
    munis = [Municipality(f"{name}-{i}", f"{name} {i}", p) for i, p in enumerate(pops)]
    return Zone(name, tuple(munis))


# --- shares of the configuration ---------------------------------------------------------------


def test_shares_match_the_configuration(default_zone):
    st_, layout = default_zone
    s = living(st_)
    n = layout.n_patients_initial
    assert n == N_DEFAULT
    age_days = -st_.pat.birth_day[s].astype(np.int64)
    dem = CFG.parameters.demography
    # 65+ share (sd about 0.0012 at 110k)
    assert np.mean(age_days >= DAYS_65) == pytest.approx(CFG.scenario.share_65plus_start, abs=0.01)
    # health literacy: 29% limited, and the odds ratio by SES
    lit, ses = st_.pat.literacy[s], st_.pat.ses[s]
    assert lit.mean() == pytest.approx(dem.limited_literacy_share, abs=0.01)
    assert ses.mean() == pytest.approx(dem.preferential_ses_share, abs=0.01)
    p1, p0 = lit[ses == 1].mean(), lit[ses == 0].mean()
    odds_ratio = (p1 / (1 - p1)) / (p0 / (1 - p0))
    assert odds_ratio == pytest.approx(dem.limited_literacy_odds_ratio_preferential, rel=0.12)
    # chronic disease among people aged 15+ (Sciensano: 29%)
    adult = age_days >= np.floor(15 * 365.25)
    chronic = st_.pat.need[s][adult] >= 1
    assert chronic.mean() == pytest.approx(0.29, abs=0.04)
    # every inhabitant is alive, stable, with a plausible age
    assert np.all(st_.pat.situation[s] == S.STABLE)
    assert age_days.min() >= 0 and age_days.max() < 105 * 365.25


def test_chronic_share_follows_the_prevalence_table_in_expectation(default_zone):
    st_, _ = default_zone
    s = living(st_)
    need = CFG.parameters.need
    pref = CFG.parameters.demography.preferential_ses_share
    probs = age_band_probabilities(CFG.scenario.share_65plus_start)
    band = np.searchsorted(np.asarray(need.age_band_edges), AGE_BAND_START_YEARS, side="right")
    prev = np.asarray(need.prevalence_chronic)[band]
    eff = (1 - pref) * prev + pref * np.minimum(0.95, prev * need.preferential_need_multiplier)
    adult = AGE_BAND_START_YEARS >= 15
    expected = (probs[adult] * eff[adult]).sum() / probs[adult].sum()
    age_days = -st_.pat.birth_day[s].astype(np.int64)
    got = np.mean(st_.pat.need[s][age_days >= np.floor(15 * 365.25)] >= 1)
    assert got == pytest.approx(expected, abs=0.01)


def test_65plus_share_is_exact_in_expectation():
    for share in (0.0, 0.19, 0.21, 0.26, 0.6):
        p = age_band_probabilities(share)
        assert p.sum() == pytest.approx(1.0)
        assert p[AGE_BAND_START_YEARS >= 65].sum() == pytest.approx(share)
    assert population.DAYS_65 == DAYS_65  # the builder and the kernels agree on who is 65+


def test_utility_follows_need(default_zone):
    st_, _ = default_zone
    s = living(st_)
    table = np.asarray(CFG.parameters.need.utility_by_need, dtype=np.float32)
    assert np.array_equal(st_.pat.utility[s], table[st_.pat.need[s]])
    assert set(np.unique(st_.pat.propensity[s])) == set(range(S.N_PROPENSITY))


# --- conservation and the zone's aggregates ----------------------------------------------------


def test_counts_conserve(default_zone):
    st_, layout = default_zone
    r = st_.zone[0]
    s = living(st_)
    n = int(layout.municipality_population.sum())
    assert n == layout.n_patients_initial == r["alive"] == r["population_target"]
    assert np.count_nonzero(st_.pat.situation < S.DECEASED) == n
    per_muni = np.bincount(st_.pat.municipality[s], minlength=len(layout.municipality_ids))
    assert np.array_equal(per_muni, layout.municipality_population)
    # free slots are EMPTY, sized for the turnover (and growth over the horizon)
    free = st_.pat.situation[int(r["next_free"]) : int(r["end_patient"])]
    assert np.all(free == S.EMPTY)
    turnover = turnover_per_year(CFG)
    assert len(free) == headroom(
        n, CFG.scenario.population_growth_per_year, CFG.scenario.years, turnover
    )
    # aggregates the kernels keep incrementally match the arrays
    group = 2 * st_.pat.literacy[s].astype(int) + st_.pat.ses[s]
    assert np.array_equal(r["alive_group"], np.bincount(group, minlength=4))
    assert np.array_equal(r["need_count"], np.bincount(st_.pat.need[s], minlength=4))
    assert r["alive_65plus"] == np.count_nonzero(-st_.pat.birth_day[s] >= DAYS_65)
    sums = np.bincount(group, weights=st_.pat.utility[s].astype(np.float64), minlength=4)
    assert np.allclose(r["utility_sum"], sums)
    assert np.all(r["served_fraction"] == 1.0)
    assert np.all(st_.acc == np.zeros(1, S.ACC_DTYPE))
    assert st_.day[0] == 0 and st_.spec_n[0] == 0 and st_.hosp_n[0] == 0


def test_the_kernels_recount_agrees_with_the_builder(default_zone):
    from zonesim.core.demography import recount
    from zonesim.core.params import compile_params

    st_, layout = default_zone
    prm, _ = compile_params(CFG, layout.policies, st_)
    again = st_.copy()
    recount(again.pat, again.zone, prm[0], 0, 0)
    for key in ("alive", "alive_65plus", "alive_group", "need_count"):
        assert np.array_equal(again.zone[key], st_.zone[key]), key
    assert np.allclose(again.zone["utility_sum"], st_.zone["utility_sum"])


# --- practices and providers -------------------------------------------------------------------


def test_patients_belong_to_a_practice_of_their_municipality_and_zone(default_zone):
    st_, _ = default_zone
    s = living(st_)
    r = st_.zone[0]
    k = st_.pat.practice[s].astype(np.int64)
    assert k.min() >= r["first_practice"] and k.max() < r["end_practice"]
    assert np.all(st_.prac.zone[k] == 0)
    assert np.array_equal(st_.prac.municipality[k], st_.pat.municipality[s])
    assert np.array_equal(st_.prac.list_size, np.bincount(k, minlength=len(st_.prac.kind)))
    # every inhabited municipality has a practice
    assert set(np.unique(st_.prac.municipality)) == set(np.unique(st_.pat.municipality[s]))


def test_usual_gp_is_an_active_gp_of_the_patients_practice(default_zone):
    st_, _ = default_zone
    s = living(st_)
    k = st_.pat.practice[s].astype(np.int64)
    gp = st_.pat.usual_gp[s].astype(np.int64)
    start = st_.prac.gp_start[k]
    assert np.all((gp >= start) & (gp < start + st_.prac.gp_slots[k]))
    assert np.all(st_.prov.discipline[gp] == S.GP)
    assert np.all(st_.prov.practice[gp] == k)
    assert np.all(st_.prov.state[gp] == S.PV_ACTIVE)


def test_gp_slots_hold_the_practice_gps_and_one_vacant_spare(default_zone):
    st_, _ = default_zone
    prov, prac = st_.prov, st_.prac
    for k in range(len(prac.kind)):
        slots = np.arange(prac.gp_start[k], prac.gp_start[k] + prac.gp_slots[k])
        assert np.all(prov.discipline[slots] == S.GP)
        assert np.all(prov.practice[slots] == k)
        assert prov.state[slots[-1]] == S.PV_VACANT
        assert np.all(prov.state[slots[:-1]] == S.PV_ACTIVE)
        n_gp = len(slots) - 1
        lo, hi = {S.SOLO: (1, 1), S.GROUP_PRACTICE: (3, 5), S.MULTIDISCIPLINARY: (4, 8)}[
            int(prac.kind[k])
        ]
        assert lo <= n_gp <= hi


def test_practice_mix_holds_as_gp_shares():
    state_, _ = build_state(CFG.with_overrides({"zone.population": 500_000}), SQ, 3)
    prac, prov = state_.prac, state_.prov
    n_gps = prac.gp_slots - 1
    shares = np.bincount(prac.kind, weights=n_gps, minlength=3) / n_gps.sum()
    assert np.allclose(shares, CFG.zone.practice_mix, atol=1.5 / n_gps.sum())
    gp = (prov.discipline == S.GP) & (prov.state == S.PV_ACTIVE)
    assert np.count_nonzero(prov.fte[gp] != 1.0) <= 1  # only the zone's last GP is fractional


def provider_fte(st_: S.State, z: int = 0) -> np.ndarray:
    r = st_.zone[z]
    sl = slice(int(r["first_provider"]), int(r["end_provider"]))
    active = st_.prov.state[sl] == S.PV_ACTIVE
    return np.bincount(
        st_.prov.discipline[sl][active],
        weights=st_.prov.fte[sl][active].astype(np.float64),
        minlength=S.N_DISCIPLINES,
    )


@pytest.mark.parametrize("policy", [SQ, INTEGRATED], ids=["status_quo", "integrated"])
def test_provider_fte_matches_the_per_100k_figures(policy):
    st_, _ = build_state(CFG, policy, 11)
    wf = CFG.parameters.workforce
    per = N_DEFAULT / 1e5
    expected = np.zeros(S.N_DISCIPLINES)
    expected[S.GP] = CFG.parameters.gatekeeper.gp_fte_per_100k * per
    expected[S.NURSE] = wf.nurse_fte_per_100k * per
    expected[S.PHYSIO] = wf.physio_fte_per_100k * per
    expected[S.PSYCHOLOGIST] = wf.psychologist_fte_per_100k * per
    expected[S.SOCIAL_WORKER] = wf.social_worker_fte_per_100k * per
    expected[S.CASE_MANAGER] = policy.case_manager_fte_per_100k * per
    expected[S.POOLED_DIABETES] = policy.pooled_diabetes_educator_fte_per_100k * per
    expected[S.POOLED_PSYCH_NURSE] = policy.pooled_psychiatric_nurse_fte_per_100k * per
    expected[S.POOLED_PSYCHOLOGIST] = policy.pooled_psychologist_fte_per_100k * per
    assert np.allclose(provider_fte(st_), expected, atol=1e-4)
    prov = st_.prov
    # contracted hours per discipline
    hours = np.full(S.N_DISCIPLINES, wf.hours_per_fte_per_week)
    hours[S.GP] = wf.gp_hours_per_fte_per_week
    hours[S.CASE_MANAGER] = CFG.parameters.case_management.hours_per_fte_per_week
    assert np.allclose(prov.hours_per_week, prov.fte * hours[prov.discipline], rtol=1e-6)
    active = prov.state == S.PV_ACTIVE
    assert np.allclose(prov.strain[active], 0.2)
    assert np.allclose(prov.utilisation_ema[active], wf.comfortable_utilisation)
    assert np.all(prov.zone == 0) and np.all(prov.caseload == 0)
    # vacant spares for recruitment in every non-GP discipline that has staff
    for d in range(1, S.N_DISCIPLINES):
        vacant = np.count_nonzero((prov.discipline == d) & (prov.state == S.PV_VACANT))
        persons = np.count_nonzero((prov.discipline == d) & active)
        assert vacant == (int(0.2 * persons) + 1 if expected[d] > 0 else 0), d


def test_multidisciplinary_practices_have_attached_nurses(integrated_zone):
    st_, _ = integrated_zone
    prov, prac = st_.prov, st_.prac
    nurse = (prov.discipline == S.NURSE) & (prov.state == S.PV_ACTIVE)
    attached = np.bincount(
        prov.practice[nurse & (prov.practice >= 0)],
        weights=prov.fte[nurse & (prov.practice >= 0)],
        minlength=len(prac.kind),
    )
    gp = (prov.discipline == S.GP) & (prov.state == S.PV_ACTIVE)
    gp_fte = np.bincount(prov.practice[gp], weights=prov.fte[gp], minlength=len(prac.kind))
    multi = prac.kind == S.MULTIDISCIPLINARY
    assert multi.any()
    assert np.allclose(attached[multi], 0.5 * gp_fte[multi], atol=1e-5)
    assert np.all(attached[~multi] == 0)


def test_attached_case_managers_go_to_the_largest_lists():
    pol = C.load_policy("case_management_pool", {"cm_organisation": "practice_attached"})
    st_, _ = build_state(CFG, pol, 5)
    prov, prac = st_.prov, st_.prac
    cm = (prov.discipline == S.CASE_MANAGER) & (prov.state == S.PV_ACTIVE)
    where = prov.practice[cm]
    assert np.all(where >= 0)
    largest = np.argsort(-prac.list_size, kind="stable")[: np.count_nonzero(cm)]
    assert set(where) == set(largest)
    pooled, _ = build_state(CFG, C.load_policy("case_management_pool"), 5)
    cm_pool = (pooled.prov.discipline == S.CASE_MANAGER) & (pooled.prov.state == S.PV_ACTIVE)
    assert np.all(pooled.prov.practice[cm_pool] == -1)


# --- caregivers --------------------------------------------------------------------------------


def test_caregivers_link_both_ways(default_zone):
    st_, _ = default_zone
    s = living(st_)
    r = st_.zone[0]
    used = slice(int(r["first_caregiver"]), int(r["next_free_caregiver"]))
    pids = st_.cg.patient[used]
    assert np.all(st_.cg.state[used] == S.CG_ACTIVE)
    assert np.array_equal(st_.pat.caregiver[pids], np.arange(used.start, used.stop))
    assert len(np.unique(pids)) == len(pids)
    has = np.flatnonzero(st_.pat.caregiver[s] >= 0) + s.start
    assert np.array_equal(np.sort(pids), has)
    assert np.all(st_.pat.need[pids] >= 2)
    complex_ = np.count_nonzero(st_.pat.need[s] >= 2)
    share = CFG.parameters.caregivers.caregiver_share
    assert len(pids) / complex_ == pytest.approx(share, abs=0.03)
    b = st_.cg.burden[used]
    assert b.min() >= 0 and b.max() <= 1 and b.mean() == pytest.approx(2 / 5.2, abs=0.02)
    free = st_.cg.state[int(r["next_free_caregiver"]) : int(r["end_caregiver"])]
    assert np.all(free == S.CG_DECEASED) and len(free) == len(pids) + 64


# --- queues and lists --------------------------------------------------------------------------


def test_gp_queues_and_lists_are_sized(default_zone):
    st_, _ = default_zone
    prac = st_.prac
    cap = prac.queue_cap.astype(np.int64)
    assert np.all(cap & (cap - 1) == 0)  # powers of two
    assert np.all(cap >= np.maximum(64, 0.25 * prac.list_size))
    assert np.all(cap < 2 * np.maximum(64, 0.25 * prac.list_size))
    assert np.array_equal(prac.queue_start, np.concatenate([[0], np.cumsum(cap)[:-1]]))
    assert st_.queue_pid.shape == st_.queue_day.shape == (cap.sum(),)
    assert st_.queue_pid.dtype == np.int32 and st_.queue_day.dtype == np.int16
    assert np.all(prac.queue_len == 0) and np.all(prac.queue_head == 0)
    slots = st_.pat.need.shape[0]
    assert st_.spec_pid.shape[0] == max(1024, int(np.ceil(0.25 * slots)))
    assert st_.hosp_pid.shape[0] == max(256, int(np.ceil(0.02 * slots)))
    assert st_.episodes.shape == (1, max(256, int(np.ceil(0.03 * slots))))
    assert st_.cmq_pid.shape == st_.cmq_day.shape == (1, max(128, int(np.ceil(0.01 * slots))))
    for a in (st_.spec_n, st_.hosp_n, st_.day):
        assert a.shape == (1,) and a.dtype == np.int64


def test_headroom_follows_growth_and_mortality_not_the_horizon():
    grow = CFG.with_overrides({"scenario.population_growth_per_year": 0.01})
    st_, layout = build_state(grow, SQ, 1, years=10)
    r = st_.zone[0]
    free = int(r["end_patient"] - r["next_free"])
    turnover = turnover_per_year(grow)
    assert free == int(np.ceil(N_DEFAULT * (turnover * HEADROOM_YEARS + 0.01 * 10))) + 128
    assert layout.years_planned == 10.0
    # without growth the slots are the same for every horizon (entrants reuse the slots of the
    # dead), so that a seed's first years do not depend on the length of the run
    slots = {y: int(build_state(CFG, SQ, 1, years=y)[0].zone[0]["end_patient"]) for y in (1, 5, 20)}
    assert len(set(slots.values())) == 1, slots
    # entrants replace the dead: at least 1.5% a year, more where more people die
    assert turnover >= 0.015
    assert turnover == pytest.approx(max(0.015, 1.3 * expected_death_rate(CFG, 0.21)))
    older = CFG.with_overrides(
        {"scenario.share_65plus_end": 0.30, "parameters.demography.mortality_gompertz_a": -10.0}
    )
    assert turnover_per_year(older) > turnover
    young = CFG.with_overrides(
        {"scenario.share_65plus_start": 0.05, "scenario.share_65plus_end": 0.05}
    )
    assert turnover_per_year(young) == 0.015


# --- reproducibility and common random numbers -------------------------------------------------


def assert_states_equal(a: S.State, b: S.State) -> None:
    for name, x, y in zip(S.State._fields, a, b, strict=True):
        if isinstance(x, tuple):
            for f, u, v in zip(x._fields, x, y, strict=True):
                assert np.array_equal(u, v), f"{name}.{f}"
        else:
            assert np.array_equal(x, y), name


def test_same_seed_gives_identical_arrays(default_zone):
    again, layout = build_state(CFG, SQ, 7)
    assert_states_equal(default_zone[0], again)
    assert layout.seed == 7


def test_different_seed_gives_different_population(default_zone):
    other, _ = build_state(CFG, SQ, 8)
    first = default_zone[0]
    for f in ("birth_day", "need", "literacy", "ses", "propensity", "practice", "usual_gp"):
        assert not np.array_equal(getattr(first.pat, f), getattr(other.pat, f)), f


PATIENT_ATTRIBUTES = (
    "birth_day",
    "municipality",
    "practice",
    "usual_gp",
    "need",
    "literacy",
    "ses",
    "propensity",
    "situation",
    "utility",
    "caregiver",
)


def test_two_policies_give_the_same_patients(default_zone, integrated_zone):
    a, b = default_zone[0], integrated_zone[0]
    for f in PATIENT_ATTRIBUTES:
        assert np.array_equal(getattr(a.pat, f), getattr(b.pat, f)), f
    for f in S.CAREGIVER_FIELDS:
        assert np.array_equal(getattr(a.cg, f), getattr(b.cg, f)), f
    # only the care-plan bit may differ, and the larger share adds care plans
    other = ~np.uint8(S.F_CARE_PLAN)
    assert np.array_equal(a.pat.flags & other, b.pat.flags & other)
    plan_a = (a.pat.flags & S.F_CARE_PLAN) > 0
    plan_b = (b.pat.flags & S.F_CARE_PLAN) > 0
    assert SQ.care_plan_share < INTEGRATED.care_plan_share
    assert np.all(plan_b[plan_a]) and plan_b.sum() > plan_a.sum()
    # practices: same sizes and GPs; the boost only turns practices multidisciplinary
    for f in ("municipality", "gp_start", "gp_slots", "list_size"):
        assert np.array_equal(getattr(a.prac, f), getattr(b.prac, f)), f
    changed = a.prac.kind != b.prac.kind
    assert np.all(b.prac.kind[changed] == S.MULTIDISCIPLINARY)
    n_gp = int(a.prac.gp_start[-1] + a.prac.gp_slots[-1])
    for f in ("discipline", "practice", "fte", "state"):
        assert np.array_equal(getattr(a.prov, f)[:n_gp], getattr(b.prov, f)[:n_gp]), f


def test_care_plans_use_the_kernels_own_draw(integrated_zone):
    st_, layout = integrated_zone
    s = living(st_)
    u = uniforms(layout.seed, np.arange(s.start, s.stop), 0, PURPOSE_CARE_PLAN)
    expect = (st_.pat.need[s] >= 2) & (u < INTEGRATED.care_plan_share)
    assert np.array_equal((st_.pat.flags[s] & S.F_CARE_PLAN) > 0, expect)


def test_a_larger_boost_converts_a_superset():
    kinds = []
    for boost in (0.0, 0.2, 0.5, 1.0):
        pol = C.load_policy("status_quo", {"multidisciplinary_share_boost": boost})
        kinds.append(build_state(CFG, pol, 4)[0].prac.kind)
    multi = [k == S.MULTIDISCIPLINARY for k in kinds]
    for small, large in itertools.pairwise(multi):
        assert np.all(large[small])
    assert np.all(multi[-1])


# --- regions -----------------------------------------------------------------------------------


def test_a_region_of_three_zones_has_disjoint_contiguous_ranges():
    zones = [
        make_zone("A", [30_000, 12_000, 40_000]),
        make_zone("B", [60_000, 5_000]),
        make_zone("C", [90_000, 20_000, 1_000, 0]),
    ]
    policies = [SQ, INTEGRATED, SQ]
    st_, layout = build_state(CFG, policies, 21, zones=zones)
    assert isinstance(layout, Layout)
    assert layout.zone_names == ["A", "B", "C"] and layout.policies == policies
    assert list(layout.municipality_zone) == [0, 0, 0, 1, 1, 2, 2, 2, 2]
    assert layout.n_patients_initial == 258_000
    zr = st_.zone
    for first, end, total in (
        ("first_patient", "end_patient", st_.pat.need.shape[0]),
        ("first_caregiver", "end_caregiver", st_.cg.state.shape[0]),
        ("first_practice", "end_practice", st_.prac.kind.shape[0]),
        ("first_provider", "end_provider", st_.prov.state.shape[0]),
    ):
        assert zr[first][0] == 0 and zr[end][-1] == total, first
        assert np.array_equal(zr[first][1:], zr[end][:-1]), first
        assert np.all(zr[end] > zr[first]), first
    for z in range(3):
        r = zr[z]
        s = living(st_, z)
        assert r["alive"] == sum(m.population for m in zones[z].municipalities)
        k = st_.pat.practice[r["first_patient"] : r["end_patient"]]  # free slots too
        assert k.min() >= r["first_practice"] and k.max() < r["end_practice"]
        assert np.all(layout.municipality_zone[st_.pat.municipality[s]] == z)
        assert np.all(st_.prac.zone[r["first_practice"] : r["end_practice"]] == z)
        assert np.all(st_.prov.zone[r["first_provider"] : r["end_provider"]] == z)
        gp = st_.pat.usual_gp[s]
        assert np.all((gp >= r["first_provider"]) & (gp < r["end_provider"]))
        cg = st_.cg.patient[r["first_caregiver"] : r["next_free_caregiver"]]
        assert np.all((cg >= s.start) & (cg < s.stop))
    # an uninhabited municipality gets no practice
    assert 8 not in set(st_.prac.municipality)
    # zone A alone gets the same people as zone A of the region (streams are per zone)
    alone, _ = build_state(CFG, SQ, 21, zones=zones[:1])
    a = living(alone)
    for f in ("birth_day", "need", "literacy", "ses", "propensity", "practice", "usual_gp"):
        assert np.array_equal(getattr(alone.pat, f)[a], getattr(st_.pat, f)[a]), f


# --- small and odd zones -----------------------------------------------------------------------


def test_tiny_zone_gets_a_practice_in_every_municipality():
    st_, _ = build_state(CFG.with_overrides({"zone.population": 5000}), SQ, 2)
    assert st_.zone[0]["alive"] == 5000
    assert len(np.unique(st_.prac.municipality)) == 7
    gp = (st_.prov.discipline == S.GP) & (st_.prov.state == S.PV_ACTIVE)
    assert st_.prov.fte[gp].sum() == pytest.approx(74 * 0.05, abs=1e-4)


def test_zone_without_gps_points_patients_at_the_vacant_slot():
    cfg = CFG.with_overrides(
        {"parameters.gatekeeper.gp_fte_per_100k": 0.0, "zone.population": 20_000}
    )
    st_, _ = build_state(cfg, SQ, 2)
    s = living(st_)
    gp = st_.pat.usual_gp[s]
    assert np.all(st_.prov.discipline[gp] == S.GP)
    assert np.all(st_.prov.state[gp] == S.PV_VACANT)
    assert np.array_equal(gp, st_.prac.gp_start[st_.pat.practice[s]])


@settings(max_examples=25)
@given(
    pops=st.lists(st.integers(0, 4000), min_size=1, max_size=6).filter(lambda p: sum(p) > 0),
    seed=st.integers(0, 2**63 - 1),
    gp_density=st.sampled_from([0.0, 5.0, 74.0, 400.0]),
    boost=st.floats(0, 1),
)
def test_invariants_hold_for_any_zone(pops, seed, gp_density, boost):
    cfg = CFG.with_overrides({"parameters.gatekeeper.gp_fte_per_100k": gp_density})
    pol = C.load_policy("integrated", {"multidisciplinary_share_boost": boost})
    st_, layout = build_state(cfg, pol, seed, zones=[make_zone("Z", pops)])
    s = living(st_)
    assert s.stop - s.start == sum(pops) == layout.n_patients_initial
    assert np.array_equal(np.bincount(st_.pat.municipality[s], minlength=len(pops)), pops)
    k = st_.pat.practice[s]
    assert np.array_equal(st_.prac.municipality[k], st_.pat.municipality[s])
    gp = st_.pat.usual_gp[s]
    assert np.all(st_.prov.practice[gp] == k) and np.all(st_.prov.discipline[gp] == S.GP)
    assert provider_fte(st_)[S.GP] == pytest.approx(gp_density * sum(pops) / 1e5, abs=1e-3)
    c = st_.pat.caregiver[s]
    assert np.all(st_.cg.patient[c[c >= 0]] == np.flatnonzero(c >= 0) + s.start)


# --- validation --------------------------------------------------------------------------------


def test_an_empty_zone_is_refused_naming_the_field():
    with pytest.raises(ZonesimInputError, match=r"zones\[1\]\.population"):
        build_state(CFG, SQ, 1, zones=[make_zone("A", [100]), make_zone("B", [0, 0])])
    bad = Zone("Empty", (Municipality("X", "X", 0),))
    with pytest.raises(ZonesimInputError, match="population"):
        build_state(CFG, SQ, 1, zones=[bad])


def test_a_state_over_the_memory_guard_is_refused(monkeypatch):
    monkeypatch.setenv("ZONESIM_MAX_STATE_BYTES", "1000000")
    with pytest.raises(ResourceError, match=r"zone\.population.*memory guard"):
        build_state(CFG, SQ, 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"seed": -1}, "seed"),
        ({"policies": [SQ, SQ]}, "policies"),
        ({"years": 0}, "years"),
        ({"zones": []}, "zones"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"config": CFG, "policies": SQ, "seed": 1} | kwargs
    with pytest.raises(ZonesimInputError, match=field):
        build_state(**args)
