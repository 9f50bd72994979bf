"""The benchmark command (python -m benchmarks) still runs: tiny sizes, no timings asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mesa")


def test_benchmark_command_smoke(tmp_path):
    out = tmp_path / "smoke.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--smoke",
            "--only",
            "zones,region,memory,ratios",
            "--threads",
            "1,2",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["size"] == "smoke"
    for part in ("zones", "region", "memory", "ratios"):
        assert part in res
    zone = next(iter(res["zones"].values()))
    assert zone["patient_days"] > 0
    assert set(res["region"]["runs"]) == {"1", "2"}
    assert res["memory"]["patient_slot_bytes"] > 0
    assert res["ratios"]["mesa"]["patient_days_per_s"] > 0
    assert "metric" in proc.stdout  # the table was printed


def test_the_phase_benchmark_times_the_days_simulate_runs():
    """benchmarks/phases.py runs the day phase by phase from Python: the same kernels in the
    same order as ``simulate``, so it times the work a run does (its state ends bit-identical)."""
    import sys

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from benchmarks import phases
    from benchmarks.run import _build, _zone_config

    from zonesim.core.day import simulate

    t = phases.phase_seconds(2_000, 20)
    assert t.shape == (len(phases.PHASES),) and (t >= 0).all() and t.sum() > 0

    # the same days through simulate and through the phases, from the same build
    a, prm, tab, _ = _build(_zone_config(2_000, 20 / 365 + 0.1))
    b = a.copy()
    simulate(a, prm, tab, 1, 20)
    from zonesim.core import day as D
    from zonesim.core.streams import seed_key

    st = b._replace(zone=b.zone.view(np.recarray), acc=b.acc.view(np.recarray))
    rp = prm.view(np.recarray)
    probs, work = D._scratch(st)
    zones = np.arange(1, dtype=np.int64)
    key = np.uint64(seed_key(1))
    for day in range(int(st.day[0]), int(st.day[0]) + 20):
        for ph in range(D.N_PHASES):
            D.run_zones(ph, st, rp, tab.thr_total, np.int64(day), key, probs, work, zones)
            D.region_step(ph, st, rp, np.int64(day), key)
    assert np.array_equal(a.pat.need, b.pat.need) and np.array_equal(a.acc, b.acc)
