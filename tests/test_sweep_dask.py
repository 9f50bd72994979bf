"""Sweeps on Dask: the same results as in-process; a worker killed mid-sweep and a driver killed
mid-sweep still complete every run exactly once.

A run is *completed* when its result file is committed (linked into place; the link refuses an
existing file, so that happens at most once). The file's metadata names the execution that
produced it (worker and attempt); ``attempts/<run>.jsonl`` records every execution's ``start``
(and, best effort, its ``commit``). The checks:

- nothing lost: every run of the study has its result file;
- nothing run twice: no execution finished without committing (``duplicate``), and the execution
  that committed a run is the last one ever started for it: a completed run is never started
  again. Executions cut off by a kill (started, never committed) are the runs in flight at that
  moment; they are executed again and counted, but completed once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")

from zonesim.runs.pipeline import load_results, read_attempts, resolve_study, sweep

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

# Runs of about 0.1-0.3 s once the kernels are loaded: a kill lands mid-sweep and mid-run.
STUDY = """
name = "killable"
policies = ["status_quo", "case_management_pool"]
replicates = 2
years = 0.25
warmup_days = 20
population = 3000
seed = 5
[design]
method = "lhs"
n = {n}
seed = 3
[design.parameters]
"policy.case_manager_fte_per_100k" = [0.0, 20.0]
"parameters.gatekeeper.gp_fte_per_100k" = [60.0, 90.0]
[executor]
kind = "local"
workers = 2
"""


def study(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(STUDY.replace("{n}", str(n)), encoding="utf-8")
    return path


def check_exactly_once(folder: Path, runs: set[str]) -> dict[str, list[dict]]:
    """Every run has its file, and the execution that committed it was its last start."""
    files = {p.stem for p in (folder / "runs").glob("*.parquet")}
    assert files == runs, f"missing {len(runs - files)}, extra {len(files - runs)}"
    events = read_attempts(folder)
    assert set(events) == runs
    for run, ev in events.items():
        kinds = [e["event"] for e in ev]
        assert kinds.count("commit") <= 1, (run, kinds)
        assert "duplicate" not in kinds and "error" not in kinds, (run, kinds)
        prov = json.loads(pq.read_schema(folder / "runs" / f"{run}.parquet").metadata[b"zonesim"])
        by = (prov["provenance"]["worker"], prov["provenance"]["attempt"])
        starts = [(e["worker"], e["attempt"]) for e in ev if e["event"] == "start"]
        assert starts and starts[-1] == by, (run, by, ev)
    assert not list((folder / "failed").glob("*.json"))
    return events


def interrupted(events: dict[str, list[dict]]) -> dict[str, list[str]]:
    """run -> workers whose execution of it never committed (cut off by a kill)."""
    out: dict[str, list[str]] = {}
    for run, ev in events.items():
        open_ = {}
        for e in ev:
            if e["event"] == "start":
                open_[e["worker"]] = True
            elif e["event"] in ("commit", "error", "duplicate"):
                open_.pop(e["worker"], None)
        if open_:
            out[run] = list(open_)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return not fh.read().rsplit(") ", 1)[1].startswith("Z")
    except OSError:
        return False


def test_local_dask_cluster_gives_the_same_results_as_sequential(tmp_path):
    path = study(tmp_path, 3)
    seq = sweep(path, executor="sequential", out=tmp_path / "seq")
    dsk = sweep(path, executor="local", workers=2, out=tmp_path / "dask")
    assert seq.complete and dsk.complete and seq.total == dsk.total == 12
    assert "local Dask cluster, 2 worker" in dsk.executor
    a = load_results(tmp_path / "seq")
    b = load_results(tmp_path / "dask")
    pd.testing.assert_frame_equal(a, b)  # bit for bit
    pd.testing.assert_frame_equal(
        load_results(tmp_path / "seq", timeseries=True),
        load_results(tmp_path / "dask", timeseries=True),
    )
    workers = {e["worker"] for ev in read_attempts(tmp_path / "dask").values() for e in ev}
    assert len(workers) == 2 and f"{os.uname().nodename}:{os.getpid()}" not in workers


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_worker_killed_mid_sweep_still_completes_every_run_exactly_once(tmp_path):
    from distributed import Client, LocalCluster

    path = study(tmp_path, 10)  # 40 runs
    runs = set(resolve_study(path).tasks)
    folder = tmp_path / "out"
    killed: list[int] = []
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        worker_pids = set(client.run(os.getpid).values())
        seen = []

        def kill_after_some(summary: dict) -> None:
            seen.append(summary)
            if len(seen) != 6 or killed:
                return
            # the worker that started a run most recently and has not committed it yet
            in_flight = interrupted(read_attempts(folder))
            starts = [
                (e["time"], e["worker"])
                for run, ev in read_attempts(folder).items()
                if run in in_flight
                for e in ev
                if e["event"] == "start"
            ]
            assert starts, "no run in flight to kill"
            pid = int(max(starts)[1].rsplit(":", 1)[1])
            assert pid in worker_pids
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        report = sweep(
            path, executor=cluster.scheduler_address, out=folder, on_result=kill_after_some
        )
        client.wait_for_workers(2, timeout=120)  # the nanny starts a new worker process
        assert set(client.run(os.getpid).values()) - worker_pids
    assert killed and not _alive(killed[0])
    assert report.complete and report.failed == 0 and report.total == 40
    events = check_exactly_once(folder, runs)
    cut = interrupted(events)
    # the run the killed worker was executing was cut off there, then completed elsewhere
    assert any(w.endswith(f":{killed[0]}") for ws in cut.values() for w in ws), cut
    assert 1 <= len(cut) <= 2
    assert len(load_results(folder)) == 40


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_driver_killed_mid_sweep_resumes_with_nothing_lost_and_nothing_run_twice(tmp_path):
    path = study(tmp_path, 12)  # 48 runs
    runs = set(resolve_study(path).tasks)
    folder = tmp_path / "out"
    argv = [sys.executable, "-m", "zonesim", "sweep", str(path), "--out", str(folder), "-q"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        argv, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((folder / "runs").glob("*.parquet"))) >= 10:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)  # the driver only: its workers notice and stop
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done_at_kill = {p.stem for p in (folder / "runs").glob("*.parquet")}
    assert 10 <= len(done_at_kill) < len(runs)
    workers = {
        int(e["worker"].rsplit(":", 1)[1]) for ev in read_attempts(folder).values() for e in ev
    }
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "worker processes outlived their driver"

    # resume: the same command again
    status = subprocess.run(
        [*argv[:5], "--status", "--out", str(folder)], cwd=tmp_path, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert f"runs: {len(runs)} total, {len(done_at_kill)} done" in status.stdout
    again = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"({len(done_at_kill)} before, {len(runs) - len(done_at_kill)} now)" in again.stdout
    events = check_exactly_once(folder, runs)
    for run in done_at_kill:  # nothing done before the kill was started again
        assert [e["event"] for e in events[run]].count("start") == 1, events[run]
    assert len(interrupted(events)) <= 2  # at most the runs in flight on the 2 workers
    assert len(load_results(folder)) == len(runs)
