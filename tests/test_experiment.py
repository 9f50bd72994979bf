"""Experiments (zonesim.experiment): the statistics, common random numbers, reproducibility,
atomic output, input validation and the tidy result."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zonesim.config import Config, load_config, load_policy, to_dict
from zonesim.errors import ZonesimInputError
from zonesim.experiment import (
    ComparisonResult,
    Experiment,
    compare,
    holm,
    load_experiment,
    paired_stats,
    replicate_seed,
    toml_dumps,
)
from zonesim.policies import preset_names

# A small, quick experiment: three policies, three replicates of a quarter year.
SMALL = dict(
    name="small",
    population=6_000,
    replicates=3,
    years=0.25,
    warmup_days=30,
    seed=11,
    policies=["status_quo", "case_management_pool", "strict_gatekeeping"],
)


@pytest.fixture(scope="module")
def small() -> ComparisonResult:
    return compare(**SMALL, workers=2)


# --- statistics against hand-computed values ---------------------------------------------------


def test_paired_stats_hand_computed():
    base = [1.0, 2.0, 3.0, 4.0]
    other = [2.0, 4.0, 3.0, 7.0]
    s = paired_stats(base, other)
    # d = [1, 2, 0, 3]: mean 1.5, sd sqrt(5/3), se sd/2, t(0.975, 3) = 3.182446305
    sd = math.sqrt(5 / 3)
    half = 3.1824463052837078 * sd / 2
    assert s["n"] == 4
    assert s["diff"] == pytest.approx(1.5)
    assert s["sd_diff"] == pytest.approx(sd)
    assert s["ci_low"] == pytest.approx(1.5 - half)
    assert s["ci_high"] == pytest.approx(1.5 + half)
    assert s["ci_low"] == pytest.approx(-0.554260, abs=1e-6)
    # t = 1.5 / (sd / 2) = 2.32379; two-sided p with 3 degrees of freedom
    assert s["p"] == pytest.approx(0.102728, abs=1e-6)
    # Pearson: cov 7, var 5 and 14 -> 7 / sqrt(70)
    assert s["corr"] == pytest.approx(7 / math.sqrt(70))


def test_paired_stats_drops_non_finite_pairs_and_degenerate_cases():
    s = paired_stats([1.0, np.nan, 3.0, 4.0, 5.0], [2.0, 1.0, np.inf, 5.0, 6.5])
    assert s["n"] == 3  # pairs 0, 3, 4
    assert s["diff"] == pytest.approx((1 + 1 + 1.5) / 3)
    # constant zero differences: zero-width interval at 0, p = 1, not significant
    z = paired_stats([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert (z["diff"], z["ci_low"], z["ci_high"], z["p"]) == (0.0, 0.0, 0.0, 1.0)
    assert z["corr"] == pytest.approx(1.0)
    # constant non-zero difference: exact interval, but zero variance is no test: p is NaN
    c = paired_stats([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
    assert (c["ci_low"], c["ci_high"]) == (0.5, 0.5) and math.isnan(c["p"])
    # a constant side: no correlation
    k = paired_stats([2.0, 2.0, 2.0], [1.0, 2.0, 4.0])
    assert math.isnan(k["corr"]) and math.isfinite(k["p"])
    # one pair: a difference but no interval
    one = paired_stats([1.0], [3.0])
    assert one["diff"] == 2.0 and math.isnan(one["ci_low"]) and math.isnan(one["p"])
    with pytest.raises(ValueError):
        paired_stats([1.0, 2.0], [1.0])


def test_holm_hand_computed():
    # sorted 0.01, 0.03, 0.04, 0.20 -> x4, x3, x2, x1 = 0.04, 0.09, 0.08, 0.20 -> monotone
    adj = holm([0.01, 0.04, 0.03, 0.20])
    assert adj == pytest.approx([0.04, 0.09, 0.09, 0.20])
    # NaN is not a test: m = 2
    adj = holm([0.01, np.nan, 0.04])
    assert adj[0] == pytest.approx(0.02) and math.isnan(adj[1]) and adj[2] == pytest.approx(0.04)
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([]).size == 0


def test_differences_apply_holm_across_policies_per_metric():
    runs = _synthetic_runs()
    r = _result_from(runs)
    d = r.differences()
    for _metric, block in d.groupby("metric"):
        assert block["p_holm"].to_numpy() == pytest.approx(holm(block["p"].to_numpy()))
        assert (block["significant"] == (block["p_holm"] < 0.05)).all()
    row = d[(d.metric == "m1") & (d.policy == "b")].iloc[0]
    s = paired_stats(runs[runs.policy == "a"]["m1"], runs[runs.policy == "b"]["m1"])
    assert row["diff"] == pytest.approx(s["diff"])
    assert row["ci_high"] == pytest.approx(s["ci_high"])


def _synthetic_runs() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    base = rng.normal(10, 2, size=6)
    for p, shift in (("a", 0.0), ("b", 1.0), ("c", 0.05)):
        for r in range(6):
            rows.append(
                {
                    "policy": p,
                    "replicate": r,
                    "seed": 100 + r,
                    "m1": base[r] + shift + rng.normal(0, 0.1),
                    "m2": rng.normal(0, 1),
                }
            )
    return pd.DataFrame(rows)


def _result_from(runs: pd.DataFrame) -> ComparisonResult:
    exp = Experiment(policies=("a", "b", "c"), baseline="a", replicates=6)
    return ComparisonResult(
        experiment=exp,
        config=Config(),
        policies={p: load_policy("status_quo") for p in ("a", "b", "c")},
        runs=runs,
        timeseries=pd.DataFrame(),
    )


# --- common random numbers and reproducibility ------------------------------------------------


def test_replicate_seeds_are_common_and_distinct():
    seeds = [replicate_seed(2020, r) for r in range(20)]
    assert len(set(seeds)) == 20
    assert all(0 <= s < 2**63 for s in seeds)
    assert replicate_seed(2020, 3) == replicate_seed(2020, 3)
    assert replicate_seed(2021, 3) != replicate_seed(2020, 3)
    assert Experiment(seed=5, replicates=4).seeds() == [replicate_seed(5, r) for r in range(4)]


def test_runs_use_the_same_seed_per_replicate_under_every_policy(small):
    runs = small.runs
    assert len(runs) == 3 * 3
    by_rep = runs.groupby("replicate")["seed"].nunique()
    assert (by_rep == 1).all()
    assert small.seeds == [replicate_seed(11, r) for r in range(3)]
    assert list(runs["policy"].unique()) == SMALL["policies"]  # baseline first


def test_same_experiment_twice_gives_identical_tables(small):
    again = compare(**SMALL, workers=1)  # sequential this time: the same numbers
    pd.testing.assert_frame_equal(small.runs, again.runs)
    pd.testing.assert_frame_equal(small.to_dataframe(), again.to_dataframe())
    pd.testing.assert_frame_equal(small.timeseries, again.timeseries)
    assert small.table(width=400) == again.table(width=400)


def test_policies_that_cannot_touch_a_cost_show_it_exactly(small):
    d = small.differences().set_index(["metric", "policy"])
    # nursing hours do not depend on gatekeeping: identical under common random numbers
    row = d.loc[("cost_governance_per_capita_eur", "strict_gatekeeping")]
    assert row["diff"] == 0.0 and row["p"] == 1.0 and not row["significant"]


# --- the result object --------------------------------------------------------------------------


def test_to_dataframe_is_tidy(small):
    df = small.to_dataframe()
    assert list(df.columns) == [
        "section",
        "metric",
        "policy",
        "n",
        "mean",
        "sd",
        "diff",
        "ci_low",
        "ci_high",
        "p",
        "p_holm",
        "significant",
        "corr",
    ]
    metrics = small.metrics()
    assert len(df) == len(metrics) * 3
    assert not df.duplicated(["metric", "policy"]).any()
    base = df[df.policy == "status_quo"]
    assert base["diff"].isna().all() and not base["significant"].any()
    assert set(df["section"]) <= {
        "population_health",
        "experience",
        "cost",
        "workforce",
        "equity",
        "activity",
    }
    q = df[(df.metric == "qalys_per_capita") & (df.policy == "status_quo")].iloc[0]
    assert q["mean"] == pytest.approx(
        small.runs.query("policy == 'status_quo'")["qalys_per_capita"].mean()
    )
    assert df["significant"].dtype == bool


def test_summary_and_timeseries(small):
    s = small.summary()
    assert {"section", "metric", "policy", "n", "mean", "sd"} <= set(s.columns)
    ts = small.timeseries
    assert {"policy", "replicate", "seed", "month", "qalys_per_capita"} <= set(ts.columns)
    # a quarter year: three months per run
    assert ts.groupby(["policy", "replicate"]).size().eq(3).all()


def test_table_lists_sections_policies_and_intervals(small):
    text = small.table(width=400)
    for heading in ("population health", "experience", "cost", "workforce", "equity"):
        assert f"\n{heading}\n" in text
    for p in SMALL["policies"]:
        assert p in text
    assert "qalys_per_capita" in text and "[" in text
    narrow = small.table(width=80, metrics=["qalys_per_capita", "cost_per_capita_eur"])
    assert "[policies 1/" in narrow
    with pytest.raises(ZonesimInputError, match="no_such_metric"):
        small.table(metrics=["no_such_metric"])


def test_plot_returns_figures_without_pyplot(small):
    figs = small.plot()
    assert set(figs) == {"scorecard", "forest", "timeseries"}
    from matplotlib.figure import Figure

    assert all(isinstance(f, Figure) for f in figs.values())
    assert set(small.plot("forest")) == {"forest"}
    with pytest.raises(ZonesimInputError):
        small.plot("pie")


# --- saving, atomically ------------------------------------------------------------------------


def test_save_writes_everything(small, tmp_path):
    out = small.save(tmp_path / "res")
    names = {p.name for p in out.iterdir()}
    for stem in ("comparison", "runs", "summary", "differences", "timeseries"):
        assert f"{stem}.csv" in names and f"{stem}.parquet" in names
    assert {
        "scorecard.png",
        "forest.png",
        "timeseries.png",
        "config.toml",
        "provenance.json",
        "experiment.toml",
        "table.txt",
        "policies",
    } <= names
    # The health-economic layer: table, plane, acceptability curve, budget impact.
    from zonesim import economics

    assert set(economics.OUTPUT_FILES + economics.FIGURE_FILES) <= names
    assert "Health economics" in (out / "table.txt").read_text()
    assert "budget_impact" in small.to_json()["cost_effectiveness"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), small.runs)
    # the resolved configuration loads back as the same configuration
    assert load_config(out / "config.toml") == small.config
    assert (
        load_policy(out / "policies" / "case_management_pool.toml")
        == small.policies["case_management_pool"]
    )
    assert load_experiment(out / "experiment.toml") == small.experiment
    prov = json.loads((out / "provenance.json").read_text())
    from zonesim import __version__

    assert prov["zonesim_version"] == __version__
    assert prov["replicate_seeds"] == small.seeds
    assert prov["experiment"]["replicates"] == 3
    assert {"numpy", "numba"} <= set(prov["libraries"])
    assert [p.name for p in tmp_path.iterdir()] == ["res"]  # no temporary folder left


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_save_leaves_nothing(small, tmp_path, monkeypatch, error):
    import zonesim.plots as plots

    def boom(result):
        raise error("interrupted while drawing")

    monkeypatch.setattr(plots, "forest_figure", boom)
    with pytest.raises(error):
        small.save(tmp_path / "res")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_save_keeps_the_old_folder(small, tmp_path, monkeypatch):
    import zonesim.plots as plots

    old = tmp_path / "res"
    old.mkdir()
    (old / "keep.txt").write_text("previous results")
    monkeypatch.setattr(plots, "timeseries_figure", lambda r: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        small.save(old)
    assert [p.name for p in tmp_path.iterdir()] == ["res"]
    assert [p.name for p in old.iterdir()] == ["keep.txt"]
    monkeypatch.undo()
    small.save(old, figures=False)  # a complete save replaces it
    assert not (old / "keep.txt").exists() and (old / "runs.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_toml_writer_round_trips_the_configuration():
    cfg = load_config(overrides=["zone.population=12345"])
    text = toml_dumps(to_dict(cfg))
    assert tomllib.loads(text) == to_dict(cfg)
    assert toml_dumps({"a": 'quote " and \\ and é', "b": [1.5, 2], "t": {"x": True}}) == (
        'a = "quote \\" and \\\\ and é"\nb = [1.5, 2]\n\n[t]\nx = true\n'
    )


# --- validation ----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "exp.toml"
    p.write_text(text)
    return p


def test_default_experiment_is_the_main_job(repo_root):
    e = Experiment()
    assert e.policies == tuple(preset_names())
    assert e.baseline == "status_quo" and e.scenario == "baseline" and e.config is None
    assert e.replicates >= 6 and e.years == 10.0  # ten years, from a shared warm-up
    assert e.warmup_policy == "status_quo" and e.checkpoint is None and not e.psa.enabled
    from zonesim.calibration import WARMUP_DAYS

    assert e.warmup_days == WARMUP_DAYS
    assert load_experiment(repo_root / "experiments" / "default.toml") == e


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("replicate = 4", "replicate", None),  # unknown key (typo)
        ("replicates = 1", "replicates", "1"),
        ("replicates = 'four'", "replicates", "'four'"),
        ("years = 0", "years", "0"),
        ("years = 0.001", "years", "0.001"),
        ("seed = -1", "seed", "-1"),
        ("policies = []", "policies", "[]"),
        ("policies = ['a', 'a']", "policies", None),
        ("baseline = 'integrated'\npolicies = ['status_quo']", "baseline", "'integrated'"),
        ("name = '../up'", "name", "'../up'"),
        ("overrides = ['no_equals_sign']", "-o", None),
        ("warmup_days = 1.5", "warmup_days", "1.5"),
        ("workers = 0", "workers", "0"),
    ],
)
def test_bad_experiment_file_names_file_key_and_value(tmp_path, text, key, value):
    path = write(tmp_path, text)
    with pytest.raises(ZonesimInputError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert str(path) in msg or key == "-o"
    assert f"'{key}'" in msg
    if value is not None:
        assert value in msg


def test_unknown_key_suggests_the_right_one(tmp_path):
    with pytest.raises(ZonesimInputError, match="did you mean 'replicates'"):
        load_experiment(write(tmp_path, "replicate = 4"))


def test_bad_inputs_found_before_anything_runs(tmp_path):
    with pytest.raises(ZonesimInputError, match="unknown policy"):
        compare(policies=["status_quo", "no_such_policy"], replicates=2)
    with pytest.raises(ZonesimInputError, match="no_such_key"):
        compare(overrides=["zone.no_such_key=1"], replicates=2)
    with pytest.raises(ZonesimInputError, match="unknown scenario"):
        compare(scenario="no_such_scenario")
    with pytest.raises(ZonesimInputError, match="unknown key"):
        compare(replicatess=3)
    with pytest.raises(ZonesimInputError, match="file not found"):
        compare(tmp_path / "missing.toml")


def test_paths_in_a_file_are_relative_to_it(tmp_path):
    (tmp_path / "zone.toml").write_text("[zone]\npopulation = 5000\n")
    (tmp_path / "mine.toml").write_text('name = "mine"\ngatekeeping = "strict"\n')
    path = write(
        tmp_path,
        "config = 'zone.toml'\npolicies = ['status_quo', 'mine.toml']\nbaseline = 'mine.toml'\n",
    )
    exp = load_experiment(path)
    plan = exp.resolve()
    assert plan.config.zone.population == 5000
    assert plan.labels == ["mine", "status_quo"]  # the baseline first, labelled by its name
    assert plan.baseline == "mine"
    assert plan.policies["mine"].gatekeeping == "strict"
    # what a result writes as experiment.toml loads again, from anywhere
    again = tmp_path / "elsewhere" / "experiment.toml"
    again.parent.mkdir()
    again.write_text(toml_dumps(exp.to_dict()))
    assert load_experiment(again).resolve().labels == ["mine", "status_quo"]


def test_policy_overrides_apply_to_every_policy():
    plan = Experiment(overrides=("policy.caseload_cap=30", "zone.population=7000")).resolve()
    assert all(p.caseload_cap == 30 for p in plan.policies.values())
    assert plan.config.zone.population == 7000
