"""Adding an array for one process must not slow the others (issue 14, item 2).

Times a zone (110,000 inhabitants, 365 days, one thread) built from this source tree and from a
copy of it with one extra patient array (``extra``, uint8, all zeros) that only one process reads
(case-manager allocation's priority, outside the daily patient pass; it adds zero, so results
do not change). The extra field is added at text level, on a temporary copy of the source with
its own numba cache, as tests/test_lever.py adds its lever. Each variant runs in fresh
processes, interleaved (A B A B ...), ``--rounds`` each; the median CPU time of the simulating
thread of each and their ratio are printed as JSON (CPU time: the machine is shared).

``--base SRC`` (another source tree, e.g. an export of main before a change) adds the same two
variants of that tree, so the cost of an extra array is measured before and after in one run.

    python -m benchmarks.extra_field                       # this tree, with and without
    python -m benchmarks.extra_field --base /tmp/main/src  # ... and another tree
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The extra field: (file, marker, replacement), applied to a copy of src/. Both markers exist in
# the engine before and after issue 14's change of the kernels' signatures.
PATCHES = (
    (
        "zonesim/core/state.py",
        '    "care_gaps": np.uint8,\n',
        '    "care_gaps": np.uint8,\n    "extra": np.uint8,  # benchmarks/extra_field.py\n',
    ),
    (
        "zonesim/core/case_management.py",
        "    return score * 100000.0 - queued_day\n",
        "    return (score + pat.extra[i]) * 100000.0 - queued_day\n",
    ),
)

_CHILD = r"""
import json, sys, time
from zonesim.config import load_config, load_policy
from zonesim.core.day import simulate
from zonesim.core.params import compile_params
from zonesim.population import build_state
population, days = int(sys.argv[1]), int(sys.argv[2])
cfg = load_config(overrides={"zone.population": population, "scenario.years": max(1, days / 365)})
pol = load_policy("status_quo")
def build():
    state, _ = build_state(cfg, pol, 1)
    prm, tables = compile_params(cfg, [pol], state)
    return state, prm, tables
state, prm, tables = build()
simulate(state, prm, tables, 1, 2)  # load (or compile) the kernels
state, prm, tables = build()
t0, c0 = time.perf_counter(), time.thread_time()
simulate(state, prm, tables, 1, days)  # one thread: runs in this thread
wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
pd = float(state.acc["person_days"].sum())
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "patient_days": pd, "patient_days_per_s": pd / cpu,
                  "fields": len(state.pat), "source": __import__("zonesim").__file__}))
"""


def copy_tree(src: Path, dest: Path) -> Path:
    """A copy of the source tree ``src`` (the folder holding ``zonesim/``): editing the source
    while the benchmark runs changes nothing it measures."""
    shutil.copytree(src / "zonesim", dest / "zonesim", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def with_extra_field(src: Path, dest: Path) -> Path:
    """A copy of the source tree ``src`` with the extra field."""
    copy_tree(src, dest)
    for rel, marker, text in PATCHES:
        path = dest / rel
        code = path.read_text()
        if code.count(marker) != 1:
            raise SystemExit(f"{path}: marker {marker!r} not found exactly once")
        path.write_text(code.replace(marker, text))
    return dest


def run_once(src: Path, cache: Path, population: int, days: int) -> dict:
    """One fresh process on one numba thread: a zone from source tree ``src``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), NUMBA_NUM_THREADS="1", PYTHONPATH=str(src))
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(population), str(days)],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not Path(out["source"]).is_relative_to(src):
        raise RuntimeError(f"measured {out['source']}, not the tree {src}")
    return out


def measure(
    population: int, days: int, rounds: int, base: Path | None, cache: Path | None = None
) -> dict:
    trees = {"current": ROOT / "src"}
    if base is not None:
        trees = {"base": base, **trees}
    with tempfile.TemporaryDirectory(prefix="zonesim-extra-field-") as tmp:
        variants = {}
        for name, src in trees.items():
            variants[name] = copy_tree(src, Path(tmp) / name)
            variants[f"{name}+extra"] = with_extra_field(src, Path(tmp) / f"{name}-extra")
        caches = {name: Path(cache or tmp) / f"cache-{name}" for name in variants}
        for name, src in variants.items():  # compile each variant once, untimed
            print(f"compiling {name} ...", file=sys.stderr, flush=True)
            run_once(src, caches[name], 2_000, 2)
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for r in range(rounds):
            for name, src in variants.items():
                out = run_once(src, caches[name], population, days)
                print(
                    f"round {r + 1} {name}: {out['patient_days_per_s'] / 1e6:.1f} M pd/s",
                    file=sys.stderr,
                    flush=True,
                )
                runs[name].append(out)
    result: dict = {"population": population, "days": days, "rounds": rounds, "variants": {}}
    for name, outs in runs.items():
        cpus = [o["cpu_s"] for o in outs]
        result["variants"][name] = {
            "patient_fields": outs[0]["fields"],
            "cpu_s": cpus,
            "wall_s": [o["wall_s"] for o in outs],
            "median_cpu_s": statistics.median(cpus),
            "median_patient_days_per_s": statistics.median(o["patient_days_per_s"] for o in outs),
        }
    v = result["variants"]
    for name in trees:
        result[f"{name}_extra_over_plain"] = (
            v[f"{name}+extra"]["median_cpu_s"] / v[name]["median_cpu_s"]
        )
    if base is not None:
        result["current_over_base"] = v["current"]["median_cpu_s"] / v["base"]["median_cpu_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.extra_field", description=__doc__)
    ap.add_argument("--population", type=int, default=110_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--base", type=Path, default=None, help="another source tree (holds zonesim/)")
    ap.add_argument("--cache", type=Path, default=None, help="keep the numba caches here")
    args = ap.parse_args(argv)
    out = measure(args.population, args.days, args.rounds, args.base, args.cache)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
