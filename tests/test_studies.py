"""Studies through the one run pipeline: a comparison is a one-point study (shared warm-up,
branched policies, results per year, resume), with parameter uncertainty when asked."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import zonesim
from zonesim import ZonesimInputError
from zonesim.experiment import Experiment
from zonesim.runs.psa import PSA, draw_parameters, parse_psa, uncertain

SMALL = dict(
    population=2500,
    replicates=3,
    years=2.0,
    warmup_days=20,
    policies=["status_quo", "integrated"],
    seed=11,
    workers=1,
)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.fixture(scope="module")
def small():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return zonesim.compare(**SMALL)


def test_results_are_kept_per_year_and_any_window_can_be_compared(small):
    assert small.windows() == ["horizon", "year 1", "year 2"]
    by_year = small.by_year()
    assert len(by_year) == 2 * 3 * 2  # policy x replicate x year
    assert list(by_year.columns[:5]) == ["policy", "replicate", "seed", "year", "population"]
    assert (by_year["population"] == 2500).all()
    assert {"cost_per_capita_eur", "qalys_per_capita", "person_years"} <= set(by_year)
    # a window's table is that year's runs alone; the horizon is the whole measured time
    y2 = small.at("year 2")
    assert y2.window == "year 2" and small.at(2).window == "year 2"
    year2 = by_year[by_year["year"] == 2].reset_index(drop=True)
    assert np.array_equal(
        y2.values("cost_per_capita_eur").ravel(),
        year2.sort_values(
            ["policy", "replicate"],
            key=lambda s: s.map({"status_quo": 0, "integrated": 1}) if s.name == "policy" else s,
        )["cost_per_capita_eur"].to_numpy(),
    )
    # person-years add up: the horizon is the two years together
    hz = small.runs.set_index(["policy", "replicate"])["person_years"]
    per_year = by_year.groupby(["policy", "replicate"])["person_years"].sum()
    assert np.allclose(hz.sort_index(), per_year.sort_index())
    assert "window: year 2" in y2.table() and "window: the whole horizon" in small.table()
    with pytest.raises(ZonesimInputError, match="window"):
        small.at("year 3")


def test_the_ranking_summary_says_per_aim_whether_the_order_holds(small):
    rk = small.ranking()
    assert set(rk["aim"]) == {"population_health", "experience", "cost", "workforce", "equity"}
    assert set(rk["window"]) == {"year 1", "year 2", "horizon"}
    hz = rk[rk["window"] == "horizon"]
    assert hz["same_order"].all() and (hz["kendall_tau"] == 1.0).all()
    assert rk["best_share"].between(0, 1).all()
    for _, row in rk.iterrows():
        assert sorted(row["order"].split(" > ")) == ["integrated", "status_quo"]
    text = small.ranking_text()
    assert "population health" in text and "best" in text


def test_every_policy_of_a_replicate_branches_from_one_shared_warm_up(tmp_path):
    from zonesim.runs import run_replicate

    store = tmp_path / "store"
    res = zonesim.compare(**{**SMALL, "replicates": 2, "years": 0.2}, store=store)
    # the study's runs are the in-process ones: warm-up under status_quo, then branched
    plan = Experiment().replace(**{**SMALL, "replicates": 2, "years": 0.2}).resolve()
    for label, pol in plan.policies.items():
        card, _ = run_replicate(plan.config, pol, plan.seeds[1], 0.2, 20)
        row = res.runs[(res.runs["policy"] == label) & (res.runs["replicate"] == 1)]
        assert row["cost_per_capita_eur"].item() == card["cost_per_capita_eur"]
    # one warm-up per replicate, shared by both policies (removed once the study is done)
    assert len(plan.study.warm_tasks) == 2 and not list((store / "warmups").glob("*.npz"))
    again = zonesim.compare(**{**SMALL, "replicates": 2, "years": 0.2}, store=store)
    assert (again.executed, again.resumed) == (0, 4)
    pd.testing.assert_frame_equal(again.runs, res.runs)


def test_a_comparison_can_start_from_a_checkpoint(tmp_path):
    model = zonesim.ZoneModel(population=2500, rng=3, agents=False, years=1.5)
    model.run_for(40)
    path = model.save(tmp_path / "warm.npz")
    res = zonesim.compare(
        checkpoint=str(path),
        replicates=2,
        years=0.2,
        policies=["status_quo", "integrated"],
        workers=1,
    )
    assert "from the checkpoint" in res.header() and len(res.runs) == 4
    # replicates start from the same state with their own futures
    sq = res.runs[res.runs["policy"] == "status_quo"]["cost_per_capita_eur"].to_numpy()
    assert sq[0] != sq[1]
    with pytest.raises(ZonesimInputError, match="population"):
        zonesim.compare(checkpoint=str(path), population=1000, replicates=2, years=0.1)


def test_psa_draws_once_per_replicate_the_same_for_every_policy():
    psa = PSA(enabled=True)
    a, b = draw_parameters(psa, 7, 0), draw_parameters(psa, 7, 1)
    assert a == draw_parameters(psa, 7, 0) and a != b
    assert len(a) == len(uncertain()) > 20
    for u in uncertain():  # within the schema's valid bounds
        lo, hi = u.lo, u.hi
        assert (lo is None or a[u.key] >= lo) and (hi is None or a[u.key] <= hi)
    plan = Experiment().replace(**{**SMALL, "psa": True}).resolve()
    cfgs = {}
    for task in plan.study.tasks.values():
        cfgs.setdefault(task.replicate, set()).add(task.config_hash[:0] + repr(task.config))
    assert all(len(c) == 1 for c in cfgs.values())  # one configuration per replicate
    for task in plan.study.tasks.values():  # and the replicate's warm-up runs under it too
        assert task.warm_task.config == task.config
    assert len({next(iter(c)) for c in cfgs.values()}) == 3  # and each replicate its own


def test_psa_named_distributions_and_bad_input():
    psa = parse_psa(
        {
            "assumptions": False,
            "parameters": {
                "parameters.switching.cm_work_hours_per_day": {
                    "dist": "triangular",
                    "bounds": [0.5, 2.0],
                    "mode": 1.0,
                },
                "parameters.care.gp_contacts_per_year[2]": {"dist": "normal", "mean": 12, "sd": 1},
            },
        },
        "s.toml",
    )
    d = draw_parameters(psa, 1, 0)
    assert set(d) == {
        "parameters.switching.cm_work_hours_per_day",
        "parameters.care.gp_contacts_per_year[2]",
    }
    assert 0.5 <= d["parameters.switching.cm_work_hours_per_day"] <= 2.0
    for bad, key in [
        (
            {"parameters": {"parameters.nope": {"dist": "uniform", "bounds": [0, 1]}}},
            "psa.parameters.parameters.nope",
        ),
        (
            {"parameters": {"parameters.switching.cm_work_hours_per_day": {"dist": "cauchy"}}},
            "psa.parameters.parameters.switching.cm_work_hours_per_day",
        ),
        ({"spread": 2}, "psa.spread"),
        (
            {
                "parameters": {
                    "parameters.switching.report_probability": {
                        "dist": "uniform",
                        "bounds": [0.5, 1.5],
                    }
                }
            },
            "psa.parameters.parameters.switching.report_probability.bounds",
        ),
    ]:
        with pytest.raises(ZonesimInputError) as exc:
            parse_psa(bad, "s.toml")
        assert key in str(exc.value) and "s.toml" in str(exc.value)


def test_psa_widens_the_intervals_and_the_table_says_so(small):
    psa = zonesim.compare(**SMALL, psa=True)
    assert "intervals: replicates and parameter uncertainty (PSA)" in psa.table()
    assert "intervals: replicate noise only" in small.table()
    assert psa.draws is not None and len(psa.draws) == 3
    assert {"psa.parameters.workforce.strain_rise_per_day"} <= set(psa.by_year())


def test_a_parameter_a_difference_depends_on_drawn_wide_widens_that_interval():
    """At equal replicates and seeds, drawing the case manager's salary widens the interval of
    the case-management cost difference (zero width without: the policy's staff are fixed) and
    leaves a difference that does not depend on it (QALYs) exactly as it was: the draw reaches
    every run, and parameter uncertainty only widens what depends on the parameter."""
    policies = ["status_quo", "case_management_pool"]
    kw = {**SMALL, "population": 1500, "replicates": 4, "years": 1.0, "policies": policies}
    salary = "parameters.costs.case_manager_fte_year"
    wide = {
        "assumptions": False,
        "parameters": {salary: {"dist": "uniform", "bounds": [3e4, 1.5e5]}},
    }
    plain, psa = zonesim.compare(**kw), zonesim.compare(**kw, psa=wide)
    assert psa.draws[salary].nunique() == 4

    def width(res, metric):
        d = res.differences().set_index("metric").loc[metric]
        return float(d["ci_high"] - d["ci_low"])

    cm = "cost_case_management_per_capita_eur"
    assert width(plain, cm) < 1e-6 and width(psa, cm) > 1.0
    assert width(psa, "qalys_per_capita") == width(plain, "qalys_per_capita") > 0
    # the paired difference of replicate r scales with its own draw
    diff = psa.values(cm)[1] - psa.values(cm)[0]
    assert np.corrcoef(diff, psa.draws.sort_values("replicate")[salary])[0, 1] > 0.99


def _same_card(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and np.array_equal(
        np.array(list(a.values()), dtype=float),
        np.array([b[k] for k in a], dtype=float),
        equal_nan=True,
    )


def test_evaluate_and_a_model_warm_up_under_the_status_quo_as_a_study_does():
    """One warm-up rule everywhere: evaluate(X) and ZoneModel(policy=X) give the study's run of
    X for the same seed (warm up under the status quo, X takes over at the end of it)."""
    from zonesim.metrics import flatten
    from zonesim.runs import run_replicate

    kw = dict(seed=5, years=0.2, warmup_days=20, population=1500)
    card, _ = run_replicate(None, "integrated", 5, 0.2, 20, 1500)
    ev = zonesim.evaluate({"policy": "integrated"}, **kw)
    assert _same_card(ev, card)
    model = zonesim.ZoneModel(
        policy="integrated", population=1500, rng=5, years=0.2, warmup_days=20, agents=False
    )
    assert model.time == 0 and model.policy.name == "integrated"
    model.run_for(model.horizon_days)
    assert _same_card(flatten(model.scorecard()), card)
    # warming up under the policy itself is another history (and asked for by name)
    own = zonesim.evaluate({"policy": "integrated"}, warmup_policy="integrated", **kw)
    assert not _same_card(own, card)
    own_card, _ = run_replicate(None, "integrated", 5, 0.2, 20, 1500, warmup_policy="integrated")
    assert _same_card(own, own_card)


def test_a_study_draws_from_a_fitted_ranges_file_relative_to_it(tmp_path):
    import json

    salary = "parameters.costs.case_manager_fte_year"
    (tmp_path / "fit").mkdir()
    (tmp_path / "fit" / "fitted.json").write_text(
        json.dumps(
            {"parameters": {salary: {"value": 7.5e4, "dist": "uniform", "bounds": [7e4, 8e4]}}}
        )
    )
    (tmp_path / "exp.toml").write_text(
        'replicates = 3\npolicies = ["status_quo", "integrated"]\n'
        '[psa]\nassumptions = false\nranges = "fit/fitted.json"\n'
    )
    plan = zonesim.experiment.load_experiment(tmp_path / "exp.toml").resolve()
    m = plan.study.manifest
    assert list(c for c in m if c.startswith("psa.")) == [f"psa.{salary}"]
    assert m[f"psa.{salary}"].between(7e4, 8e4).all() and m[f"psa.{salary}"].nunique() == 3
    # the Python face: the same through psa={"ranges": ...}; a study's own entry wins
    own = {salary: {"dist": "uniform", "bounds": [1e5, 1.1e5]}}
    psa = parse_psa({"ranges": str(tmp_path / "fit"), "parameters": own}, "<argument>")
    assert dict(next(u for u in psa.parameters if u.key == salary).args)["bounds"] == (1e5, 1.1e5)
    with pytest.raises(ZonesimInputError, match=r"'psa\.ranges'.*no such file"):
        parse_psa({"ranges": "nowhere.json"}, "<argument>")


def test_the_gp_workforce_of_a_window_is_its_mean_and_end_values_are_labelled(small):
    """gp_fte_per_100k is the window's mean (GPs leaving during the year count for the days they
    worked), not its end value; metrics that are end values are named under the table."""
    from zonesim import load_config
    from zonesim.core import state as S
    from zonesim.metrics import END_OF_WINDOW, flatten

    cfg = load_config(
        overrides={
            "scenario.gp_retirement_per_year": 0.5,
            "parameters.workforce.gp_vacancy_fill_days": 3000.0,
            "scenario.recruitment_fte_per_100k_per_year": 0.0,
        }
    )

    def gp_now(m):
        prov, pat = m.state.prov, m.state.pat
        gp = (prov.discipline == S.GP) & (prov.state <= S.PV_SICK)
        return prov.fte[gp].sum() * 1e5 / (pat.situation < S.DECEASED).sum()

    m = zonesim.ZoneModel(cfg, population=10_000, rng=2, years=1.1, warmup_days=0, agents=False)
    start = gp_now(m)
    m.run_for(365)
    end, mean = gp_now(m), flatten(m.scorecard())["gp_fte_per_100k"]
    assert end < mean < start, (end, mean, start)
    assert "gp_fte_per_100k" not in END_OF_WINDOW
    last = small.table().rstrip().splitlines()[-1]
    assert last.startswith("values at the end of the window") and "strain_mean" in last
