"""Sweeps in this process: study files and their checks, designs, common random numbers, storage
and provenance, resume, failing runs, compaction, results and sensitivity analysis.

The Dask executors (identical results, killed workers, killed drivers) are in
test_sweep_dask.py; the command line in test_sweep_cli.py.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import zonesim
from zonesim.errors import ZonesimInputError
from zonesim.runs.pipeline import (
    RESULTS_SCHEMA_VERSION,
    _StudyLock,
    analyse,
    compact,
    load_results,
    load_study,
    read_attempts,
    resolve_study,
    status,
    sweep,
)

TINY = """
name = "tiny"
policies = ["status_quo", "case_management_pool"]
replicates = 2
years = 0.05
warmup_days = 5
population = 1000
seed = 11
[design]
method = "grid"
[design.parameters]
"policy.case_manager_fte_per_100k" = [0.0, 20.0]
"parameters.care.gp_contacts_per_year[1]" = {bounds = [5.0, 9.0], levels = 2}
[executor]
kind = "sequential"
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write(tmp_path / "tiny.toml", TINY)


def committed(folder: Path) -> dict[str, int]:
    """run -> number of commits recorded in attempts/ (the definition of "completed")."""
    return {
        run: sum(e["event"] == "commit" for e in events)
        for run, events in read_attempts(folder).items()
    }


# --- the study file --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sobol_small.toml", "ranking_morris.toml", "ranking_sobol.toml"])
def test_every_shipped_study_resolves(repo_root, name):
    # A parameter renamed or turned into a list by a model change must not leave a shipped
    # study that fails only when someone runs it (the Morris study did, after issue 16).
    # (default.toml is a compare experiment: tests/test_experiment.py loads it.)
    assert sorted(p.name for p in (repo_root / "experiments").glob("*.toml")) == sorted(
        ["default.toml", "sobol_small.toml", "ranking_morris.toml", "ranking_sobol.toml"]
    ), "a study was added or removed: list it here"
    plan = resolve_study(repo_root / "experiments" / name)
    assert plan.n_runs > 0


def test_shipped_sobol_study_is_valid_and_has_about_200_runs(repo_root):
    plan = resolve_study(repo_root / "experiments" / "sobol_small.toml")
    s = plan.study
    assert s.design.method == "sobol" and len(s.design.parameters) == 5
    assert s.executor["kind"] == "local"
    assert plan.n_runs == 32 * (5 + 2) == 224
    assert len(plan.points) == 224
    keys = s.design.keys
    assert "policy.case_manager_fte_per_100k" in keys
    for p in s.design.parameters:  # every point within its bounds
        col = plan.manifest[p.key]
        assert col.between(*p.bounds).all()


BAD_STUDIES = [
    # (text to append or replace, the key the error must name, a phrase of the message)
    ('[design.parameters]\n"parameters.switching.no_such" = [1, 2]', "no_such", "unknown param"),
    ('[design.parameters]\n"parameters.switching.cm_work_hours_per_dya" = [1, 2]', "dya", "mean"),
    ('[design.parameters]\n"policy.caseload_cap" = [10, 900]', "caseload_cap.bounds", "<="),
    ('[design.parameters]\n"parameters.caregivers.caregiver_share" = [0.5, 1.5]', "share", "<="),
    ('[design.parameters]\n"parameters.caregivers.caregiver_share" = [0.9, 0.5]', "share", "low <"),
    ('[design.parameters]\n"parameters.care.gp_contacts_per_year" = [1, 2]', "per_year", "element"),
    ('[design.parameters]\n"parameters.care.gp_contacts_per_year[7]" = [1, 2]', "[7]", "index"),
    ('[design.parameters]\n"policy.gatekeeping" = [1, 2]', "gatekeeping", "no bounds"),
    (
        '[design.parameters]\n"policy.equity_weight" = {bounds = [0, 1], step = 1}',
        "step",
        "unknown key",
    ),
]


@pytest.mark.parametrize(("extra", "key", "phrase"), BAD_STUDIES)
def test_bad_design_parameter_is_rejected_naming_file_and_key(tmp_path, extra, key, phrase):
    base = 'name = "bad"\n[design]\nmethod = "lhs"\nn = 4\n'
    path = write(tmp_path / "bad.toml", base + extra + "\n")
    with pytest.raises(ZonesimInputError) as exc:
        sweep(path, executor="sequential", out=tmp_path / "out")
    msg = str(exc.value)
    assert "bad.toml" in msg and key in msg and phrase in msg, msg
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("replicate = 2\n", "'replicate'"),
        ("replicates = 0\n", "'replicates'"),
        ("years = -1\n", "'years'"),
        ('policies = ["status_quo", "nope"]\n', "nope"),
        (
            "[design]\nmethod = 'sobol'\n[design.parameters]\n'policy.equity_weight' = [0, 1]\n",
            "design.n",
        ),
        ("[design]\nmethod = 'halton'\n", "design.method"),
        (
            "[design]\nmethod = 'grid'\nn = 3\n[design.parameters]\n'policy.equity_weight' = [0]\n",
            "design.n",
        ),
        (
            "[design]\nmethod = 'grid'\n[design.parameters]\n'policy.equity_weight' = [0, 0]\n",
            "values",
        ),
        (
            "[design]\nmethod = 'grid'\n[design.parameters]\n'policy.caseload_cap' = [10.5]\n",
            "values[0]",
        ),
        ("[design]\nmethd = 'grid'\n", "design.methd"),
        ("[outputs]\ntimeseries = 'yes'\n", "outputs.timeseries"),
        ("[outputs]\nscorecard = false\n", "outputs.scorecard"),
        ("[executor]\nkind = 'local'\nworkerz = 2\n", "executor.workerz"),
        ("[analysis]\nmetrics = ['no_metric']\n", "analysis.metrics[0]"),
        # a design point over a policy's budget envelope (refused), found before any run
        (
            "policies = ['status_quo']\noverrides = ['policy.budget_envelope_per_capita=1']\n"
            "[design]\nmethod = 'grid'\n[design.parameters]\n"
            "'policy.case_manager_fte_per_100k' = [0.0, 500.0]\n",
            "design.parameters.policy.case_manager_fte_per_100k",
        ),
    ],
)
def test_bad_study_is_rejected_before_anything_runs(tmp_path, text, key, monkeypatch):
    import zonesim.runs.pipeline as S

    ran = []
    monkeypatch.setattr(S, "_simulate", lambda task: ran.append(task))
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ZonesimInputError) as exc:
        sweep(path, executor="sequential", out=tmp_path / "out")
    assert "bad.toml" in str(exc.value) and key in str(exc.value), str(exc.value)
    assert ran == [] and not (tmp_path / "out").exists()


def test_nested_tables_and_quoted_keys_are_the_same(tmp_path):
    a = write(
        tmp_path / "a.toml",
        "[design]\nmethod = 'lhs'\nn = 3\n[design.parameters]\n"
        "'parameters.switching.cm_work_hours_per_day' = [0.5, 2.0]\n",
    )
    b = write(
        tmp_path / "b.toml",
        "[design]\nmethod = 'lhs'\nn = 3\n[design.parameters.parameters.switching]\n"
        "cm_work_hours_per_day = {bounds = [0.5, 2.0]}\n",
    )
    assert load_study(a).design == load_study(b).design


# --- designs ---------------------------------------------------------------------------------


def _design(tmp_path, body: str):
    path = write(tmp_path / "d.toml", "years = 0.05\nwarmup_days = 0\npopulation = 500\n" + body)
    return resolve_study(path)


def test_design_sizes_and_types(tmp_path):
    grid = _design(
        tmp_path,
        "[design]\nmethod='grid'\n[design.parameters]\n'policy.caseload_cap' = "
        "{bounds=[20, 60], levels=3}\n'policy.gatekeeping' = ['direct_access', "
        "'strict']\n'policy.information_point' = [true, false]\n",
    )
    assert len(grid.points) == 3 * 2 * 2
    assert sorted(set(grid.manifest["policy.caseload_cap"])) == [20, 40, 60]
    assert grid.manifest["policy.caseload_cap"].dtype == np.int64
    assert grid.manifest["policy.information_point"].dtype == bool
    lhs = _design(
        tmp_path,
        "[design]\nmethod='lhs'\nn=7\n[design.parameters]\n'policy.caseload_cap' = [20, 60]\n"
        "'parameters.caregivers.caregiver_share' = [0.5, 0.9]\n",
    )
    assert len(lhs.points) == 7
    share = lhs.manifest["parameters.caregivers.caregiver_share"]
    # one point in each of the 7 strata of the range (a Latin hypercube)
    assert sorted(((share - 0.5) / 0.4 * 7).astype(int)) == list(range(7))
    sob = _design(
        tmp_path,
        "[design]\nmethod='sobol'\nn=4\ncalc_second_order=true\n[design.parameters]\n"
        "'policy.equity_weight' = [0, 1]\n'parameters.caregivers.caregiver_share' = [0.5, 0.9]\n",
    )
    assert len(sob.points) == 4 * (2 * 2 + 2)
    mor = _design(
        tmp_path,
        "[design]\nmethod='morris'\nn=3\nnum_levels=4\n[design.parameters]\n"
        "'policy.equity_weight' = [0, 1]\n'parameters.caregivers.caregiver_share' = [0.5, 0.9]\n",
    )
    assert len(mor.points) == 3 * (2 + 1)
    # the same study gives the same points
    again = _design(
        tmp_path,
        "[design]\nmethod='morris'\nn=3\nnum_levels=4\n[design.parameters]\n"
        "'policy.equity_weight' = [0, 1]\n'parameters.caregivers.caregiver_share' = [0.5, 0.9]\n",
    )
    assert again.points == mor.points and list(again.tasks) == list(mor.tasks)


def test_design_values_reach_the_resolved_configuration_and_policies(tmp_path):
    plan = _design(
        tmp_path,
        "policies = ['status_quo', 'integrated']\n[design]\nmethod='grid'\n"
        "[design.parameters]\n'parameters.care.gp_contacts_per_year[2]' = [10.0, 14.0]\n"
        "'policy.caseload_cap' = [33]\n'zone.population' = [700]\n",
    )
    by_value = {}
    for t in plan.tasks.values():
        v = dict(t.values)
        assert t.policy.caseload_cap == 33  # the lever is set in every policy
        assert t.config.zone.population == 700
        contacts = t.config.parameters.care.gp_contacts_per_year
        assert contacts[2] == v["parameters.care.gp_contacts_per_year[2]"]
        assert contacts[:2] == plan.base_config.parameters.care.gp_contacts_per_year[:2]
        by_value.setdefault(contacts[2], set()).add(t.label)
    assert by_value == {10.0: {"status_quo", "integrated"}, 14.0: {"status_quo", "integrated"}}


def test_common_random_numbers_and_run_names(tmp_path, tiny):
    from zonesim.runs.fields import replicate_seed

    plan = resolve_study(tiny)
    m = plan.manifest
    assert len(m) == 4 * 2 * 2 == plan.n_runs
    # replicate r has the same seed under every policy and at every design point
    seeds = m.groupby("replicate")["seed"].nunique()
    assert (seeds == 1).all()
    assert [int(m[m.replicate == r].seed.iloc[0]) for r in (0, 1)] == [
        replicate_seed(11, 0),
        replicate_seed(11, 1),
    ]
    assert m["run"].is_unique
    # the name changes with anything that changes the result, not with the file's layout
    plan2 = resolve_study(write(tmp_path / "t2.toml", TINY.replace("seed = 11", "seed = 12")))
    assert not set(plan.tasks) & set(plan2.tasks)
    plan3 = resolve_study(write(tmp_path / "t3.toml", TINY.replace('name = "tiny"', 'name = "x"')))
    assert set(plan3.tasks) == set(plan.tasks)


def test_identical_points_share_one_run(tmp_path):
    plan = _design(
        tmp_path,
        "[design]\nmethod='lhs'\nn=6\n[design.parameters]\n'policy.caseload_cap' = [20, 21]\n",
    )
    assert len(plan.manifest) == 6
    assert plan.n_runs == plan.manifest["policy.caseload_cap"].nunique() <= 2


# --- running, storage, provenance ------------------------------------------------------------


def test_sequential_sweep_stores_one_file_per_run_with_provenance(tmp_path, tiny):
    from zonesim.runs import run_replicate

    out = tmp_path / "out"
    seen = []
    report = sweep(tiny, out=out, on_result=seen.append)
    assert report.complete and report.executed == 16 and report.failed == 0
    assert {p.name for p in out.iterdir()} >= {
        "runs",
        "attempts",
        "failed",
        "design.parquet",
        "study.toml",
        "study.lock",
    }
    files = sorted((out / "runs").glob("*.parquet"))
    assert len(files) == 16 and not list((out / "runs").glob(".*"))
    assert len(seen) == 16 and all(s["status"] == "done" and s["committed"] for s in seen)
    assert all(
        set(s)
        <= {
            "run",
            "attempt",
            "worker",
            "committed",
            "skipped",
            "status",
            "seconds",
            "total_seconds",
            "warnings",
            "messages",
        }
        for s in seen
    )  # a summary, not the results
    meta = json.loads(pq.read_schema(files[0]).metadata[b"zonesim"])
    prov = meta["provenance"]
    assert prov["zonesim_version"] == zonesim.__version__
    assert len(prov["config_hash"]) == 16 and "git_commit" in prov
    assert meta["schema_version"] == RESULTS_SCHEMA_VERSION
    assert meta["config"]["zone"]["population"] == 1000
    lock = json.loads((out / "study.lock").read_text())
    assert lock["study"] == "tiny" and lock["zonesim_version"] == zonesim.__version__
    assert lock["runs"] == 16 and "git_commit" in lock

    df = zonesim.load_results(out)
    assert len(df) == 16
    assert list(df.columns[:7]) == [
        "point",
        "policy",
        "replicate",
        "seed",
        "policy.case_manager_fte_per_100k",
        "parameters.care.gp_contacts_per_year[1]",
        "run",
    ]
    assert {"qalys_per_capita", "cost_per_capita_eur", "gp_contacts_per_capita"} <= set(df)
    # the stored result is the standard run's: warm-up under status_quo, then branched in this
    # process (the study branched from the warm-up's checkpoint file: the same numbers)
    row = df.iloc[5]
    task = resolve_study(tiny).tasks[row["run"]]
    card, ts = run_replicate(task.config, task.policy, task.seed, 0.05, 5)
    assert row["qalys_per_capita"] == card["qalys_per_capita"]
    assert row["cost_per_capita_eur"] == card["cost_per_capita_eur"]
    monthly = zonesim.load_results(out, timeseries=True)
    assert set(monthly["month"]) == set(ts["month"]) and {"day", "month"} <= set(monthly)
    sub = monthly[monthly["run"] == row["run"]]
    assert list(sub["qalys_per_capita"]) == list(ts["qalys_per_capita"])
    prov_df = load_results(out, provenance=True)
    assert (prov_df["zonesim_version"] == zonesim.__version__).all()


def test_rerun_skips_done_runs_and_reruns_only_missing_ones(tmp_path, tiny):
    out = tmp_path / "out"
    sweep(tiny, out=out)
    again = sweep(tiny, out=out)
    assert again.already_done == 16 and again.executed == 0 and again.attempts == 0
    victims = sorted((out / "runs").glob("*.parquet"))[:3]
    for v in victims:
        v.unlink()
    st = status(tiny, out=out)
    assert (st.total, st.done, st.missing, len(st.failed)) == (16, 13, 3, 0)
    third = sweep(tiny, out=out)
    assert third.executed == 3 and third.already_done == 13 and third.complete
    starts = {r: sum(e["event"] == "start" for e in ev) for r, ev in read_attempts(out).items()}
    assert {r for r, n in starts.items() if n == 2} == {v.stem for v in victims}


def test_a_failing_run_is_retried_recorded_and_does_not_stop_the_study(tmp_path, tiny, monkeypatch):
    import zonesim.runs.pipeline as S

    plan = resolve_study(tiny)
    poison = sorted(plan.tasks)[3]
    real = S._simulate

    def flaky(task):
        if task.run == poison:
            raise RuntimeError("poisoned run")
        return real(task)

    monkeypatch.setattr(S, "_simulate", flaky)
    out = tmp_path / "out"
    report = sweep(tiny, out=out, retries=2)
    assert report.failed == 1 and report.executed == 15 and not report.complete
    assert report.failures == {poison: "RuntimeError: poisoned run"}
    rec = json.loads((out / "failed" / f"{poison}.json").read_text())
    assert [a["attempt"] for a in rec["attempts"]] == [1, 2, 3] and rec["gave_up"]
    assert "poisoned run" in rec["attempts"][0]["traceback"]
    st = status(out)
    assert (st.done, len(st.failed), st.missing) == (15, 1, 0)
    assert "poisoned run" in st.text()
    # fixed: a rerun retries only that run, and the failure record goes
    monkeypatch.setattr(S, "_simulate", real)
    fixed = sweep(tiny, out=out)
    assert fixed.executed == 1 and fixed.complete
    assert not (out / "failed" / f"{poison}.json").exists()
    assert set(committed(out).values()) == {1}


def test_any_executor_gives_the_same_results(tmp_path, tiny):
    sweep(tiny, out=tmp_path / "seq")
    with cf.ThreadPoolExecutor(2) as pool:
        report = sweep(tiny, out=tmp_path / "threads", executor=pool)
    assert report.complete
    a = load_results(tmp_path / "seq")
    b = load_results(tmp_path / "threads")
    pd.testing.assert_frame_equal(a, b)
    # worker processes (the executor compare uses), and the per-year results too
    report = sweep(tiny, out=tmp_path / "procs", executor="processes", workers=2)
    assert report.complete and "worker process" in report.executor
    pd.testing.assert_frame_equal(a, load_results(tmp_path / "procs"))
    pd.testing.assert_frame_equal(
        load_results(tmp_path / "seq", years=True), load_results(tmp_path / "procs", years=True)
    )


def test_a_second_driver_on_the_same_folder_is_refused(tmp_path, tiny):
    out = tmp_path / "out"
    sweep(tiny, out=out)
    held = _StudyLock(out)
    held.acquire({"pid": 4242, "host": "elsewhere", "started": "now"})
    try:
        with pytest.raises(ZonesimInputError, match=r"another driver.*pid 4242"):
            sweep(tiny, out=out)
        assert status(out).running["pid"] == 4242
    finally:
        held.release()
    assert status(out).running is None


def test_compaction_keeps_results_status_and_resume(tmp_path, tiny):
    out = tmp_path / "out"
    sweep(tiny, out=out)
    before = load_results(out)
    before_ts = load_results(out, timeseries=True)
    res = compact(out)
    assert res == {"runs": 16, "merged": 16, "file": str(out / "results.parquet")}
    assert not list((out / "runs").glob("*.parquet"))
    pd.testing.assert_frame_equal(load_results(out), before)
    pd.testing.assert_frame_equal(load_results(out, timeseries=True), before_ts)
    assert status(out).done == 16
    assert sweep(tiny, out=out).executed == 0
    # a changed study: new runs go to runs/ again; a second compaction merges them in
    bigger = write(tmp_path / "tiny.toml", TINY.replace("replicates = 2", "replicates = 3"))
    report = sweep(bigger, out=out)
    assert report.already_done == 16 and report.executed == 8
    assert len(load_results(out)) == 24
    assert compact(out)["runs"] == 24
    assert len(load_results(out)) == 24
    assert set(committed(out).values()) == {1}


def test_resuming_with_other_code_warns(tmp_path, tiny):
    out = tmp_path / "out"
    sweep(tiny, out=out)
    lock = json.loads((out / "study.lock").read_text())
    (out / "study.lock").write_text(json.dumps({**lock, "git_commit": "0ld"}))
    with pytest.warns(RuntimeWarning, match="git commit 0ld"):
        sweep(tiny, out=out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sweep(tiny, out=out)  # the same code: no warning


def test_a_changed_design_keeps_old_files_but_loads_only_its_own(tmp_path, tiny):
    out = tmp_path / "out"
    sweep(tiny, out=out)
    smaller = write(
        tmp_path / "tiny.toml",
        TINY.replace("[0.0, 20.0]", "[0.0]"),
    )
    report = sweep(smaller, out=out)
    assert report.total == 8 and report.executed == 0
    assert len(load_results(out)) == 8
    assert status(out).stale == 8


# --- sensitivity analysis ---------------------------------------------------------------------

SOBOL = """
name = "sob"
policies = ["status_quo", "case_management_pool"]
years = 0.08
warmup_days = 10
population = 1500
[design]
method = "{method}"
n = 4
[design.parameters]
"policy.case_manager_fte_per_100k" = [0.0, 30.0]
"parameters.gatekeeper.gp_fte_per_100k" = [50.0, 95.0]
[executor]
kind = "sequential"
"""


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_analyse_gives_indices_per_policy_and_metric(tmp_path, method):
    study = write(tmp_path / "s.toml", SOBOL.replace("{method}", method))
    out = tmp_path / "out"
    report = sweep(study, out=out)
    rows = 4 * (2 + 2 if method == "sobol" else 2 + 1) * 2
    assert len(pd.read_parquet(out / "design.parquet")) == rows
    # Morris trajectories on a 4-level grid can meet: a shared point runs once
    assert report.complete and (report.total == rows if method == "sobol" else report.total <= rows)
    assert len(load_results(out)) == rows
    table = analyse(out, metrics=["gp_wait_days_mean", "cost_per_capita_eur"])
    assert set(table["policy"]) == {"status_quo", "case_management_pool"}
    assert len(table) == 2 * 2 * 2
    cols = (
        ["S1", "S1_conf", "ST", "ST_conf"]
        if method == "sobol"
        else ["mu", "mu_star", "mu_star_conf", "sigma"]
    )
    assert list(table.columns) == ["policy", "metric", "parameter", *cols]
    gp = table[(table.metric == "cost_per_capita_eur") & (table.parameter.str.contains("gp_fte"))]
    assert np.isfinite(gp[cols[1]]).all()
    if method == "sobol":  # GP density drives the GP cost much more than the case managers
        cm = table[(table.metric == "cost_per_capita_eur") & table.parameter.str.contains("case_")]
        assert (gp["ST"].to_numpy() > cm["ST"].to_numpy()).all()
    # the same analysis twice gives the same numbers (seeded bootstrap)
    pd.testing.assert_frame_equal(
        table, analyse(out, metrics=["gp_wait_days_mean", "cost_per_capita_eur"])
    )


def test_analyse_needs_every_point_and_a_sensitivity_design(tmp_path, tiny):
    study = write(tmp_path / "s.toml", SOBOL.replace("{method}", "sobol"))
    out = tmp_path / "out"
    sweep(study, out=out)
    next((out / "runs").glob("*.parquet")).unlink()
    with pytest.raises(ZonesimInputError, match="1 of 16 design points have no result"):
        analyse(out)
    sweep(tiny, out=tmp_path / "grid")
    with pytest.raises(ZonesimInputError, match="sobol or morris"):
        analyse(tmp_path / "grid")


def test_import_zonesim_does_not_import_dask_or_salib():
    import subprocess
    import sys

    code = (
        "import sys, zonesim, zonesim.runs.pipeline, zonesim.executors, zonesim.sensitivity; "
        "zonesim.load_results; "
        "print([m for m in ('dask', 'distributed', 'dask_jobqueue', 'SALib') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    ).stdout
    assert out.strip() == "[]"


def test_zonesim_sweep_is_the_pipelines_function_and_nothing_imports_in_a_circle():
    import ast
    import inspect
    import pathlib

    import zonesim.runs as runs

    assert inspect.isfunction(zonesim.sweep) and zonesim.sweep is runs.sweep
    assert "executor" in inspect.signature(zonesim.sweep).parameters
    assert zonesim.load_results is load_results is runs.load_results
    # the executors know nothing of what runs on them (no cycle executors <-> pipeline)
    src = pathlib.Path(zonesim.executors.__file__).read_text()
    imported = [n.module or "" for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m.startswith(("runs", "experiment", "sweep"))]


def test_sweep_draws_the_fitted_ranges_with_psa_ranges(tmp_path, repo_root, capsys):
    """`zonesim sweep --psa-ranges fitted.json`: every replicate draws the fitted parameters
    once, from their plausible ranges, the same draw under every policy; a missing file is one
    line and exit code 2, nothing written."""
    from zonesim.cli import main
    from zonesim.fit import read_fitted

    study = write(
        tmp_path / "t.toml",
        TINY.replace('"policy.case_manager_fte_per_100k" = [0.0, 20.0]\n', "").replace(
            "{bounds = [5.0, 9.0], levels = 2}", "[7.0]"
        ),
    )
    fitted = repo_root / "docs" / "data" / "fit" / "fitted.json"
    out = tmp_path / "res"
    assert main(["sweep", str(study), "--psa-ranges", str(fitted), "--out", str(out), "-q"]) == 0
    runs = load_results(out)
    keys = [c for c in runs.columns if c.startswith("psa.")]
    fitted_keys = {u.key for u in read_fitted(fitted).parameters}
    bounds = {k: v["bounds"] for k, v in json.loads(fitted.read_text())["parameters"].items()}
    assert {f"psa.{k}" for k in fitted_keys} <= set(keys)  # (other assumptions are drawn too)
    for k in fitted_keys:
        lo, hi = bounds[k]
        assert runs[f"psa.{k}"].between(lo, hi).all(), k
    for k in keys:
        per_rep = runs.groupby("replicate")[k].nunique()
        assert (per_rep == 1).all(), k  # the same draw for every policy of a replicate
    assert runs.groupby("replicate")[keys[0]].first().nunique() == runs["replicate"].nunique()
    capsys.readouterr()
    bad = tmp_path / "res2"
    assert (
        main(["sweep", str(study), "--psa-ranges", str(tmp_path / "no.json"), "--out", str(bad)])
        == 2
    )
    assert "--psa-ranges" in capsys.readouterr().err and not bad.exists()
