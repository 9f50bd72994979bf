"""``zonesim sweep`` and ``zonesim analyse`` on the command line, and the SLURM executor's
configuration (no SLURM here: the job script and the submission are checked with stand-ins for
``sbatch`` and ``scancel``)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pandas as pd
import pytest

from zonesim.errors import ZonesimInputError
from zonesim.executors import load_profile, resolve_executor, slurm_cluster, slurm_job_script

STUDY = """
name = "cli"
policies = ["status_quo", "case_management_pool"]
years = 0.08
warmup_days = 10
population = 1500
[design]
method = "sobol"
n = 4
[design.parameters]
"policy.case_manager_fte_per_100k" = [0.0, 30.0]
"parameters.gatekeeper.gp_fte_per_100k" = [50.0, 95.0]
[executor]
kind = "sequential"
[analysis]
metrics = ["cost_per_capita_eur", "gp_wait_days_mean"]
"""


@pytest.fixture
def study(tmp_cwd: Path) -> Path:
    path = tmp_cwd / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    return path


def test_sweep_status_compact_and_analyse(zonesim_main, study, tmp_cwd):
    folder = tmp_cwd / "results" / "sweeps" / "cli"
    rc, out, err = zonesim_main("sweep", study, "--status")
    assert rc == 0, err
    assert "runs: 32 total, 0 done, 0 failed, 32 missing" in out
    assert not (tmp_cwd / "results").exists()  # --status writes nothing

    rc, out, err = zonesim_main("sweep", study, "--progress")
    assert rc == 0, err
    assert "32/32 runs done (0 before, 32 now), 0 failed, 0 missing" in out
    assert "done=32" in err and "failed=0" in err and "remaining=0" in err  # the progress bar
    assert len(list((folder / "runs").glob("*.parquet"))) == 32

    rc, out, err = zonesim_main("sweep", study, "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert (doc["total"], doc["already_done"], doc["executed"]) == (32, 32, 0)

    rc, out, err = zonesim_main("sweep", folder, "--status", "--format", "json")
    assert rc == 0, err
    assert json.loads(out) | {"folder": None} == {
        "folder": None,
        "total": 32,
        "done": 32,
        "failed": 0,
        "missing": 0,
        "complete": True,
        "running": None,
        "stale": 0,
        "failures": {},
    }

    rc, out, err = zonesim_main("sweep", study, "--compact")
    assert rc == 0, err
    assert "compacted 32 per-run file(s); 32 runs" in out
    assert (folder / "results.parquet").exists()

    rc, out, err = zonesim_main("analyse", folder)
    assert rc == 0, err
    assert "Sobol indices, 16 design points" in out
    assert "cost_per_capita_eur  [status_quo]" in out and "gp_wait_days_mean" in out
    assert "parameters.gatekeeper.gp_fte_per_100k" in out and "+-" in out
    assert (folder / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(folder / "sensitivity.csv")
    assert {"policy", "metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"} <= set(table)
    assert table["metric"].nunique() > 20  # every metric in the CSV

    rc, out, err = zonesim_main(
        "analyse", folder, "-m", "qalys_per_capita", "-p", "status_quo", "--format", "json",
        "--out", tmp_cwd / "elsewhere", "--no-figure",
    )  # fmt: skip
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["method"] == "sobol" and doc["metrics"] == ["qalys_per_capita"]
    assert {r["policy"] for r in doc["indices"]} == {"status_quo"}
    assert not (tmp_cwd / "elsewhere" / "sensitivity.png").exists()

    rc, _out, err = zonesim_main("analyse", folder, "-m", "no_such_metric")
    assert rc == 2 and "'--metric'" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            STUDY.replace("gatekeeper.gp_fte_per_100k", "gatekeeper.gp_fte_per_1000"),
            ["study.toml", "design.parameters.parameters.gatekeeper.gp_fte_per_1000",
             "did you mean 'parameters.gatekeeper.gp_fte_per_100k'"],
        ),
        (
            STUDY.replace("[0.0, 30.0]", "[0.0, 3000.0]"),
            ["study.toml", "design.parameters.policy.case_manager_fte_per_100k.bounds", "<= 1000"],
        ),
        (STUDY.replace("n = 4", "n = 'four'"), ["study.toml", "'design.n'"]),
        (STUDY.replace('kind = "sequential"', 'kind = "sequentiel"'), ["sequentiel"]),
    ],
)  # fmt: skip
def test_a_bad_study_exits_2_naming_the_key_and_writes_nothing(zonesim_main, tmp_cwd, text,
                                                               needles):  # fmt: skip
    (tmp_cwd / "study.toml").write_text(text, encoding="utf-8")
    for extra in ([], ["--status"], ["--dry-run"]):
        rc, out, err = zonesim_main("sweep", "study.toml", *extra)
        assert rc == 2, (extra, err)
        assert out == "" and err.startswith("zonesim: error: ") and err.count("\n") == 1
        for needle in needles:
            assert needle in err, err
    assert [p.name for p in tmp_cwd.iterdir()] == ["study.toml"]


def test_bad_options_exit_2(zonesim_main, study, tmp_cwd):
    for args, needle in [
        (["--workers", "0"], "workers"),
        (["--executor", "slurm"], "site"),
        (["--executor", "no_such_profile"], "no_such_profile"),
        (["--job-script"], "--job-script needs the slurm executor"),
        (["--retries", "-1"], "retries"),
    ]:
        rc, _out, err = zonesim_main("sweep", study, *args)
        assert rc == 2 and needle in err, (args, err)
    rc, _out, err = zonesim_main("sweep", tmp_cwd)
    assert rc == 2 and "expected a study TOML" in err
    assert [p.name for p in tmp_cwd.iterdir()] == ["study.toml"]


def test_dry_run_says_what_would_run(zonesim_main, study, tmp_cwd):
    rc, out, err = zonesim_main("sweep", study, "--dry-run", "--executor", "local", "-w", "3")
    assert rc == 0, err
    assert "sobol design over 2 parameter(s), 16 point(s) x 2 policy(ies)" in out
    assert "local Dask cluster, 3 worker process(es)" in out
    assert "0 run(s) already done, 32 to run" in out
    assert [p.name for p in tmp_cwd.iterdir()] == ["study.toml"]


def test_failed_runs_exit_1_and_are_listed(zonesim_main, study, tmp_cwd, monkeypatch):
    import zonesim.runs.pipeline as S

    real = S._simulate

    def poisoned(task):
        if (
            task.label == "status_quo"
            and dict(task.values)["policy.case_manager_fte_per_100k"] > 15
        ):
            raise ValueError("bad lever")
        return real(task)

    monkeypatch.setattr(S, "_simulate", poisoned)
    rc, out, err = zonesim_main("sweep", study, "--retries", "1")
    assert rc == 1
    assert "failed after their retries" in err and "--status" in err
    failed = [json.loads(p.read_text()) for p in tmp_cwd.glob("results/sweeps/cli/failed/*.json")]
    assert failed and all(len(f["attempts"]) == 2 and f["gave_up"] for f in failed)
    rc, out, _ = zonesim_main("sweep", study, "--status")
    assert rc == 0
    assert f"32 total, {32 - len(failed)} done, {len(failed)} failed, 0 missing" in out
    assert "ValueError: bad lever" in out


# --- SLURM -----------------------------------------------------------------------------------


def test_slurm_example_profile_gives_the_job_script(repo_root):
    spec = load_profile("slurm_example")
    assert spec.kind == "slurm" and spec.n_jobs == 4 and spec.capacity() == 64
    script = slurm_job_script(spec)
    lines = script.splitlines()
    for directive in (
        "#SBATCH -J zonesim",
        "#SBATCH -p batch",
        "#SBATCH -A my_project",
        "#SBATCH --cpus-per-task=16",
        "#SBATCH -t 04:00:00",
        "#SBATCH --nodes=1",
    ):
        assert directive in lines, script
    assert any(line.startswith("#SBATCH --mem=") for line in lines)
    # the numba cache on local scratch, exported before the workers start
    export = lines.index('export NUMBA_CACHE_DIR="$TMPDIR/zonesim-numba-cache"')
    worker = next(i for i, line in enumerate(lines) if "distributed.cli.dask_worker" in line)
    assert export < worker
    cmd = lines[worker]
    for part in ("--nworkers 16", "--nthreads 1", "--nanny", "--local-directory $TMPDIR",
                 "--lifetime 3h45m", "--lifetime-stagger 5m"):  # fmt: skip
        assert part in cmd, cmd
    assert cmd.split()[0].endswith("python") or "python" in cmd.split()[0]


def test_slurm_profile_errors_name_the_file_and_key(tmp_path):
    base = (
        'kind = "slurm"\nn_jobs = 2\n[cluster]\ncores = 4\nmemory = "8GB"\n'
        'queue = "q"\nwalltime = "01:00:00"\n'
    )
    cases = [
        (base.replace("n_jobs = 2", "n_jobs = 0"), "'n_jobs'"),
        (base + "quuee = 'x'\n", "'cluster.quuee'"),
        (base.replace('memory = "8GB"\n', ""), "'cluster.memory'"),
        (base + "processes = 8\n", "'cluster.processes'"),
        (base + "job_extra_directives = '--x'\n", "'cluster.job_extra_directives'"),
        (base.replace('kind = "slurm"', 'kind = "pbs"'), "'kind'"),
        (base + "adaptive = true\n", "cluster.adaptive"),
    ]
    for text, needle in cases:
        path = tmp_path / "site.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ZonesimInputError) as exc:
            resolve_executor("slurm", site=str(path))
        assert "site.toml" in str(exc.value) and needle in str(exc.value), str(exc.value)


def _fake_slurm(bin_dir: Path, log_dir: Path) -> None:
    """``sbatch`` that keeps the script it is given and answers like SLURM; ``scancel`` that
    records the job it cancels."""
    bin_dir.mkdir()
    log_dir.mkdir()
    (bin_dir / "sbatch").write_text(
        "#!/bin/sh\n"  # jobs are submitted concurrently: the shell's pid is the job id
        f'cp "$1" "{log_dir}/script$$.sh"\n'
        'echo "Submitted batch job $$"\n'
    )
    (bin_dir / "scancel").write_text(f'#!/bin/sh\necho "$@" >> "{log_dir}/cancelled"\n')
    for name in ("sbatch", "scancel"):
        p = bin_dir / name
        p.chmod(p.stat().st_mode | stat.S_IXUSR)


def test_slurm_cluster_submits_a_fixed_number_of_jobs_and_cancels_them(tmp_path, monkeypatch):
    pytest.importorskip("dask_jobqueue")
    _fake_slurm(tmp_path / "bin", tmp_path / "log")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    site = tmp_path / "site.toml"
    site.write_text(
        'kind = "slurm"\nn_jobs = 3\nnumba_cache_dir = "/scratch/nc"\n[cluster]\n'
        'cores = 2\nprocesses = 2\nmemory = "4GB"\nqueue = "short"\nwalltime = "00:30:00"\n'
        'account = "acc"\njob_extra_directives = ["--exclusive"]\n',
        encoding="utf-8",
    )
    spec = resolve_executor("slurm", site=str(site))
    assert spec.capacity() == 6
    cluster = slurm_cluster(spec)
    try:
        cluster.scale(jobs=spec.n_jobs)
        deadline = time.monotonic() + 30
        while len(list((tmp_path / "log").glob("script*.sh"))) < 3:
            assert time.monotonic() < deadline, "jobs were not submitted"
            time.sleep(0.1)
        scripts = sorted((tmp_path / "log").glob("script*.sh"))
        assert len(scripts) == 3
        text = scripts[0].read_text()
        assert "#SBATCH -p short" in text and "#SBATCH --exclusive" in text
        assert 'export NUMBA_CACHE_DIR="/scratch/nc"' in text
        assert cluster.scheduler_address in text  # the workers call back to our scheduler
    finally:
        cluster.close()
    cancelled = (tmp_path / "log" / "cancelled").read_text().split()
    assert sorted(cancelled) == sorted(p.stem.removeprefix("script") for p in scripts)
