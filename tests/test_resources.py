"""Resource guards: a run that would not fit in memory is refused up front with its estimate, and
a run interrupted with Ctrl-C (a real SIGINT to a real ``zonesim`` process) exits cleanly and
leaves its output folder as it was.

The memory available is made small by replacing :func:`zonesim.memory.available_memory_bytes`
(the one number read from the machine); everything else is the real code path.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

import zonesim.memory as memory
import zonesim.population as population
from terminal import children, ended, sigint_as_in_a_terminal
from test_bad_inputs import tree
from test_cli_config_errors import assert_one_line_error
from zonesim import Region, ZoneModel
from zonesim.config import load_config
from zonesim.errors import ResourceError, ZonesimInputError
from zonesim.experiment import Experiment
from zonesim.geography import synthetic_region, zones_from_column

MiB = 2**20


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 64 MiB available (and no ZONESIM_MAX_STATE_BYTES)."""
    monkeypatch.delenv("ZONESIM_MAX_STATE_BYTES", raising=False)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 64 * MiB)
    return 64 * MiB


# --- the estimate ----------------------------------------------------------------------------


def test_available_memory_is_read_from_the_machine():
    avail = memory.available_memory_bytes()
    assert avail is not None and avail > 0
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert avail <= total


def test_available_memory_without_proc_meminfo(monkeypatch):
    """Elsewhere (no /proc/meminfo) the free physical pages are used, or None: never an error."""

    def no_file(*args, **kwargs):
        raise FileNotFoundError("/proc/meminfo")

    monkeypatch.setattr("builtins.open", no_file)
    avail = memory.available_memory_bytes()
    assert avail is None or avail > 0
    monkeypatch.setattr(os, "sysconf", lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert memory.available_memory_bytes() is None
    monkeypatch.delenv("ZONESIM_MAX_STATE_BYTES", raising=False)
    assert memory.max_state_bytes() == 16 * 2**30  # a limit all the same


def test_estimate_is_an_upper_bound_of_the_real_run():
    """The guard's estimate covers the state's arrays and the measured peak of building a run
    (headless and with agents)."""
    for agents in (False, True):  # the first run of a process also loads the engine
        ZoneModel(population=500, rng=1, years=0.1, agents=agents)
    for n in (2000, 30_000):
        cfg = load_config(overrides={"zone.population": n})
        for agents in (False, True):
            need, what = population.estimate_run_bytes(cfg, years=1.0, agents=agents)
            assert f"zone.population={n:,} x 1 years" in what
            tracemalloc.start()
            model = ZoneModel(cfg, rng=1, years=1.0, agents=agents)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert model.state.nbytes() <= need
            assert peak <= need, (n, agents, peak, need)
            if n >= 30_000:  # and not absurdly pessimistic beyond the fixed part
                assert need - population.RUN_FIXED_BYTES <= 2 * peak, (agents, peak, need)


def test_bad_limit_in_the_environment_is_an_input_error(monkeypatch):
    monkeypatch.setenv("ZONESIM_MAX_STATE_BYTES", "lots")
    with pytest.raises(ZonesimInputError, match="ZONESIM_MAX_STATE_BYTES"):
        ZoneModel(population=2000, rng=1, years=0.1)


# --- refused up front --------------------------------------------------------------------------


def test_zone_model_too_big_is_refused_with_the_estimate(small_machine):
    t0 = time.perf_counter()
    with pytest.raises(ResourceError) as info:
        ZoneModel(population=900_000, rng=1, years=100)
    msg = str(info.value)
    assert "zone.population=900,000 x 100.49 years" in msg
    assert "GiB of state" in msg and "with Mesa agents" in msg
    assert "this machine has 0.06 GiB available" in msg
    assert "\n" not in msg
    assert time.perf_counter() - t0 < 5  # refused before anything is built


def test_agents_count_in_the_guard(monkeypatch):
    """A run that fits headless but not with its Mesa agents is refused only with agents."""
    cfg = load_config(overrides={"zone.population": 20_000})
    headless, _ = population.estimate_run_bytes(cfg, years=0.1)
    with_agents, _ = population.estimate_run_bytes(cfg, years=0.1, agents=True)
    assert with_agents > headless
    monkeypatch.delenv("ZONESIM_MAX_STATE_BYTES", raising=False)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: (headless + with_agents) // 2)
    ZoneModel(cfg, rng=1, years=0.1, agents=False)
    with pytest.raises(ResourceError, match="with Mesa agents"):
        ZoneModel(cfg, rng=1, years=0.1, agents=True)


def test_region_too_big_is_refused(small_machine):
    munis = synthetic_region(40, 900_000, seed=3)
    munis = [dataclasses.replace(m, zone=f"Z{i % 2}") for i, m in enumerate(munis)]
    zones = zones_from_column(munis)
    with pytest.raises(ResourceError, match=r"zones=900,000 x 50\.49 years"):
        Region(zones, rng=1, years=50, agents=False)


def test_run_command_refuses_with_one_line(zonesim_main, small_machine, tmp_cwd):
    rc, out, err = zonesim_main("run", "-n", "900000", "-y", "100")
    assert_one_line_error(rc, err, "zone.population=900,000 x 100.49 years", "available")
    assert out == ""


def test_compare_refuses_before_creating_its_folder(zonesim_main, small_machine, tmp_cwd):
    out = tmp_cwd / "out"
    rc, stdout, err = zonesim_main("compare", "-n", "900000", "-y", "20", "--out", out)
    assert_one_line_error(rc, err, "zone.population=900,000", "GiB of state", "available")
    assert not out.exists() and not (tmp_cwd / "results").exists()
    assert stdout == ""


def test_compare_runs_only_as_many_workers_as_fit(monkeypatch):
    exp = Experiment(policies=("status_quo", "integrated"), replicates=4, population=20_000)
    need, _ = population.estimate_run_bytes(exp.resolve().config, years=1 + 180 / 365)
    monkeypatch.delenv("ZONESIM_MAX_STATE_BYTES", raising=False)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: int(2.5 * need))
    with pytest.warns(RuntimeWarning, match=r"memory: 2 worker process\(es\) instead of 8"):
        assert exp.replace(workers=8).resolve().workers == 2
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: need // 2)
    with pytest.raises(ResourceError, match=r"zone\.population=20,000"):
        exp.resolve()


def test_sweep_refuses_before_creating_its_folder(zonesim_main, small_machine, tmp_cwd):
    study = tmp_cwd / "study.toml"
    study.write_text(
        'name = "big"\npolicies = ["status_quo"]\nyears = 20\npopulation = 900000\n'
        '[design]\nmethod = "grid"\n[design.parameters]\n'
        '"parameters.gatekeeper.gp_fte_per_100k" = [60.0, 80.0]\n',
        encoding="utf-8",
    )
    before = tree(tmp_cwd)
    rc, _, err = zonesim_main("sweep", study, "--executor", "sequential", "--out", "out")
    assert_one_line_error(rc, err, "study.toml", "the largest run", "zone.population=900,000")
    assert tree(tmp_cwd) == before


# --- Ctrl-C ------------------------------------------------------------------------------------


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    """``python -m zonesim ARGV`` in its own process group (as a shell's foreground job)."""
    return subprocess.Popen(
        [sys.executable, "-m", "zonesim", *argv],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=sigint_as_in_a_terminal,
    )


def _ctrl_c_after(
    proc: subprocess.Popen, seconds: float, sig: int = signal.SIGINT
) -> tuple[int, str, str]:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it), or ``sig``, after
    ``seconds``; the process must still be running then (mid-run)."""
    time.sleep(seconds)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, sig)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc.returncode, out, err


LONG_COMPARE = ["-n", "100000", "-y", "30", "-r", "2", "-p", "status_quo,integrated", "-q"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_during_compare_leaves_an_existing_folder_as_it_was(tmp_path, workers):
    out = tmp_path / "results" / "mine"
    out.mkdir(parents=True)
    (out / "comparison.csv").write_text("an earlier result\n", encoding="utf-8")
    (out / "notes").mkdir()
    (out / "notes" / "n.txt").write_text("keep me\n", encoding="utf-8")
    before = tree(tmp_path)
    proc = _start(["compare", *LONG_COMPARE, "-w", workers, "--out", str(out)], tmp_path)
    rc, stdout, err = _ctrl_c_after(proc, 6)
    assert rc == 130, err
    assert err.splitlines() == ["zonesim: interrupted"], err
    assert "Traceback" not in err and stdout == ""
    # same files, same sizes, no temporaries; only the run store for a rerun was added
    assert without_run_store(tree(tmp_path)) == before
    assert (out / "comparison.csv").read_text(encoding="utf-8") == "an earlier result\n"


def without_run_store(files: dict[str, int]) -> dict[str, int]:
    """A folder tree without compare's run store (``<out>/study/``, kept for a rerun: it holds
    only completed runs, each written whole; a rerun removes what a killed worker left)."""
    return {k: v for k, v in files.items() if "/study/" not in f"/{k}/"}


def test_ctrl_c_during_compare_writes_no_report(tmp_path):
    before = tree(tmp_path)
    proc = _start(["compare", *LONG_COMPARE, "-w", "1", "--out", "new"], tmp_path)
    rc, _, err = _ctrl_c_after(proc, 6)
    assert rc == 130 and err.splitlines() == ["zonesim: interrupted"], err
    assert without_run_store(tree(tmp_path)) == {**before, "new": -1}  # its run store only
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["study"]


def test_ctrl_c_during_run(tmp_path):
    proc = _start(["run", "-n", "100000", "-y", "40"], tmp_path)
    rc, stdout, err = _ctrl_c_after(proc, 6)
    assert rc == 130 and err.splitlines() == ["zonesim: interrupted"], err
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_run(tmp_path):
    """``kill`` (SIGTERM) stops a run like Ctrl-C: one line, exit 143, nothing written."""
    proc = _start(["run", "-n", "100000", "-y", "40"], tmp_path)
    rc, stdout, err = _ctrl_c_after(proc, 6, signal.SIGTERM)
    assert rc == 143 and err.splitlines() == ["zonesim: terminated"], err
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_sigterm_to_the_group_during_compare_stops_every_worker(tmp_path):
    """SIGTERM to the whole process group (``kill -- -PGID``, SLURM's time limit): the workers
    leave the stopping to the parent, which ends them, leaves the folder as it was and exits 143
    (not a broken pool's traceback)."""
    out = tmp_path / "results" / "mine"
    out.mkdir(parents=True)
    (out / "comparison.csv").write_text("an earlier result\n", encoding="utf-8")
    before = tree(tmp_path)
    proc = _start(["compare", *LONG_COMPARE, "-w", "2", "--out", str(out)], tmp_path)
    time.sleep(6)
    workers = children(proc.pid)
    assert workers, "compare should run its replicates in worker processes"
    rc, stdout, err = _ctrl_c_after(proc, 0, signal.SIGTERM)
    assert rc == 143 and err.splitlines() == ["zonesim: terminated"], err
    assert stdout == ""
    assert without_run_store(tree(tmp_path)) == before
    deadline = time.monotonic() + 10
    while not all(ended(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(ended(pid) for pid in workers)
