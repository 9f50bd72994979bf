"""Does the year-5 pairing of issue 15 hold whatever the seeds? (docs/validation.md)

    python scripts/pairing_seed_sets.py --workers 2          # sets 101, 201, 301, 401
    python scripts/pairing_seed_sets.py --sets 101 201 --cache /tmp/pairing

Issue 15 asks that every preset's year-5 outcomes stay correlated (>= 0.5) with the status
quo's (same seed, two policies) on a 30,000 zone, across 8 replicates. A correlation over 8
replicates is itself noisy (one set of 8 misses 0.5 about one time in four where the model's
correlation is 0.7), so tests/test_longrun.py checks the correlation over the 32 replicates of
the four sets below together. This script runs every set (each run exactly as the test's:
``zonesim.longrun.yearly`` for 5 years) and writes docs/data/pairing_seed_sets.json: per set,
preset and metric the year-5 correlation, and the year-5 values behind it.
scripts/gen_validation_md.py reads that file.
Each set's runs are kept in ``--cache`` (``set<first seed>.json``): a rerun redoes only the
sets missing there (empty it after a model change). ``pooled`` in the file: the correlation
over all the sets' replicates together, which tests/test_longrun.py checks.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "data" / "pairing_seed_sets.json"
METRICS = ("unmet_need_days_per_1000", "cost_per_capita_eur", "gp_fte_per_100k")
POPULATION = 30_000
YEARS = 5
REPLICATES = 8


def _run(job):
    from zonesim.longrun import yearly

    policy, seed = job
    return yearly(seed=seed, years=YEARS, population=POPULATION, policy=policy)


def run_set(first: int, workers: int) -> dict[str, list]:
    """Every preset on seeds first .. first+7: {policy: [yearly rows of each seed]}."""
    from zonesim.config import builtin_names

    policies = builtin_names("policies")
    jobs = [(pol, s) for pol in policies for s in range(first, first + REPLICATES)]
    with ProcessPoolExecutor(workers) as pool:
        rows = list(pool.map(_run, jobs))
    out: dict[str, list] = {pol: [] for pol in policies}
    for (pol, _), r in zip(jobs, rows, strict=True):
        out[pol].append(r)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, nargs="+", default=[101, 201, 301, 401])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=ROOT / "results" / "pairing_seed_sets")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    from zonesim.longrun import paired_correlation

    args.cache.mkdir(parents=True, exist_ok=True)
    result = {
        "population": POPULATION,
        "year": YEARS,
        "replicates": REPLICATES,
        "metrics": list(METRICS),
        "threshold": 0.5,
        "sets": {},
    }
    for first in args.sets:
        path = args.cache / f"set{first}.json"
        if path.exists():
            runs = json.loads(path.read_text())
        else:
            print(f"pairing: seeds {first}-{first + REPLICATES - 1} ...", file=sys.stderr)
            runs = run_set(first, args.workers)
            path.write_text(json.dumps(runs))
        base = [r[YEARS - 1] for r in runs["status_quo"]]
        corr, values = {}, {"status_quo": {m: [b[m] for b in base] for m in METRICS}}
        for pol, rs in runs.items():
            if pol == "status_quo":
                continue
            y = [r[YEARS - 1] for r in rs]
            corr[pol] = {
                m: paired_correlation([b[m] for b in base], [v[m] for v in y]) for m in METRICS
            }
            values[pol] = {m: [v[m] for v in y] for m in METRICS}
        lowest = min(min(c.values()) for c in corr.values())
        result["sets"][str(first)] = {"correlation": corr, "values": values, "lowest": lowest}
        print(
            f"pairing: seeds {first}-{first + REPLICATES - 1}: lowest {lowest:.2f}", file=sys.stderr
        )
    # All sets together: the correlation over every replicate (tests/test_longrun.py checks
    # it), a far steadier estimate of the model's pairing than any one set of 8.
    sets = list(result["sets"].values())
    result["pooled"] = {
        pol: {
            m: paired_correlation(
                [x for s in sets for x in s["values"]["status_quo"][m]],
                [x for s in sets for x in s["values"][pol][m]],
            )
            for m in METRICS
        }
        for pol in sets[0]["correlation"]
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"pairing: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
