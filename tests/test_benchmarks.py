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
