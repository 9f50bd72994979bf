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
    assert "parameter uncertainty (PSA)" in psa.header()
    assert "replicate noise only" in small.header()
    assert psa.draws is not None and len(psa.draws) == 3
    assert {"psa.parameters.workforce.strain_rise_per_day"} <= set(psa.by_year())

    def width(res, metric):
        d = res.differences().set_index("metric").loc[metric]
        return float(d["ci_high"] - d["ci_low"])

    wider = [
        width(psa, m) > width(small, m)
        for m in ("cost_per_capita_eur", "qalys_per_capita", "cost_case_management_per_capita_eur")
    ]
    assert sum(wider) >= 2, wider
