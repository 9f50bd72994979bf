"""Reproducibility across executors and thread counts: the same study gives bit-identical
results run sequentially in this process, in fresh processes with ``NUMBA_NUM_THREADS=1`` and
``=2``, and through compare's process pool; tests/test_sweep_dask.py
(``test_local_dask_cluster_gives_the_same_results_as_sequential``) checks a local Dask cluster
against the sequential sweep, bit for bit, and tests/test_sweep.py
(``test_any_executor_gives_the_same_results``) a thread pool.

Only the public API is used (:func:`zonesim.sweep`, :func:`zonesim.load_results`,
:class:`zonesim.ZoneModel`, :class:`zonesim.Region`, :func:`zonesim.compare`), so the engine's
internals may change (parallel zones, new kernels) without touching these tests: they say what
must not change, the numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from zonesim.runs.pipeline import load_results

STUDY = """
name = "repro"
policies = ["status_quo", "integrated"]
replicates = 2
years = 0.1
warmup_days = 10
population = 2000
seed = 17
[design]
method = "lhs"
n = 3
seed = 5
[design.parameters]
"policy.case_manager_fte_per_100k" = [0.0, 20.0]
"parameters.gatekeeper.gp_fte_per_100k" = [60.0, 90.0]
"""

# Run in a fresh interpreter: the study's sweep into OUT, then a zone and a two-zone region
# through the Mesa face; their scorecards printed as JSON with exact (hex) floats.
SCRIPT = r"""
import json, sys
import zonesim
from zonesim.geography import synthetic_region, zones_from_column
from zonesim.runs.pipeline import sweep
import dataclasses

study, out = sys.argv[1], sys.argv[2]
report = sweep(study, out=out, executor="sequential")
assert report.complete

def exact(card):
    return {s: {k: (float(v).hex() if isinstance(v, (int, float)) else v) for k, v in m.items()}
            for s, m in card.items()}

model = zonesim.ZoneModel(population=3000, rng=7, policy="integrated", years=0.5)
model.run_for(60)
munis = [dataclasses.replace(m, zone=f"Z{i % 2}") for i, m in
         enumerate(synthetic_region(10, 5000, seed=2))]
region = zonesim.Region(zones_from_column(munis), rng=8, years=0.5, agents=False)
region.run_for(45)
print(json.dumps({
    "zone": exact(model.scorecard()),
    "region": [exact(region.scorecard(zone=z)) for z in range(region.n_zones)],
    "alive": [int(model.alive), int(region.alive)],
}))
"""


def _in_subprocess(tmp_path: Path, study: Path, name: str, env_extra: dict) -> dict:
    out = tmp_path / name
    env = dict(os.environ, **env_extra)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(study), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    doc["results"] = load_results(out)
    doc["timeseries"] = load_results(out, timeseries=True)
    return doc


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    return path


def test_numba_thread_counts_give_identical_bits(tmp_path, study):
    one = _in_subprocess(tmp_path, study, "t1", {"NUMBA_NUM_THREADS": "1"})
    two = _in_subprocess(tmp_path, study, "t2", {"NUMBA_NUM_THREADS": "2"})
    assert len(one["results"]) == 3 * 2 * 2
    pd.testing.assert_frame_equal(one["results"], two["results"], check_exact=True)
    pd.testing.assert_frame_equal(one["timeseries"], two["timeseries"], check_exact=True)
    assert one["zone"] == two["zone"]
    assert one["region"] == two["region"]
    assert one["alive"] == two["alive"]

    # ... and the same as this process's sequential sweep (whatever its thread count)
    from zonesim.runs.pipeline import sweep

    sweep(study, out=tmp_path / "here", executor="sequential")
    here = load_results(tmp_path / "here")
    pd.testing.assert_frame_equal(one["results"], here, check_exact=True)


def test_results_differ_when_the_seed_does(tmp_path, study):
    """The comparison above can fail: another seed gives other numbers."""
    from zonesim.runs.pipeline import sweep

    other = tmp_path / "other.toml"
    other.write_text(STUDY.replace("seed = 17", "seed = 18"), encoding="utf-8")
    sweep(study, out=tmp_path / "a", executor="sequential")
    sweep(other, out=tmp_path / "b", executor="sequential")
    a, b = load_results(tmp_path / "a"), load_results(tmp_path / "b")
    assert not a["cost_per_capita_eur"].equals(b["cost_per_capita_eur"])


def test_compare_in_one_process_and_in_a_pool_gives_identical_bits():
    from zonesim import compare

    kw = dict(
        policies=["status_quo", "integrated"],
        replicates=2,
        population=2000,
        years=0.1,
        warmup_days=10,
        seed=3,
    )
    serial = compare(workers=1, **kw)
    pooled = compare(workers=2, **kw)
    assert len(serial.runs) == 4 and pooled.workers == 2
    pd.testing.assert_frame_equal(serial.runs, pooled.runs, check_exact=True)
    pd.testing.assert_frame_equal(serial.timeseries, pooled.timeseries, check_exact=True)


def test_a_seeds_first_year_does_not_depend_on_the_length_of_the_run():
    """Same seed, same zone: the first measured year is bit-identical whether the run goes on
    for one more year or for four (the free patient slots, over which entrants draw their
    slot, do not depend on the horizon; zonesim.population.HEADROOM_YEARS)."""
    from zonesim.longrun import yearly

    short = yearly(seed=11, years=2, population=5_000, policy="integrated")
    long = yearly(seed=11, years=5, population=5_000, policy="integrated")
    assert short[0] == long[0]
    assert short[1] == long[1]
