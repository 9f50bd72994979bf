"""Write docs/validation.md (and its figure) from long runs of the model.

    python scripts/gen_validation_md.py                  # the full check (tens of minutes)
    python scripts/gen_validation_md.py --workers 2      # processes running the runs
    python scripts/gen_validation_md.py --population 30000 --years 10 --seeds 2  # a quick look

What it runs (with :mod:`zonesim.longrun`, i.e. the public API):

1. the default zone under the status quo, ``--years`` years after the warm-up, ``--seeds``
   seeds, in the ``baseline``, ``care_paradox`` and ``ageing`` scenarios: each headline metric
   per year with its band over the seeds, and the steady-state check of the baseline (mean of
   the last three years against the first three);
2. the ageing scenario against the need mix it produces: the GP demand its age structure
   implies next to what the model did;
3. the paired correlation per year between the status quo and each preset, across
   ``--corr-replicates`` replicates (same seed, two policies) on a ``--corr-population`` zone.

The page says how, when and at which commit it was made. ``bash scripts/docs.sh --validation``
runs this before building the docs.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "validation.md"
IMG = ROOT / "docs" / "img" / "validation_longrun.png"
SCENARIOS = ("baseline", "care_paradox", "ageing")
CORR_METRICS = ("unmet_need_days_per_1000", "cost_per_capita_eur", "gp_fte_per_100k")
LABELS = {
    "gp_fte_per_100k": "GP FTE per 100,000",
    "utilisation_gp": "GP utilisation",
    "cost_per_capita_eur": "cost per capita (euro)",
    "gp_wait_days_mean": "GP wait (days)",
    "unmet_need_days_per_1000": "unmet-need days per 1,000",
    "avoidable_admissions_per_1000": "avoidable admissions per 1,000",
    "strained_share": "strained share of FTE",
}


def _run(job):
    from zonesim.longrun import yearly

    scenario, policy, population, seed, years = job
    return job, yearly(
        seed=seed, years=years, scenario=scenario, policy=policy, population=population
    )


def run_all(jobs, workers: int):
    if workers <= 1:
        return dict(_run(j) for j in jobs)
    with ProcessPoolExecutor(workers) as pool:
        return dict(pool.map(_run, jobs))


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def figure(series, years: int, path: Path) -> None:
    """Six panels: each headline metric per year, the band over seeds, per scenario."""
    from matplotlib.figure import Figure

    from zonesim.longrun import HEADLINE

    metrics = [m for m in HEADLINE if m != "strained_share"]
    fig = Figure(figsize=(12, 7), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    x = np.arange(1, years + 1)
    colours = {"baseline": "#1b6ca8", "care_paradox": "#c0392b", "ageing": "#7d8c2f"}
    for ax, m in zip(axes, metrics, strict=True):
        for sc, runs in series.items():
            v = np.array([[r[m] for r in rows] for rows in runs])
            ax.fill_between(x, v.min(axis=0), v.max(axis=0), color=colours[sc], alpha=0.2, lw=0)
            ax.plot(x, v.mean(axis=0), color=colours[sc], label=sc)
        ax.set_title(LABELS[m], fontsize=10)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Status quo over the years: mean and range over seeds, per scenario")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--population", type=int, default=None, help="default: the default zone's")
    ap.add_argument("--corr-population", type=int, default=30_000)
    ap.add_argument("--corr-replicates", type=int, default=8)
    ap.add_argument("--corr-years", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--img", type=Path, default=IMG)
    ap.add_argument("--save", type=Path, help="also write every run's yearly rows as JSON here")
    ap.add_argument("--load", type=Path, help="write the page from an earlier --save's runs")
    ap.add_argument(
        "--commit", help="with --load: the commit the saved runs were made at (stated on the page)"
    )
    args = ap.parse_args(argv)

    import zonesim
    from zonesim.config import WARMUP_DAYS, Config, builtin_names, load_config
    from zonesim.longrun import (
        HEADLINE,
        STEADY_TOLERANCE,
        STRAINED_SHARE_CEILING,
        band,
        drift,
        paired_correlation,
        window_mean,
    )

    sys.path.insert(0, str(ROOT / "scripts"))
    from gen_calibration_md import git_commit

    zone = Config().zone
    pop = args.population or zone.population
    seeds = list(range(1, args.seeds + 1))
    presets = builtin_names("policies")
    corr_seeds = list(range(101, 101 + args.corr_replicates))
    jobs = [(sc, "status_quo", pop, s, args.years) for sc in SCENARIOS for s in seeds]
    jobs += [
        (
            "baseline",
            pol,
            args.corr_population,
            s,
            args.corr_years,
        )
        for pol in presets
        for s in corr_seeds
    ]
    print(f"gen_validation_md: {len(jobs)} runs on {args.workers} worker(s)", file=sys.stderr)
    if args.load:  # the doc from the runs of an earlier --save (same settings)
        import json

        res = {tuple(k): v for k, v in json.loads(args.load.read_text())}
    else:
        res = run_all(jobs, args.workers)
    if args.save:
        import json

        args.save.write_text(json.dumps([[list(k), v] for k, v in res.items()]))
    series = {sc: [res[(sc, "status_quo", pop, s, args.years)] for s in seeds] for sc in SCENARIOS}
    n = args.years
    last = range(n - 2, n + 1)

    # --- 1. the steady-state check -----------------------------------------------------------
    lines_check = [
        "| metric | years 1-3 | years " + f"{n - 2}-{n}" + " | change | allowed | holds |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    all_hold = True
    base = series["baseline"]
    for m in HEADLINE:
        a = float(np.mean([window_mean(r, m, range(1, 4)) for r in base]))
        b = float(np.mean([window_mean(r, m, last) for r in base]))
        if m == "strained_share":
            worst = max(max(row[m] for row in r) for r in base)
            ok = worst < STRAINED_SHARE_CEILING
            lines_check.append(
                f"| `{m}` | {_fmt(a)} | {_fmt(b)} | highest year of any seed {_fmt(worst)} | "
                f"< {STRAINED_SHARE_CEILING:.2f} | {'yes' if ok else '**no**'} |"
            )
        else:
            d = (b - a) / abs(a) if a else 0.0
            tol = STEADY_TOLERANCE[m]
            ok = abs(d) <= tol
            lines_check.append(
                f"| `{m}` | {_fmt(a)} | {_fmt(b)} | {d:+.1%} | +-{tol:.0%} | "
                f"{'yes' if ok else '**no**'} |"
            )
        all_hold &= ok
    per_seed = [
        "| seed | " + " | ".join(f"`{m}`" for m in HEADLINE if m != "strained_share") + " |",
        "|---:|" + "---:|" * (len(HEADLINE) - 1),
    ]
    for s, rows in zip(seeds, base, strict=True):
        d = drift(rows, [m for m in HEADLINE if m != "strained_share"])
        per_seed.append(f"| {s} | " + " | ".join(f"{v:+.1%}" for v in d.values()) + " |")

    # --- 2. per-year tables -----------------------------------------------------------------
    tables = []
    for m in HEADLINE:
        t = [
            f"#### {LABELS[m]} (`{m}`)",
            "",
            "| year | " + " | ".join(SCENARIOS) + " |",
            "|---:|" + "---:|" * len(SCENARIOS),
        ]
        for y in range(n):
            cells = []
            for sc in SCENARIOS:
                mean, lo, hi = band([rows[y][m] for rows in series[sc]])
                cells.append(f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]")
            t.append(f"| {y + 1} | " + " | ".join(cells) + " |")
        tables += [*t, ""]

    # --- 3. ageing: what the age structure implies -------------------------------------------
    cfg = load_config(None, scenario="ageing")
    care = cfg.parameters.care
    per_need = np.asarray(care.gp_contacts_per_year) + np.asarray(care.chronic_followup_per_year)
    ageing_rows = [
        "| year | 65+ share: baseline | ageing | need >= 2: baseline | ageing | GP demand its "
        "need mix implies, ageing / baseline | GP utilisation, ageing / baseline | cost per "
        "capita, ageing / baseline |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def implied(row):
        return sum(row[f"need_share_{k}"] * per_need[k] for k in range(4))

    ag = series["ageing"]

    def ratio(y, f):  # mean over seeds of ageing / baseline, seed by seed (paired)
        return float(np.mean([f(a[y]) / f(b[y]) for a, b in zip(ag, base, strict=True)]))

    for y in range(n):
        ageing_rows.append(
            f"| {y + 1} | {np.mean([r[y]['share_65plus'] for r in base]):.3f} | "
            f"{np.mean([r[y]['share_65plus'] for r in ag]):.3f} | "
            f"{np.mean([r[y]['complex_share'] for r in base]):.4f} | "
            f"{np.mean([r[y]['complex_share'] for r in ag]):.4f} | "
            f"{ratio(y, implied):.3f} | "
            f"{ratio(y, lambda r: r['utilisation_gp']):.3f} | "
            f"{ratio(y, lambda r: r['cost_per_capita_eur']):.3f} |"
        )

    # --- 4. care paradox against baseline ------------------------------------------------------
    def fte_year(sc, y):
        return float(np.mean([r[y - 1]["gp_fte_per_100k"] for r in series[sc]]))

    y10 = min(10, n)
    cp_gap = fte_year("care_paradox", y10) / fte_year("baseline", y10) - 1.0

    # --- 5. paired correlations ---------------------------------------------------------------
    corr = [
        "| preset | metric | " + " | ".join(f"y{y}" for y in range(1, args.corr_years + 1)) + " |",
        "|---|---|" + "---:|" * args.corr_years,
    ]
    worst5 = 1.0
    for pol in presets:
        if pol == "status_quo":
            continue
        for m in CORR_METRICS:
            cells = []
            for y in range(args.corr_years):
                a = [
                    res[("baseline", "status_quo", args.corr_population, s, args.corr_years)][y][m]
                    for s in corr_seeds
                ]
                b = [
                    res[("baseline", pol, args.corr_population, s, args.corr_years)][y][m]
                    for s in corr_seeds
                ]
                r = paired_correlation(a, b)
                cells.append(f"{r:.2f}")
                if y == 4:
                    worst5 = min(worst5, r)
            corr.append(f"| `{pol}` | `{m}` | " + " | ".join(cells) + " |")

    # --- 6. zone size: the corr runs' status quo against the default zone ---------------------
    ny = min(n, args.corr_years)
    small = [
        res[("baseline", "status_quo", args.corr_population, s, args.corr_years)]
        for s in corr_seeds
    ]
    size_rows = [
        f"| metric | {pop:,} inhabitants | {args.corr_population:,} inhabitants | difference | "
        "replicate spread (SD of run means, larger zone / smaller zone) |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in HEADLINE:
        big_means = [np.mean([r[y][m] for y in range(ny)]) for r in base]
        small_means = [np.mean([r[y][m] for y in range(ny)]) for r in small]
        a, b = float(np.mean(big_means)), float(np.mean(small_means))
        size_rows.append(
            f"| `{m}` | {_fmt(a)} | {_fmt(b)} | {(b - a) / abs(a) if a else 0.0:+.1%} | "
            f"{_fmt(float(np.std(big_means, ddof=1)))} / "
            f"{_fmt(float(np.std(small_means, ddof=1)))} |"
        )

    figure({sc: series[sc] for sc in SCENARIOS}, n, args.img)
    date = datetime.now(UTC).date().isoformat()
    rel_img = (
        args.img.relative_to(args.out.parent)
        if args.img.is_relative_to(args.out.parent)
        else args.img
    )
    lines = [
        "# Validation over the long run",
        "",
        "<!-- Generated by scripts/gen_validation_md.py; do not edit by hand. -->",
        "",
        f"Generated on **{date}** (UTC) by `python scripts/gen_validation_md.py` with zonesim "
        f"{zonesim.__version__} at commit `{args.commit or git_commit()}`: the default zone "
        f"({pop:,} inhabitants, {zone.n_municipalities} municipalities) under the `status_quo` "
        f"policy, {WARMUP_DAYS} days of warm-up, then **{n} years** measured one year at a time, "
        f"**seeds {seeds[0]}-{seeds[-1]}**, in the `baseline`, `care_paradox` and `ageing` "
        "scenarios (`configs/scenarios/`). A comparison is only as good as its baseline "
        "(MODEL.md section 8): without a policy change the `baseline` must stay steady, "
        "`ageing` must move only as its changing age structure explains, and `care_paradox` "
        "must show the reinforcing loop (understaffing -> strain -> attrition -> worse access). "
        "The balancing loops that make this hold are described in [the ODD](odd.md) "
        "(process 9 and the access loops of process 5).",
        "",
        f"![Headline metrics per year, per scenario]({rel_img})",
        "",
        "## The baseline is steady",
        "",
        f"Mean over the seeds of the first three years against the last three (the check of "
        f"issue 15): **{'all hold' if all_hold else 'not all hold'}**.",
        "",
        *lines_check,
        "",
        "The same change (last three years against the first three), seed by seed:",
        "",
        *per_seed,
        "",
        "## The care paradox shows the loop",
        "",
        f"GP FTE per 100,000 in year {y10}: `care_paradox` {fte_year('care_paradox', y10):.1f} "
        f"against `baseline` {fte_year('baseline', y10):.1f} ({cp_gap:+.1%}). The scenario "
        "retires GPs faster (5% a year) than its labour market can replace them (1.5 FTE per "
        "100,000 a year); the rising load strains those who stay, and strain adds attrition.",
        "",
        "## Ageing moves as its age structure explains",
        "",
        "The `ageing` scenario follows the projected 65+ share (21% in 2025 towards 26% in "
        "2050, MODEL.md section 6) by births and migration by age; `baseline` keeps the "
        "initial age pyramid. Both runs of a seed share their random numbers, so their ratio "
        "is what the age structure does. The GP demand the need mix implies (routine contacts "
        "plus chronic follow-ups per inhabitant at each need level, weighted by the year's need "
        "shares) is what the older population asks of its GPs; GP utilisation follows it, "
        "somewhat more (the GPs' share of the coordination of switch moments, e.g. falls of "
        "people aged 65+, rises with the 65+ share too, and waits grow faster than load near "
        "capacity); cost per capita rises with hospital use of the old. GP FTE per 100,000 does "
        "not move: the workforce is the baseline's.",
        "",
        *ageing_rows,
        "",
        "## Each headline metric per year",
        "",
        "Mean over the seeds [lowest, highest].",
        "",
        *tables,
        "## Zone size",
        "",
        f"Per-capita results of the status quo in `baseline`, mean of years 1-{ny}: the default "
        f"zone ({len(seeds)} seeds) against a zone of {args.corr_population:,} inhabitants "
        f"({len(corr_seeds)} seeds) of the same structure (the same municipalities and practice "
        "mix, scaled). Staff are laid out and recruited in fractional FTE, so a smaller zone "
        "differs only through lumpier events (one GP is a larger share of its GPs).",
        "",
        *size_rows,
        "",
        "## Common random numbers hold for years",
        "",
        f"Pearson correlation, across {args.corr_replicates} replicates (seeds "
        f"{corr_seeds[0]}-{corr_seeds[-1]}), of each year's outcome under the status quo and "
        f"under the preset with the same seed ({args.corr_population:,} inhabitants, "
        f"`baseline`). High values mean the paired difference is far less noisy than the "
        f"replicates: comparisons stay sharp over the years. Lowest value in year 5: "
        f"**{worst5:.2f}** (tests/test_longrun.py checks >= 0.5). A placebo-like preset whose "
        "outcome does not vary between replicates shows 1.00.",
        "",
        *corr,
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(
        f"gen_validation_md: wrote {args.out} and {args.img} (steady: {all_hold}; care paradox "
        f"{cp_gap:+.1%} in year {y10}; lowest year-5 correlation {worst5:.2f})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
