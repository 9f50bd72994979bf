"""Health-economic outputs: textbook examples checked by hand, and the invariants of the field."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zonesim import economics as E
from zonesim.metrics import COST_SECTORS


def _yearly(rows):
    """A per-year table from (policy, draw, year, population, qalys, hours, gp_cost) tuples; the
    other sectors cost nothing."""
    out = []
    for policy, draw, year, pop, qalys, hours, gp in rows:
        r = {"policy": policy, "draw": draw, "year": year, "population": pop, "qalys": qalys}
        r["informal_care_hours"] = hours
        for s in COST_SECTORS:
            r[f"cost_{s}_eur"] = 0.0
        r["cost_gp_eur"] = gp
        out.append(r)
    return pd.DataFrame(out)


# --- discounting ---------------------------------------------------------------------------------


def test_discount_factors_to_the_cent():
    """1,000 euro spent in year 3 is worth 942.60 today at 3% (KCE), 933.51 at 3.5% (NICE) and
    924.56 at 4% (NL); a QALY in year 5 is worth 0.9422 at 1.5%."""
    assert round(1000 * E.discount_factors([3], 0.03)[0], 2) == 942.60
    assert round(1000 * E.discount_factors([3], 0.035)[0], 2) == 933.51
    assert round(1000 * E.discount_factors([3], 0.04)[0], 2) == 924.56
    assert round(E.discount_factors([5], 0.015)[0], 4) == 0.9422
    assert E.discount_factors([1], 0.03)[0] == 1.0  # year 1 is not discounted


def test_named_conventions():
    assert (E.DISCOUNTING["kce"].costs, E.DISCOUNTING["kce"].effects) == (0.03, 0.015)
    assert (E.DISCOUNTING["nice"].costs, E.DISCOUNTING["nice"].effects) == (0.035, 0.035)
    assert (E.DISCOUNTING["nl"].costs, E.DISCOUNTING["nl"].effects) == (0.04, 0.015)
    with pytest.raises(ValueError, match="discounting"):
        E.discounted_totals(_yearly([("a", 0, 1, 1, 1, 0, 1)]), "belgium")


def test_discounted_totals_three_years_by_hand():
    """100,000 euro and 900 QALYs a year for 3 years, KCE rates:
    cost 100,000 (1 + 1/1.03 + 1/1.03^2) = 291,346.97; QALYs 900 (1 + 1/1.015 + 1/1.015^2)
    = 2,660.30."""
    df = _yearly([("sq", 0, y, 1000.0, 900.0, 0.0, 100_000.0) for y in (1, 2, 3)])
    t = E.discounted_totals(df, "kce").iloc[0]
    assert round(t["cost"], 2) == 291_346.97
    assert round(t["qalys"], 2) == 2_660.30
    assert t["cost_per_capita"] == pytest.approx(291.34697, abs=1e-5)


def test_societal_perspective_adds_informal_care_at_18_80():
    df = _yearly([("sq", 0, 1, 1000.0, 900.0, 500.0, 10_000.0)])
    payer = E.discounted_totals(df, perspective="payer").iloc[0]["cost"]
    societal = E.discounted_totals(df, perspective="societal").iloc[0]["cost"]
    assert payer == 10_000.0
    assert societal == pytest.approx(10_000.0 + 500 * 18.80)
    with pytest.raises(ValueError, match="perspective"):
        E.discounted_totals(df, perspective="hospital")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0, 1e7), min_size=1, max_size=6),
    st.lists(st.floats(0, 1e4), min_size=1, max_size=6),
)
def test_discounting_at_zero_is_the_identity(costs, qalys):
    n = min(len(costs), len(qalys))
    rows = [("p", 0, y + 1, 100.0, qalys[y], 0.0, costs[y]) for y in range(n)]
    t = E.discounted_totals(_yearly(rows), E.Discounting(0.0, 0.0, "none")).iloc[0]
    assert t["cost"] == pytest.approx(sum(costs[:n]), rel=1e-12, abs=1e-9)
    assert t["qalys"] == pytest.approx(sum(qalys[:n]), rel=1e-12, abs=1e-9)


# --- the frontier --------------------------------------------------------------------------------

# A textbook table (costs in euro, effects in QALYs): B is extendedly dominated (its ICER against
# A, 20,000, is above C's against B, 10,000: a mix of A and C does better), D is strongly
# dominated by C (dearer, fewer QALYs). Frontier: A, C (12,500 per QALY against A), E (50,000
# per QALY against C).
TEXTBOOK = {
    "A": (10_000.0, 5.0),
    "B": (12_000.0, 5.1),
    "C": (15_000.0, 5.4),
    "D": (16_000.0, 5.3),
    "E": (25_000.0, 5.6),
}


def test_textbook_icer_table_with_extended_dominance():
    names = list(TEXTBOOK)
    t = E.icer_frontier(names, [TEXTBOOK[n][0] for n in names], [TEXTBOOK[n][1] for n in names])
    t = t.set_index("strategy")
    assert t["status"].to_dict() == {"A": "ND", "C": "ND", "E": "ND", "B": "ED", "D": "D"}
    assert math.isnan(t.loc["A", "icer"])
    assert t.loc["C", "icer"] == pytest.approx(12_500.0)
    assert t.loc["E", "icer"] == pytest.approx(50_000.0)
    assert t.loc["E", "inc_cost"] == pytest.approx(10_000.0)
    assert t.loc["E", "inc_qalys"] == pytest.approx(0.2)
    assert math.isnan(t.loc["B", "icer"]) and math.isnan(t.loc["D", "icer"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1e6), st.floats(0, 100)),
        min_size=1,
        max_size=7,
        unique_by=lambda t: t,
    )
)
def test_frontier_icers_rise_and_nothing_on_it_is_dominated(points):
    names = [f"s{i}" for i in range(len(points))]
    c = [p[0] for p in points]
    e = [p[1] for p in points]
    t = E.icer_frontier(names, c, e)
    front = t[t["status"] == "ND"]
    icers = front["icer"].to_numpy()[1:]
    icers = icers[np.isfinite(icers)]
    assert (np.diff(icers) >= -1e-6 * np.maximum(1, np.abs(icers[1:]))).all()
    # A strongly dominated strategy is never on the frontier, and the cheapest
    # non-dominated strategy always is.
    for r in front.itertuples():
        assert not any(
            (ci <= r.cost and ei >= r.qalys and (ci < r.cost or ei > r.qalys))
            for ci, ei in zip(c, e, strict=True)
        )


# --- net monetary benefit, CEAC, EVPI ------------------------------------------------------------


@given(st.floats(-1e6, 1e6), st.floats(-100, 100), st.floats(0, 2e5), st.floats(0, 2e5))
def test_nmb_is_linear_in_wtp(cost, qalys, w1, w2):
    f = lambda w: float(E.net_monetary_benefit(cost, qalys, w))  # noqa: E731
    mid = f((w1 + w2) / 2)
    assert mid == pytest.approx((f(w1) + f(w2)) / 2, rel=1e-9, abs=1e-6)
    assert f(w2) - f(w1) == pytest.approx(qalys * (w2 - w1), rel=1e-9, abs=1e-6)


def _draws(values):
    """values: {policy: [(cost, qalys) per draw]} -> a discounted_totals-like frame."""
    rows = []
    for p, pairs in values.items():
        for d, (c, q) in enumerate(pairs):
            rows.append({"policy": p, "draw": d, "cost": c, "qalys": q})
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 4),
    st.integers(1, 8),
    st.data(),
)
def test_ceac_is_a_probability_summing_to_one(n_policies, n_draws, data):
    pair = st.tuples(st.floats(0, 1e6), st.floats(0, 50))
    values = {
        f"p{i}": data.draw(st.lists(pair, min_size=n_draws, max_size=n_draws))
        for i in range(n_policies)
    }
    out = E.ceac(_draws(values), wtp=[0, 20_000, 50_000, 100_000])
    assert out["probability"].between(0, 1).all()
    sums = out.groupby("wtp")["probability"].sum()
    assert np.allclose(sums, 1.0)
    assert (out.groupby("wtp")["optimal"].sum() == 1).all()
    ev = E.evpi(_draws(values), wtp=[0, 50_000])
    assert (ev["evpi"] >= -1e-6).all()  # perfect information is never worth less than nothing


def test_ceac_and_evpi_by_hand():
    """Two draws: in draw 0 the new policy gains 1 QALY for 10,000, in draw 1 it gains 1 QALY for
    60,000. At 30,000 per QALY it is best in one draw of two (probability 0.5); its expected NMB
    increment is 30,000 - 35,000 < 0, so the comparator stays optimal, and perfect information
    would be worth (20,000 + 0) / 2 = 10,000."""
    d = _draws({"sq": [(0.0, 0.0), (0.0, 0.0)], "new": [(10_000.0, 1.0), (60_000.0, 1.0)]})
    acc = E.ceac(d, wtp=[30_000]).set_index("policy")
    assert acc.loc["new", "probability"] == 0.5
    assert bool(acc.loc["sq", "optimal"]) and not bool(acc.loc["new", "optimal"])
    assert E.evpi(d, wtp=[30_000])["evpi"].iloc[0] == pytest.approx(10_000.0)


# --- the whole analysis and the budget impact ----------------------------------------------------


def _two_policy_table(years=5, draws=3):
    rows = []
    for d in range(draws):
        for y in range(1, years + 1):
            rows.append(("status_quo", d, y, 1000.0, 900.0, 2000.0, 1_000_000.0 + 1000 * d))
            rows.append(("new", d, y, 1000.0, 901.0, 1800.0, 1_020_000.0 + 1000 * d))
    return _yearly(rows)


def test_analyse_reports_increments_icer_and_nmb_against_the_comparator():
    res = E.analyse(_two_policy_table(), "status_quo", wtp=50_000)
    t = res.table.set_index("policy")
    f_c = E.discount_factors(range(1, 6), 0.03).sum()
    f_e = E.discount_factors(range(1, 6), 0.015).sum()
    assert t.loc["new", "inc_cost"] == pytest.approx(20_000 * f_c)
    assert t.loc["new", "inc_qalys"] == pytest.approx(1.0 * f_e)
    assert t.loc["new", "icer"] == pytest.approx(20_000 * f_c / f_e)
    assert t.loc["new", "inc_nmb"] == pytest.approx(50_000 * f_e - 20_000 * f_c)
    assert t.loc["status_quo", "inc_cost"] == 0.0
    assert set(res.draws.columns) >= {"inc_cost", "inc_qalys"}
    assert "no official threshold" in res.conventions()
    md = res.to_markdown()
    assert "| new |" in md and "Budget impact" in md
    rng = res.nmb_range((0.0, 50_000.0))
    assert rng.loc["new", "0"] == pytest.approx(-t.loc["new", "inc_cost"])
    assert rng.loc["new", "50,000"] == pytest.approx(t.loc["new", "inc_nmb"])
    assert "20,000 | 50,000 | 80,000" in md


def test_budget_impact_is_undiscounted_payer_cost_per_year():
    res = E.analyse(_two_policy_table(), "status_quo", perspective="societal")
    b = res.budget[res.budget["policy"] == "new"].set_index("year")
    assert list(b.index) == [1, 2, 3, 4, 5]
    # 20,000 euro a year more, undiscounted, informal care left out (payer) even when the
    # analysis itself takes the societal perspective.
    assert np.allclose(b["impact"], 20_000.0)
    assert np.allclose(b["impact_lo"], 20_000.0) and np.allclose(b["impact_hi"], 20_000.0)


def test_budget_impact_of_a_short_run_is_said():
    res = E.analyse(_two_policy_table(years=2), "status_quo")
    assert sorted(res.budget["year"].unique()) == [1, 2]
    assert any("2 year(s)" in n for n in res.notes)


def test_bad_inputs_name_the_field():
    df = _two_policy_table()
    with pytest.raises(ValueError, match="comparator"):
        E.analyse(df, "nobody")
    with pytest.raises(ValueError, match="wtp"):
        E.analyse(df, "status_quo", wtp=-1)
    with pytest.raises(ValueError, match="missing column"):
        E.analyse(df.drop(columns="qalys"), "status_quo")


@pytest.mark.filterwarnings("ignore:.*routine GP requests:RuntimeWarning")
def test_yearly_table_from_a_real_run():
    """The monthly time series of a (small) run adds up to the scorecard's totals."""
    from zonesim.metrics import flatten, timeseries
    from zonesim.model import ZoneModel

    m = ZoneModel(policy="status_quo", rng=3, population=4000, agents=False)
    m.run_for(60)
    m.reset_measurement()
    m.run_for(365 + 61)
    ts = timeseries(m)
    y = E.yearly_from_timeseries(ts, policy="status_quo", draw=0)
    assert list(y["year"]) == [1, 2]
    card = flatten(m.scorecard())
    py = card["person_years"]
    assert y["population"].sum() == pytest.approx(py, rel=1e-9)
    assert y["qalys"].sum() == pytest.approx(card["qalys_per_capita"] * py, rel=1e-6)
    assert y["cost_gp_eur"].sum() == pytest.approx(card["cost_gp_per_capita_eur"] * py, rel=1e-6)
    hours = card["informal_care_hours_per_capita"] * py
    assert hours > 0
    assert y["informal_care_hours"].sum() == pytest.approx(hours, rel=1e-6)


# --- figures -------------------------------------------------------------------------------------


def test_figures_render(tmp_path):
    pytest.importorskip("matplotlib")
    from zonesim import plots

    res = E.analyse(_two_policy_table(draws=4), "status_quo")
    for make in (plots.ce_plane_figure, plots.ceac_figure, plots.budget_impact_figure):
        fig = make(res)
        out = tmp_path / f"{make.__name__}.png"
        fig.savefig(out)
        assert out.stat().st_size > 5_000
    # The plane has one cloud and one mean per policy other than the comparator.
    ax = plots.ce_plane_figure(res).axes[0]
    assert next(t.get_text() for t in ax.get_legend().get_texts()) == "new"
    # One draw: no acceptability curve, said on the figure.
    one = E.analyse(_two_policy_table(draws=1), "status_quo")
    texts = [t.get_text() for t in plots.ceac_figure(one).axes[0].texts]
    assert any("no acceptability curve" in t for t in texts)


# --- a real comparison ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*routine GP requests:RuntimeWarning")
def test_a_real_comparison_in_the_currency_of_decisions():
    """A small comparison (3 policies x 3 replicates): every policy gets a row against the
    baseline, the zone totals of the per-year table are the runs' scorecards, and the analysis
    is the same whichever order the runs come in."""
    from zonesim import compare

    res = compare(
        name="econ",
        population=6_000,
        replicates=3,
        years=1.0,
        warmup_days=30,
        seed=5,
        policies=["status_quo", "case_management_pool", "strict_gatekeeping"],
        workers=1,
    )
    yearly = E.yearly_from_comparison(res)
    assert set(yearly["policy"]) == set(res.labels) and set(yearly["year"]) == {1}
    run = res.runs.set_index(["policy", "replicate"])
    for r in yearly.itertuples():
        py = run.loc[(r.policy, r.draw), "person_years"]
        assert r.population == pytest.approx(py, rel=1e-9)
        want = run.loc[(r.policy, r.draw), "cost_hospital_per_capita_eur"] * py
        assert r.cost_hospital_eur == pytest.approx(want, rel=1e-6)
    ce = E.from_comparison(res)
    assert ce.comparator == "status_quo"
    t = ce.table.set_index("policy")
    assert t.loc["status_quo", "inc_cost"] == 0 and t.loc["status_quo", "inc_qalys"] == 0
    assert set(t["status"]) <= {"ND", "D", "ED"} and (t["status"] == "ND").any()
    assert len(ce.acceptability) == 101 * 3
    assert sorted(ce.budget["year"].unique()) == [1]
    shuffled = E.analyse(yearly.sample(frac=1.0, random_state=1), "status_quo")
    pd.testing.assert_frame_equal(
        shuffled.table.set_index("policy").loc[t.index, ["cost", "qalys", "icer"]],
        t[["cost", "qalys", "icer"]],
    )


def test_yearly_scorecards_give_the_same_table_as_the_series():
    """Per-year scorecards (the runs pipeline keeps one per measured year) and the monthly series
    of the same years give the same per-year totals."""
    ts = pd.DataFrame(
        {
            "month": np.arange(1, 25),
            "person_years": np.full(24, 1000 / 12),
            "qalys_per_capita": np.linspace(0.80, 0.82, 24),
            "informal_care_hours_per_capita": np.full(24, 30.0),
            "cost_gp_per_capita_eur": np.linspace(150, 170, 24),
        }
    )
    by_series = E.yearly_from_timeseries(ts, policy="sq", draw=0)
    cards = []
    for y in (1, 2):
        m = ts[(ts["month"] - 1) // 12 + 1 == y]
        w = m["person_years"]
        card = {c: float((m[c] * w).sum() / w.sum()) for c in m.columns if c != "month"}
        card["person_years"] = float(w.sum())
        cards.append({"policy": "sq", "replicate": 0, "year": y, **card})
    by_cards = E.yearly_from_scorecards(pd.DataFrame(cards))
    pd.testing.assert_frame_equal(by_series, by_cards, check_dtype=False)
    with pytest.raises(ValueError, match="year"):
        E.yearly_from_scorecards(pd.DataFrame(cards).drop(columns="year"))


def test_write_outputs(tmp_path):
    pytest.importorskip("matplotlib")
    res = E.analyse(_two_policy_table(draws=3), "status_quo")
    written = E.write_outputs(res, tmp_path)
    assert sorted(written) == sorted(E.OUTPUT_FILES + E.FIGURE_FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)
    back = pd.read_csv(tmp_path / "cost_effectiveness.csv").set_index("policy")
    assert back.loc["new", "icer"] == pytest.approx(
        res.table.set_index("policy").loc["new", "icer"]
    )
    assert "no official threshold" in (tmp_path / "cost_effectiveness.md").read_text()
