"""The care council (process 10) and the budget envelope."""

from __future__ import annotations

import numpy as np
import pytest

from zonesim import ZoneModel
from zonesim.config import Config, load_policy
from zonesim.core import state as S
from zonesim.errors import ZonesimInputError
from zonesim.governance import FLEXIBLE, Forecaster
from zonesim.policies import apply_budget, organised_cost_per_year


def test_forecaster_follows_a_linear_trend():
    f = Forecaster()
    for t in range(30):
        forecast = f.update(np.array([10.0 + 2.0 * t, 5.0]))
    # After a long linear series the one-step forecast is the next value.
    assert forecast[0] == pytest.approx(10.0 + 2.0 * 30, rel=0.02)
    assert forecast[1] == pytest.approx(5.0)


def flexible_cost(model):
    st, costs = model.state, model.config.parameters.costs
    working = (st.prov.state == S.PV_ACTIVE) | (st.prov.state == S.PV_SICK)
    total = 0.0
    for d in FLEXIBLE:
        fte = float(st.prov.fte[working & (st.prov.discipline == d)].sum())
        per = (
            costs.case_manager_fte_year
            if d == S.CASE_MANAGER
            else (costs.pooled_specialist_fte_year)
        )
        total += fte * per
    return total


def fte_by_flexible(model):
    st = model.state
    working = (st.prov.state == S.PV_ACTIVE) | (st.prov.state == S.PV_SICK)
    return {d: float(st.prov.fte[working & (st.prov.discipline == d)].sum()) for d in FLEXIBLE}


def test_adaptive_council_moves_capacity_to_the_pressed_discipline_at_equal_cost():
    # Attrition and recruitment would also change FTE: switch them off to see the council alone.
    cfg = Config().with_overrides(
        {
            "parameters.workforce.attrition_per_year": 0.0,
            "parameters.workforce.recruitment_per_year": 0.0,
            "parameters.workforce.attrition_strain_slope": 0.0,
        }
    )
    policy = load_policy("integrated", {"council_cycle_days": 60})
    model = ZoneModel(cfg, policy=policy, rng=3, population=20000)
    cost0 = flexible_cost(model)
    before = fte_by_flexible(model)
    model.run_for(365)
    council = model.councils[0]
    moves = [d for d in council.decisions if d["moved_fte"] > 0]
    assert len(council.decisions) == 6
    assert moves, "the council never moved capacity"
    # Each move goes from the least to the most pressed discipline.
    for d in moves:
        assert d["pressure"][d["to"]] > d["pressure"][d["from"]]
    # Equal cost: the organised budget does not grow.
    assert flexible_cost(model) == pytest.approx(cost0, rel=1e-4)
    after = fte_by_flexible(model)
    assert after != before
    # Its forecasts are per municipality of the zone.
    assert len(moves[0]["forecast_by_municipality"]) == len(model.layout.municipality_ids)


def test_watching_council_changes_nothing():
    model = ZoneModel(policy="case_management_pool", rng=3, population=8000)
    before = model.state.prov.fte.copy()
    model.run_for(200)
    council = model.councils[0]
    assert len(council.indicators) == 2 and council.decisions == []
    working = model.state.prov.state != S.PV_VACANT
    # Only recruitment can change FTE of a non-adaptive zone: slots that were working keep it.
    assert np.array_equal(
        before[working & (before > 0)], model.state.prov.fte[working & (before > 0)]
    )


def test_budget_envelope_refuses_with_a_clear_error():
    pol = load_policy("integrated", {"budget_envelope_per_capita": 2.0})
    with pytest.raises(ZonesimInputError) as info:
        apply_budget(pol, Config(), 110_000)
    msg = str(info.value)
    assert "budget_envelope_per_capita" in msg and "integrated" in msg and "2" in msg
    with pytest.raises(ZonesimInputError):
        ZoneModel(policy=pol, rng=1, population=5000)


def test_budget_envelope_scales_staff_to_fit():
    pol = load_policy("integrated", {"budget_envelope_per_capita": 12.0, "over_budget": "scale"})
    assert organised_cost_per_year(pol, Config(), 110_000) > 12.0 * 110_000
    scaled = apply_budget(pol, Config(), 110_000)
    assert organised_cost_per_year(scaled, Config(), 110_000) == pytest.approx(12.0 * 110_000)
    assert scaled.case_manager_fte_per_100k < pol.case_manager_fte_per_100k
    ratio = scaled.case_manager_fte_per_100k / pol.case_manager_fte_per_100k
    assert scaled.pooled_psychologist_fte_per_100k == pytest.approx(
        pol.pooled_psychologist_fte_per_100k * ratio
    )
    # Within budget: unchanged.
    assert apply_budget(load_policy("status_quo"), Config(), 110_000) == load_policy("status_quo")
