"""The engine's invariants (tests/test_engine.py: ``check_invariants``) for every valid
configuration, not only the defaults.

Hypothesis draws every scenario parameter, every model parameter, the practice mix and every
policy lever within the bounds their metadata in :mod:`zonesim.config` declares (``lo``/``hi``,
``choices``, list lengths, and the cross-field rules: increasing age bands, a practice mix that
sums to 1). Each parameter is either its default or a value anywhere in its range, so examples
mix ordinary and extreme values. Small zones (1,000-4,000 inhabitants) and two months keep an
example well under a second; under ``CI=true`` the conftest's ``ci`` profile makes the draws
deterministic (derandomized), so CI is not flaky.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_helpers import build
from test_engine import _alive, check_invariants
from zonesim.config import Config, PolicyConfig, iter_parameters, load_config
from zonesim.core.day import simulate
from zonesim.metrics import acc_window, compute_scorecard

# Drawn by the test itself (the zone's size and layout) or names, not parameters.
NOT_DRAWN = {
    "scenario.name",
    "scenario.years",
    "zone.name",
    "zone.population",
    "zone.n_municipalities",
    "zone.municipalities_csv",
    "zone.zone_id",
    "zone.geography_seed",
    "zone.practice_mix",
    "parameters.need.age_band_edges",
}
POLICY_NOT_DRAWN = {"name", "description"}


def _number(f, default) -> st.SearchStrategy:
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if isinstance(default, int) and not isinstance(default, float):
        lo = 0 if lo is None else math.ceil(lo)
        hi = max(lo, default) * 10 + 10 if hi is None else math.floor(hi)
        return st.integers(lo, hi)
    lo = -1e6 if lo is None else float(lo)
    hi = 1e6 if hi is None else float(hi)
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def leaf(f, default) -> st.SearchStrategy:
    """The default, or any value the parameter's metadata allows."""
    if isinstance(default, bool):
        anything = st.booleans()
    elif isinstance(default, str):
        anything = st.sampled_from(f.metadata["choices"])
    elif isinstance(default, tuple):
        elem = _number(f, default[0])
        anything = st.lists(elem, min_size=len(default), max_size=len(default)).map(tuple)
    else:
        anything = _number(f, default)
    return st.one_of(st.just(default), anything)


CONFIG_LEAVES = [(p, f, v) for p, f, v in iter_parameters(Config()) if p not in NOT_DRAWN]
POLICY_LEAVES = [
    (p, f, v) for p, f, v in iter_parameters(PolicyConfig()) if p not in POLICY_NOT_DRAWN
]


@st.composite
def practice_mixes(draw) -> tuple[float, float, float]:
    w = draw(st.lists(st.floats(0, 1), min_size=3, max_size=3).filter(lambda x: sum(x) > 0.05))
    a, b = w[0] / sum(w), w[1] / sum(w)
    return (a, b, max(0.0, 1.0 - a - b))


age_edges = st.lists(st.integers(1, 119), min_size=4, max_size=4, unique=True).map(
    lambda xs: tuple(float(x) for x in sorted(xs))
)


@st.composite
def configurations(draw) -> tuple[dict, dict]:
    overrides = {p: draw(leaf(f, v), label=p) for p, f, v in CONFIG_LEAVES}
    overrides["zone.practice_mix"] = draw(
        st.one_of(st.just((0.25, 0.60, 0.15)), practice_mixes()), label="practice_mix"
    )
    overrides["parameters.need.age_band_edges"] = draw(
        st.one_of(st.just((15.0, 45.0, 65.0, 80.0)), age_edges), label="age_band_edges"
    )
    overrides["zone.n_municipalities"] = draw(st.integers(1, 12), label="n_municipalities")
    levers = {p: draw(leaf(f, v), label=f"policy.{p}") for p, f, v in POLICY_LEAVES}
    return overrides, levers


def test_the_strategy_reaches_every_parameter():
    """Every numeric, boolean and choice parameter of the schema is drawn (none forgotten)."""
    drawn = {p for p, _, _ in CONFIG_LEAVES} | NOT_DRAWN
    assert drawn == {p for p, _, _ in iter_parameters(Config())}
    assert len(CONFIG_LEAVES) > 100 and len(POLICY_LEAVES) >= 20


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=configurations(),
    population=st.integers(1000, 4000),
    seed=st.integers(0, 2**31),
    days=st.integers(20, 60),
)
def test_invariants_hold_for_every_valid_configuration(drawn, population, seed, days):
    overrides, levers = drawn
    load_config(overrides={**overrides, "zone.population": population})  # valid by construction
    cfg, pol, state, layout, prm, tables = build(
        population=population, seed=seed, overrides=overrides, policy_overrides=levers
    )
    alive0 = _alive(state)
    check_invariants(state, alive0)
    for stretch in (days // 2, days - days // 2):  # in stretches, as the model runs
        simulate(state, prm, tables, seed, stretch)
        check_invariants(state, alive0)
    w = acc_window(state.acc, np.zeros_like(state.acc))
    card = compute_scorecard(w, state, cfg, [pol], [0], int(state.day[0]))
    for section, metrics in card.items():
        for k, v in metrics.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                assert not math.isinf(v), (section, k, v)
    for k, v in card["cost"].items():
        assert v >= 0, k


def test_ci_profile_is_deterministic():
    """Under CI=true the examples are the same on every run (tests/conftest.py)."""
    from hypothesis import settings as hsettings

    ci = hsettings.get_profile("ci")
    assert ci.derandomize and ci.database is None and ci.deadline is None
