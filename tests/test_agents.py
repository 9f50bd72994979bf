"""The Mesa agents are views of the state arrays: counts, reads, writes, isolation, AgentSet API."""

from __future__ import annotations

import numpy as np
import pytest
from mesa.time import Priority

import zonesim
from zonesim import CareCouncil, InformalCaregiver, Patient, Provider, ZonesimInputError
from zonesim.core import state as S

POP = 5000


def living_slots(model) -> set[int]:
    return set(np.flatnonzero(model.state.pat.situation < S.DECEASED).tolist())


def patient_slots(model) -> set[int]:
    return {a.index for a in model.agents_by_type[Patient]}


@pytest.fixture(scope="module")
def year_model():
    """A model run for a year from its initial state (read-only use)."""
    m = zonesim.ZoneModel(population=POP, rng=11, warmup_days=0)
    m.run_years(1)
    return m


@pytest.fixture
def model():
    return zonesim.ZoneModel(population=POP, rng=3)


def test_one_patient_agent_per_living_inhabitant_before_and_after_a_year():
    m = zonesim.ZoneModel(population=POP, rng=11)
    assert patient_slots(m) == living_slots(m)
    assert len(m.agents_by_type[Patient]) == int(m.state.zone["alive"].sum())
    first = {a.index: a for a in m.agents_by_type[Patient]}

    m.run_years(1)

    acc = m.state.acc
    assert acc["deaths"].sum() > 0, "a year of a zone must see deaths"
    assert acc["entrants"].sum() > 0, "a year of a zone must see entrants"
    living = living_slots(m)
    assert patient_slots(m) == living
    assert len(m.agents_by_type[Patient]) == len(living) == int(m.state.zone["alive"].sum())
    # the dead lost their agent; survivors kept theirs (same object); entrants got new ones
    died = [i for i in first if i not in living]
    assert died
    assert all(first[i] not in m.agents_by_type[Patient] for i in died)
    assert all(first[i].care_situation == "deceased" for i in died)
    survivor = next(i for i in first if i in living)
    assert m.patient_agent(survivor) is first[survivor]
    assert any(i not in first for i in living)


def test_patient_reads_match_arrays(year_model):
    m = year_model
    st = m.state
    pat = st.pat
    agents = list(m.agents_by_type[Patient])
    for a in agents[:: max(1, len(agents) // 300)]:
        i = a.index
        assert a.need_level == pat.need[i]
        assert a.health_utility == pytest.approx(float(pat.utility[i]))
        assert a.age == pytest.approx((int(st.day[0]) - int(pat.birth_day[i])) / 365.25)
        assert a.municipality_index == pat.municipality[i]
        assert a.municipality == m.layout.municipality_names[pat.municipality[i]]
        assert a.zone == m.layout.zone_names[0]
        assert a.practice == pat.practice[i]
        assert a.health_literacy == ("limited" if pat.literacy[i] == S.LIMITED else "adequate")
        assert a.ses == ("preferential" if pat.ses[i] == S.PREFERENTIAL else "standard")
        assert a.care_situation == S.SITUATION_NAMES[pat.situation[i]]
        assert a.care_situation != "deceased"
        for field in (
            "gp_contacts",
            "specialist_visits",
            "hospital_admissions",
            "switch_moments",
            "case_managed_days",
            "unmet_need_days",
        ):
            assert getattr(a, field) == getattr(pat, field)[i], field
        cg = a.caregiver
        if pat.caregiver[i] < 0:
            assert cg is None
        elif cg is not None:
            assert cg.index == pat.caregiver[i]
    # the counters are not all zero after a year (the reads are not trivially equal)
    assert sum(a.gp_contacts for a in agents) > 0
    assert len({a.health_literacy for a in agents}) == 2


def test_caregiver_and_provider_reads_match_arrays(year_model):
    m = year_model
    st = m.state
    cgs = list(m.agents_by_type.get(InformalCaregiver, []))
    assert cgs, "the default zone has informal caregivers"
    for c in cgs:
        assert c.burden == pytest.approx(float(st.cg.burden[c.index]))
        assert c.state == S.CAREGIVER_STATE_NAMES[st.cg.state[c.index]]
        assert c.state != "ended"
        p = c.patient
        if p is not None:
            assert p.index == st.cg.patient[c.index]
    provs = list(m.agents_by_type[Provider])
    staffed = np.flatnonzero(st.prov.state <= S.PV_SICK)
    assert sorted(p.index for p in provs) == staffed.tolist()
    for p in provs:
        i = p.index
        assert p.discipline == S.DISCIPLINE_NAMES[st.prov.discipline[i]]
        assert p.fte == pytest.approx(float(st.prov.fte[i]))
        assert p.strain == pytest.approx(float(st.prov.strain[i]))
        assert p.workability == pytest.approx(1 - float(st.prov.strain[i]))
        assert p.caseload == st.prov.caseload[i]
        assert p.utilisation == pytest.approx(float(st.prov.utilisation_ema[i]))
        assert p.state in ("active", "sick_leave")
        assert p.practice == (None if st.prov.practice[i] < 0 else st.prov.practice[i])
    assert {p.discipline for p in provs} >= {"gp", "case_manager"}


def test_writes_go_to_the_arrays(model):
    st = model.state
    a = next(p for p in model.agents_by_type[Patient] if p.need_level == 0)
    z = a.zone_index
    counts = st.zone["need_count"][z].copy()
    a.need_level = 3
    assert st.pat.need[a.index] == 3
    assert st.zone["need_count"][z, 0] == counts[0] - 1
    assert st.zone["need_count"][z, 3] == counts[3] + 1

    g = a.equity_group
    total = float(st.zone["utility_sum"][z, g])
    old = a.health_utility
    a.health_utility = 0.25
    assert st.pat.utility[a.index] == np.float32(0.25)
    assert float(st.zone["utility_sum"][z, g]) == pytest.approx(total + 0.25 - old)

    prov = next(iter(model.agents_by_type[Provider]))
    prov.strain = 0.75
    assert st.prov.strain[prov.index] == np.float32(0.75)
    assert prov.workability == pytest.approx(0.25)

    cg = next(iter(model.agents_by_type[InformalCaregiver]))
    cg.burden = 0.5
    assert st.cg.burden[cg.index] == np.float32(0.5)

    with pytest.raises(ZonesimInputError):
        a.need_level = 4
    with pytest.raises(ZonesimInputError):
        a.health_utility = 1.5
    with pytest.raises(ZonesimInputError):
        prov.strain = float("nan")
    assert st.pat.need[a.index] == 3


def test_two_models_never_share_state():
    m1 = zonesim.ZoneModel(population=POP, rng=5)
    m2 = zonesim.ZoneModel(population=POP, rng=5)
    before = m2.state.copy()
    a1 = next(iter(m1.agents_by_type[Patient]))
    a2 = m2.patient_agent(a1.index)
    assert a2 is not None and a2 is not a1
    a1.need_level = 3 if a1.need_level != 3 else 0
    a1.health_utility = 0.123
    m1.run_for(20)
    assert m1.day == m1.day0 + 20
    assert m2.day == m2.day0 and m2.time == 0
    for name, x, y in zip(S.State._fields, before, m2.state, strict=True):
        if isinstance(x, tuple):
            for f, u, v in zip(x._fields, x, y, strict=True):
                assert np.array_equal(u, v), f"{name}.{f}"
        else:
            assert np.array_equal(x, y), name
    assert a2.need_level == before.pat.need[a1.index]
    assert a2.health_utility == pytest.approx(float(before.pat.utility[a1.index]))
    assert m1.agents_by_type[Patient] is not m2.agents_by_type[Patient]
    assert all(a.model is m2 for a in m2.agents_by_type[Patient])


def test_agentset_select_groupby_agg(year_model):
    patients = year_model.agents_by_type[Patient]
    complex_ = patients.select(lambda a: a.need_level >= 2)
    expected = int(
        np.count_nonzero(
            (year_model.state.pat.situation < S.DECEASED) & (year_model.state.pat.need >= 2)
        )
    )
    assert len(complex_) == expected > 0
    by_lit = complex_.groupby("health_literacy")
    counts = by_lit.count()
    assert set(counts) == {"adequate", "limited"}
    assert sum(counts.values()) == expected
    mean_u = by_lit.agg("health_utility", np.mean)
    assert all(0 <= v <= 1 for v in mean_u.values())
    assert patients.agg("need_level", max) <= 3
    by_situation = patients.groupby("care_situation").count()
    assert "deceased" not in by_situation
    assert sum(by_situation.values()) == len(patients)
    gps = year_model.agents_by_type[Provider].select(lambda p: p.discipline == "gp")
    assert len(gps) > 0
    assert all(0 <= s <= 1 for s in gps.get("strain"))


def test_care_council_per_zone_records_each_cycle():
    m = zonesim.ZoneModel(population=POP, rng=2, policy={"council_cycle_days": 30})
    councils = list(m.agents_by_type[CareCouncil])
    assert len(councils) == m.n_zones == 1
    c = councils[0]
    assert c.indicators == []
    truth = {}

    def check():  # runs at day 90 after the council (lower priority)
        st = m.state
        alive = st.pat.situation < S.DECEASED
        truth["unresolved"] = int(np.count_nonzero(alive & (st.pat.flags & S.F_UNRESOLVED > 0)))
        truth["cm_queue_len"] = int(st.zone["cm_queue_len"][0])
        # since model time 0 (the end of the warm-up, when the council was set up)
        start = m.acc_start
        truth["reports"] = float(st.acc["reports"][0] - start["reports"][0])
        truth["gp"] = (
            float(st.acc["demand_hours"][0, S.GP] - start["demand_hours"][0, S.GP]),
            float(st.acc["capacity_hours"][0, S.GP] - start["capacity_hours"][0, S.GP]),
        )

    m.schedule_event(check, at=90, priority=Priority.LOW)
    m.run_for(95)
    assert [r["time"] for r in c.indicators] == [30.0, 60.0, 90.0]
    assert [r["day"] for r in c.indicators] == [m.day0 + 30, m.day0 + 60, m.day0 + 90]
    last = c.indicators[-1]
    assert last["unresolved_switch_moments"] == truth["unresolved"]
    assert last["cm_queue_len"] == truth["cm_queue_len"]
    # per-cycle counters add up to the accumulators' totals over days 0-90
    assert sum(r["reports"] for r in c.indicators) == pytest.approx(truth["reports"])
    for r in c.indicators:
        assert r["alive"] > 0.9 * POP
        assert 0 < r["gp_utilisation"] < 10
    demand, capacity = truth["gp"]
    assert capacity > 0
    assert min(r["gp_utilisation"] for r in c.indicators) <= demand / capacity + 1e-9
    assert max(r["gp_utilisation"] for r in c.indicators) >= demand / capacity - 1e-9
