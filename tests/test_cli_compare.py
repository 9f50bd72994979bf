"""``zonesim compare`` on the command line: output files, JSON, input errors, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from terminal import children, ended, sigint_as_in_a_terminal
from zonesim.config import load_config

TINY = [
    "-n",
    "5000",
    "--replicates",
    "2",
    "--years",
    "0.1",
    "--warmup-days",
    "10",
    "--policies",
    "status_quo,strict_gatekeeping",
    "--seed",
    "3",
]


def test_tiny_run_writes_tables_figures_config_and_provenance(zonesim_main, tmp_cwd):
    rc, out, err = zonesim_main("compare", *TINY, "--workers", "1")
    assert rc == 0, err
    folder = tmp_cwd / "results" / "default"
    assert f"results in {os.path.join('results', 'default')}" in err
    names = {p.name for p in folder.iterdir()}
    for stem in ("comparison", "runs", "differences", "summary", "timeseries"):
        assert {f"{stem}.csv", f"{stem}.parquet"} <= names
    assert {
        "scorecard.png",
        "forest.png",
        "timeseries.png",
        "config.toml",
        "provenance.json",
    } <= names
    # compare writes the cost-effectiveness table, plane and acceptability curve.
    assert {"cost_effectiveness.csv", "ce_plane.png", "ceac.png", "budget_impact.csv"} <= names
    for png in ("scorecard.png", "forest.png", "timeseries.png", "ce_plane.png", "ceac.png"):
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = pd.read_parquet(folder / "runs.parquet")
    assert sorted(runs["policy"].unique()) == ["status_quo", "strict_gatekeeping"]
    assert len(runs) == 4
    pd.testing.assert_frame_equal(
        pd.read_csv(folder / "runs.csv")[["policy", "replicate"]], runs[["policy", "replicate"]]
    )
    assert load_config(folder / "config.toml").zone.population == 5000
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["zonesim_version"] and prov["experiment"]["population"] == 5000
    # the printed table
    assert "status_quo" in out and "strict_gatekeeping" in out
    assert "specialist_visits_per_capita" in out and "population health" in out
    assert list(tmp_cwd.iterdir()) == [tmp_cwd / "results"]
    assert [p.name for p in (tmp_cwd / "results").iterdir()] == ["default"]


def test_format_json_parses_and_out_folder(zonesim_main, tmp_cwd):
    rc, out, err = zonesim_main(
        "compare", *TINY, "--format", "json", "--out", "elsewhere", "--no-figures", "--name", "tiny"
    )
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["baseline"] == "status_quo"
    assert doc["policies"] == ["status_quo", "strict_gatekeeping"]
    assert doc["experiment"]["name"] == "tiny"
    assert doc["output"] == "elsewhere"
    rows = {(r["metric"], r["policy"]): r for r in doc["results"]}
    row = rows[("specialist_visits_per_capita", "strict_gatekeeping")]
    assert {"mean", "diff", "ci_low", "ci_high", "p_holm", "corr", "significant"} <= set(row)
    assert rows[("qalys_per_capita", "status_quo")]["diff"] is None  # NaN -> null
    assert (tmp_cwd / "elsewhere" / "runs.parquet").exists()
    assert not list((tmp_cwd / "elsewhere").glob("*.png"))
    assert not (tmp_cwd / "results").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--replicates", "1"], "'--replicates'"),
        (["--years", "-1"], "'--years'"),
        (["--policies", "status_quo,nope"], "nope"),
        (["--baseline", "integrated", "--policies", "status_quo"], "'--baseline'"),
        (["-o", "zone.population=-5"], "zone.population"),
        (["-o", "policy.no_such_lever=1"], "no_such_lever"),
        (["--scenario", "nope"], "scenario"),
        (["missing.toml"], "missing.toml"),
        (["--name", "a/b"], "'--name'"),
        (["--workers", "0"], "'--workers'"),
    ],
)
def test_bad_input_exits_2_in_one_line_and_writes_nothing(zonesim_main, tmp_cwd, args, needle):
    rc, out, err = zonesim_main("compare", *TINY, *args)
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("zonesim: error: ")
    assert needle in err
    assert list(tmp_cwd.iterdir()) == []


def test_bad_experiment_file_names_the_key(zonesim_main, tmp_cwd):
    (tmp_cwd / "study.toml").write_text("replicates = 4\npolicy = ['status_quo']\n")
    rc, _out, err = zonesim_main("compare", "study.toml")
    assert rc == 2
    assert "study.toml" in err and "'policy'" in err and "did you mean 'policies'" in err
    assert [p.name for p in tmp_cwd.iterdir()] == ["study.toml"]


def test_experiment_file_and_options(zonesim_main, tmp_cwd):
    (tmp_cwd / "study.toml").write_text(
        'name = "study"\npolicies = ["status_quo", "information_point"]\nreplicates = 3\n'
        "population = 5000\nyears = 0.1\nwarmup_days = 10\n"
    )
    rc, out, err = zonesim_main(
        "compare", "study.toml", "--replicates", "2", "--no-figures", "--format", "json"
    )
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["experiment"]["replicates"] == 2
    assert doc["policies"] == ["status_quo", "information_point"]
    assert (tmp_cwd / "results" / "study" / "runs.parquet").exists()


def test_interrupt_while_saving_keeps_the_old_folder(zonesim_main, tmp_cwd, monkeypatch):
    from zonesim.experiment import ComparisonResult

    old = tmp_cwd / "results" / "default"
    old.mkdir(parents=True)
    (old / "runs.csv").write_text("the previous results\n")

    def interrupted(self, out, *, figures):
        (out / "runs.csv").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(ComparisonResult, "_write", interrupted)
    rc, _out, _err = zonesim_main("compare", *TINY, "--workers", "1")
    assert rc == 130
    assert [p.name for p in (tmp_cwd / "results").iterdir()] == ["default"]
    # the old report as it was, and the runs of this comparison kept for a rerun
    assert sorted(p.name for p in old.iterdir()) == ["runs.csv", "study"]
    assert (old / "runs.csv").read_text() == "the previous results\n"
    assert len(list((old / "study" / "runs").glob("*.parquet"))) == 4


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_ctrl_c_during_the_runs_keeps_what_is_done_and_a_rerun_resumes_running_nothing_twice(
    tmp_path,
):
    from zonesim.runs.pipeline import read_attempts

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    argv = ["compare", "-n", "20000", "--replicates", "4", "--years", "2", "--no-figures"]
    argv += ["--policies", "status_quo,integrated", "--workers", "2", "--warmup-days", "30"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "zonesim", *argv],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=sigint_as_in_a_terminal,
    )
    runs = tmp_path / "results" / "default" / "study" / "runs"
    # wait until some runs are done (their files committed) and others are under way
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if runs.is_dir() and len(list(runs.glob("*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    workers = children(proc.pid)
    assert workers
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert out == ""
    # no report was written; the runs that completed are kept, whole
    folder = tmp_path / "results" / "default"
    assert [p.name for p in folder.iterdir()] == ["study"]
    done_before = {p.stem for p in runs.glob("*.parquet")}
    assert 2 <= len(done_before) < 8
    deadline = time.monotonic() + 10
    while not all(ended(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(ended(pid) for pid in workers)  # the workers were stopped too

    # the same command again resumes: only the missing runs run
    rerun = subprocess.run(
        [sys.executable, "-m", "zonesim", *argv],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{8 - len(done_before)} runs in" in rerun.stderr
    assert f"({len(done_before)} resumed from" in rerun.stderr
    assert (folder / "comparison.csv").exists() and (folder / "study" / "runs").is_dir()
    attempts = read_attempts(folder / "study")
    assert len(attempts) == 8 and {p.stem for p in runs.glob("*.parquet")} == set(attempts)
    for run, events in attempts.items():
        kinds = [e["event"] for e in events]
        assert kinds.count("commit") == 1, (run, kinds)  # completed exactly once
        # nothing started after it completed: the committing execution is the last started
        assert kinds[-1] == "commit" and kinds.index("commit") == len(kinds) - 1
        if run in done_before:
            assert kinds.count("start") == 1  # done before the kill: never run again
    result = pd.read_csv(folder / "runs.csv")
    assert len(result) == 8


def test_unwritable_output_folder_is_an_input_error(zonesim_main, tmp_cwd):
    (tmp_cwd / "file").write_text("")
    rc, _, err = zonesim_main("compare", *TINY, "--out", "file")
    assert rc == 2 and "'--out'" in err
    rc, _, err = zonesim_main("compare", *TINY, "--out", "file/sub")
    assert rc == 2 and "'--out'" in err
    assert [p.name for p in tmp_cwd.iterdir()] == ["file"]


FITTED = {
    "parameters": {
        "parameters.workforce.strain_recovery_per_day": {
            "value": 0.004,
            "dist": "uniform",
            "bounds": [0.003, 0.005],
        },
        "parameters.costs.case_manager_fte_year": {
            "value": 75000.0,
            "dist": "uniform",
            "bounds": [70000.0, 80000.0],
        },
    },
    "provenance": {"zonesim": "test"},
}


def test_psa_ranges_draws_the_fitted_parameters_from_their_ranges(zonesim_main, tmp_cwd):
    (tmp_cwd / "fit").mkdir()
    (tmp_cwd / "fit" / "fitted.json").write_text(json.dumps(FITTED))
    rc, out, err = zonesim_main(
        "compare", *TINY, "--psa", "3", "--psa-ranges", "fit", "--no-figures", "--format", "json"
    )
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["experiment"]["replicates"] == 3
    ranges = doc["experiment"]["psa"]["parameters"]
    assert ranges["parameters.costs.case_manager_fte_year"]["bounds"] == [70000.0, 80000.0]
    draws = pd.read_parquet(tmp_cwd / "results" / "default" / "draws.parquet")
    col = draws["parameters.costs.case_manager_fte_year"]
    assert col.between(70000.0, 80000.0).all() and col.nunique() == 3
    assert "parameters.workforce.strain_rise_per_day" in draws  # the others keep theirs


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"provenance": {}}', "'parameters'"),
        (
            {"parameters.workforce.no_such": {"value": 1, "dist": "uniform", "bounds": [0, 2]}},
            "'parameters.parameters.workforce.no_such'",
        ),
        (
            {"parameters.costs.case_manager_fte_year": {"value": 1, "dist": "uniform"}},
            "'parameters.parameters.costs.case_manager_fte_year'",
        ),
        (
            {
                "parameters.costs.case_manager_fte_year": {
                    "value": 9e5,
                    "dist": "uniform",
                    "bounds": [7e4, 8e4],
                }
            },
            "'parameters.parameters.costs.case_manager_fte_year.value'",
        ),
    ],
)
def test_bad_psa_ranges_file_exits_2_naming_the_field(zonesim_main, tmp_cwd, content, needle):
    path = tmp_cwd / "fitted.json"
    if content is not None:
        text = content if isinstance(content, str) else json.dumps({"parameters": content})
        path.write_text(text)
    before = sorted(p.name for p in tmp_cwd.iterdir())
    rc, out, err = zonesim_main("compare", *TINY, "--psa", "3", "--psa-ranges", "fitted.json")
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("zonesim: error: "), err
    assert needle in err and "fitted.json" in err
    assert sorted(p.name for p in tmp_cwd.iterdir()) == before


def test_fitted_sets_the_fitted_values_as_the_point_estimate(zonesim_main, tmp_cwd):
    """--fitted applies a fit's values like -o overrides (a list element sets its list, the
    others from the configuration); a -o of the user's comes after and wins; a bad file is one
    line naming --fitted, exit code 2."""
    from zonesim.config import load_config

    fitted = {
        "parameters": {
            "parameters.costs.case_manager_fte_year": {
                "value": 75000.0,
                "dist": "uniform",
                "bounds": [70000.0, 80000.0],
            },
            "parameters.secondary.admission_after_specialist[2]": {
                "value": 0.05,
                "dist": "uniform",
                "bounds": [0.04, 0.16],
            },
        }
    }
    (tmp_cwd / "fitted.json").write_text(json.dumps(fitted))
    rc, out, err = zonesim_main(
        "compare",
        *TINY,
        "--fitted",
        "fitted.json",
        "--no-figures",
        "--format",
        "json",
        "-o",
        "parameters.costs.case_manager_fte_year=76000",
    )
    assert rc == 0, err
    over = json.loads(out)["experiment"]["overrides"]
    adm = list(load_config().parameters.secondary.admission_after_specialist)
    adm[2] = 0.05
    assert f"parameters.secondary.admission_after_specialist={json.dumps(adm)}" in over
    assert over[-1] == "parameters.costs.case_manager_fte_year=76000"  # the user's last
    rc, out, err = zonesim_main("compare", *TINY, "--fitted", "nope.json")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "--fitted" in err, err
