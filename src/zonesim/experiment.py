"""Experiments: one scenario x several policies x N replicates under common random numbers.

An :class:`Experiment` says what to compare (scenario, zone configuration, policies, the baseline
policy, replicates, horizon, warm-up, seed, parameter uncertainty); :func:`compare` runs it as a
one-point study of the run pipeline (:mod:`zonesim.runs`) and returns a
:class:`ComparisonResult`: per measured year and over the whole horizon, the mean of every
scorecard metric per policy and the paired difference of every policy against the baseline with a
95% interval, and a ranking summary per aim.

Shared warm-up: each replicate warms up once, under the warm-up policy (``status_quo``), and every
policy is branched from that same state (:meth:`zonesim.ZoneModel.branch`), so the policies
differ from the day they start, not from a different history. Or every replicate starts from a
saved model (``checkpoint``).

Common random numbers: replicate ``r`` runs with the same seed (:func:`replicate_seed`) under every
policy. The engine's draws are counter-based hashes of (seed, entity, day, purpose), so the same
patient meets the same exogenous events under every policy, and the difference between two paired
runs is mostly the policy's effect, not noise. The achieved correlation between paired runs is
reported per metric (``corr``). With ``psa``, replicate ``r`` also draws the uncertain parameters
once (:mod:`zonesim.runs.psa`), the same draw for every policy: the intervals then include
parameter uncertainty (the table says which kind it shows).

Statistics, per metric and non-baseline policy, over the replicates where both runs have a finite
value: ``diff`` = mean of (policy - baseline); the 95% interval is the paired t interval
(``scipy.stats.t``, n - 1 degrees of freedom); ``p`` its two-sided p-value; ``p_holm`` the
Holm-adjusted p-value across the policies of that metric, and ``significant`` = ``p_holm < 0.05``.
The interval itself is per comparison (not adjusted). A metric whose paired differences are all
equal (e.g. bit-identical under a policy that cannot touch it) gets a zero-width interval and
p = 1 (difference 0) or p = NaN (zero variance: no test, never starred).

Runs are stored one Parquet file each (``store=``; the CLI keeps them in ``<out>/study/``), so a
comparison that is stopped resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .config import WARMUP_DAYS
from .errors import ZonesimInputError
from .runs.fields import (
    DAYS_PER_YEAR,
    _git_info,
    _relative_to,
    _validate_field,
    replicate_seed,
    toml_dumps,
)
from .runs.psa import PSA, parse_psa
from .runs.simulate import run_replicate

__all__ = [
    "DEFAULT_REPLICATES",
    "DEFAULT_YEARS",
    "RANKING_METRICS",
    "ComparisonResult",
    "Experiment",
    "Plan",
    "available_cores",
    "compare",
    "holm",
    "load_experiment",
    "paired_stats",
    "replicate_seed",
    "run_plan",
    "run_replicate",
    "toml_dumps",
]

# The main job (``zonesim compare`` without arguments): ten measured years from a shared warm-up,
# with the replicates that fit in 5 minutes on a 2-core machine (measured; experiments/README.md).
DEFAULT_REPLICATES = 6
DEFAULT_YEARS = 10.0

# The metric that ranks the policies within each aim (ranking summary), and which way is better.
RANKING_METRICS: dict[str, tuple[str, str]] = {
    "population_health": ("qalys_per_capita", "higher"),
    "experience": ("unmet_need_days_per_1000", "lower"),
    "cost": ("cost_per_capita_eur", "lower"),
    "workforce": ("strained_share", "lower"),
    "equity": ("unmet_need_days_gap_literacy", "closer to 0"),
}


def _default_policies() -> tuple[str, ...]:
    from .policies import preset_names

    return tuple(preset_names())


# ---------------------------------------------------------------------------------------------
# The experiment
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """One scenario x several policies x N replicates (the defaults are the main job).

    Attributes
    ----------
    name: the experiment's name; results go to ``results/<name>/`` by default.
    scenario: a built-in scenario name (``baseline``, ``ageing``, ``care_paradox``) or a
        scenario TOML.
    config: a zone configuration TOML (None: the built-in default zone).
    policies: preset names or policy TOML files (default: every built-in preset).
    baseline: the policy the others are compared with; must be among ``policies``.
    replicates: runs per policy; replicate r uses the same seed under every policy.
    years: measured horizon in years (after the warm-up); results are kept per year.
    warmup_days: days simulated before measurement starts (queues, episodes, strain settle),
        once per replicate, under ``warmup_policy``; every policy branches from that state.
    warmup_policy: the policy of the shared warm-up (default ``status_quo``).
    checkpoint: a saved model (:meth:`zonesim.ZoneModel.save`) every replicate starts from
        instead of a warm-up (the zone and scenario are the checkpoint's).
    seed: the experiment seed; replicate seeds derive from it (:func:`replicate_seed`).
    population: inhabitants (overrides ``zone.population``; None: the configuration's).
    overrides: ``key.path=value`` strings; ``policy.<lever>=value`` sets a lever of every policy,
        the others configuration values.
    psa: parameter uncertainty (:class:`zonesim.runs.psa.PSA`; in a file ``psa = true`` or a
        ``[psa]`` table): each replicate draws the uncertain parameters once, for every policy.
    workers: processes to run in parallel (None: all cores, at most one per run).
    executor: where the runs execute (:mod:`zonesim.executors`: ``processes``, ``sequential``,
        ``local``, ``slurm``, an address or a profile; None: worker processes on this machine).

    Paths in a TOML file are relative to that file (:func:`load_experiment` resolves them).
    """

    name: str = "default"
    scenario: str = "baseline"
    config: str | None = None
    policies: tuple[str, ...] = field(default_factory=_default_policies)
    baseline: str = "status_quo"
    replicates: int = DEFAULT_REPLICATES
    years: float = DEFAULT_YEARS
    warmup_days: int = WARMUP_DAYS
    warmup_policy: str = "status_quo"
    checkpoint: str | None = None
    seed: int = 2020
    population: int | None = None
    overrides: tuple[str, ...] = ()
    psa: PSA = field(default_factory=PSA)
    workers: int | None = None
    executor: str | None = None
    source: str = field(default="<defaults>", compare=False, metadata={"internal": True})

    def to_dict(self) -> dict[str, Any]:
        """The experiment as a plain dict (None values left out, as TOML has no null)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.metadata.get("internal"):
                continue
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, PSA):
                if v.enabled:
                    out[f.name] = v.to_dict()
                continue
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    def replace(self, **changes: Any) -> Experiment:
        """A validated copy with ``changes`` (the same checks as a TOML file)."""
        return _from_mapping(changes, source="<argument>", base=self)

    def seeds(self) -> list[int]:
        """The run seed of each replicate (the same under every policy)."""
        return [replicate_seed(self.seed, r) for r in range(self.replicates)]

    def to_study(self):
        """This experiment as a one-point study of the run pipeline (:mod:`zonesim.runs`)."""
        from .runs.study import Study

        return Study(
            name=self.name,
            scenario=self.scenario,
            config=self.config,
            policies=self.policies,
            replicates=self.replicates,
            years=self.years,
            warmup_days=self.warmup_days,
            seed=self.seed,
            population=self.population,
            overrides=self.overrides,
            warmup_policy=self.warmup_policy,
            checkpoint=self.checkpoint,
            psa=self.psa,
            retries=0,
            timeseries=True,
            source=self.source,
        )

    def resolve(self) -> Plan:
        """Load and check everything a run needs (configuration, policies, budgets, parameter
        draws, warm-ups) up front.

        Raises :class:`~zonesim.errors.ZonesimInputError` for any bad input, before anything
        is simulated or written.
        """
        return _resolve(self)


_PUBLIC_FIELDS = tuple(f.name for f in fields(Experiment) if not f.metadata.get("internal"))


def _from_mapping(
    data: Any, *, source: str, base: Experiment | None = None, base_dir: Path | None = None
) -> Experiment:
    """An :class:`Experiment` from a dict, every key and value checked (``base`` fills gaps)."""
    if base is None:
        base = Experiment()
    if not isinstance(data, dict):
        raise ZonesimInputError(
            "expected a table of keys", source=source, field="<root>", value=data
        )
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _PUBLIC_FIELDS:
            import difflib

            match = difflib.get_close_matches(str(key), _PUBLIC_FIELDS, n=1)
            hint = f" (did you mean '{match[0]}'?)" if match else ""
            raise ZonesimInputError(
                f"unknown key{hint}; expected one of: {', '.join(sorted(_PUBLIC_FIELDS))}",
                source=source,
                field=str(key),
                value=value,
                show_value=False,
            )
        where = {"source": source, "field": key, "value": value}
        if key == "psa":
            changes[key] = parse_psa(value, source)
        elif key == "executor":
            changes[key] = _check_executor(value, where)
        else:
            changes[key] = _validate_field(key, value, where)
    if base_dir is not None:
        for key in ("config", "scenario", "baseline", "warmup_policy", "checkpoint"):
            if changes.get(key):
                changes[key] = _relative_to(
                    changes[key], base_dir, key not in ("config", "checkpoint")
                )
        if "policies" in changes:
            changes["policies"] = tuple(
                _relative_to(p, base_dir, True) for p in changes["policies"]
            )
    if base_dir is not None:  # read from a file: remember which
        changes["source"] = source
    exp = dataclasses.replace(base, **changes)
    _check_cross(exp, source)
    return exp


def _check_executor(value: Any, where: dict) -> str | None:
    from .executors import check_choice

    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ZonesimInputError("expected an executor name", **where)
    check_choice(value, where["source"], where["field"])
    return value


def _check_cross(exp: Experiment, source: str) -> None:
    if exp.baseline not in exp.policies:
        raise ZonesimInputError(
            f"expected the baseline to be one of the policies ({', '.join(exp.policies)})",
            source=source,
            field="baseline",
            value=exp.baseline,
        )


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment TOML (see ``experiments/default.toml``). Any unknown key or
    bad value raises :class:`~zonesim.errors.ZonesimInputError` naming the file and the key."""
    from .config import _read_toml

    path = Path(path)
    data = _read_toml(path)
    return _from_mapping(data, source=str(path), base_dir=path.resolve().parent)


# ---------------------------------------------------------------------------------------------
# Resolution: everything checked before anything runs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A resolved experiment: the configuration and the policies the runs use, and the study
    the run pipeline executes (``study``: a :class:`zonesim.runs.pipeline.StudyPlan`)."""

    experiment: Experiment
    config: Any  # zonesim.config.Config
    policies: dict[str, Any]  # label -> zonesim.config.PolicyConfig
    seeds: tuple[int, ...]
    workers: int
    study: Any = None

    @property
    def labels(self) -> list[str]:
        """Policy labels, the baseline first."""
        return list(self.policies)

    @property
    def baseline(self) -> str:
        return self.labels[0]

    @property
    def n_runs(self) -> int:
        return len(self.policies) * len(self.seeds)


def available_cores() -> int:
    """Cores this process may use (its CPU affinity where the platform tells)."""
    from .executors import available_cores as cores

    return cores()


def _resolve(exp: Experiment) -> Plan:
    from .policies import preset_names
    from .runs.pipeline import resolve_study

    sp = resolve_study(exp.to_study())
    presets = set(preset_names())
    labels = list(sp.resolved)
    baseline_label = next(
        label
        for entry, label in zip(exp.policies, labels, strict=True)
        if entry == exp.baseline or (entry not in presets and label == exp.baseline)
    )
    # baseline first (labelled by preset name or the name in its file), then the others
    ordered = {baseline_label: sp.resolved[baseline_label]}
    ordered.update((k, v) for k, v in sp.resolved.items() if k != baseline_label)
    seeds = tuple(sp.seeds)
    n_runs = len(ordered) * len(seeds)
    workers = min(exp.workers or available_cores(), n_runs)
    workers = _workers_that_fit(exp, sp.base_config, max(1, workers))
    return Plan(exp, sp.base_config, ordered, seeds, max(1, workers), sp)


def _workers_that_fit(exp: Experiment, config: Any, workers: int) -> int:
    """The memory guard, up front: one run must fit in the memory available now (else a
    :class:`~zonesim.errors.ResourceError` with the estimate); at most as many workers as
    runs fit side by side."""
    from .memory import check_memory, max_state_bytes
    from .population import estimate_run_bytes

    need, what = estimate_run_bytes(config, years=exp.years + exp.warmup_days / DAYS_PER_YEAR)
    check_memory(need, what)
    fit = max(1, min(workers, max_state_bytes() // max(need, 1)))
    if fit < workers:
        warnings.warn(
            f"memory: {fit} worker process(es) instead of {workers}, as each run needs about "
            f"{need / 2**30:.2f} GiB ({what})",
            RuntimeWarning,
            stacklevel=3,
        )
    return fit


# ---------------------------------------------------------------------------------------------
# Running: a one-point study of the run pipeline
# ---------------------------------------------------------------------------------------------


def _summarise_warnings(per_run: list[tuple], n_runs: int) -> list[tuple[str, type]]:
    """One warning per kind over all runs (numbers in a message do not make a new kind): the
    message of the run with the largest count, named by its policy and replicate, and in how
    many runs it came up. ``per_run``: ``((policy, replicate), [(message, category), ...])``."""
    kinds: dict[tuple[str, type], list] = {}
    for (label, replicate), ws in per_run:
        for message, category in dict.fromkeys(ws):
            key = (re.sub(r"\d[\d,.]*", "#", message), category)
            nums = [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*", message)] or [0]
            entry = kinds.setdefault(key, [0, -1.0, message, label, replicate])
            entry[0] += 1
            if nums[0] > entry[1]:
                entry[1:] = [nums[0], message, label, replicate]
    out = []
    for (_, category), (count, _, message, label, replicate) in kinds.items():
        run = f"policy {label}, replicate {replicate}"
        prefix = f"in {count} of {n_runs} runs (largest: {run}): " if n_runs > 1 else f"{run}: "
        out.append((prefix + message, category))
    return out


def compare(
    experiment: Experiment | str | Path | None = None,
    *,
    progress: bool = False,
    store: str | Path | None = None,
    **changes: Any,
) -> ComparisonResult:
    """Run an experiment: every policy x every replicate, under common random numbers, every
    policy of a replicate branched from the replicate's shared warm-up.

    ``experiment``: an :class:`Experiment`, an experiment TOML path, or None for the main job
    (the built-in defaults). ``changes`` replace its fields (``replicates=4``,
    ``population=20_000``, ``policies=["status_quo", "integrated"]``, ``years=2``...),
    validated like a file. ``progress`` shows a progress bar (runs done / total) on stderr.
    ``store``: a folder that keeps every run's result (a rerun with the same folder resumes,
    running only what is missing); None: a temporary folder, removed afterwards.

    Everything is loaded and checked before the first run: a bad input raises
    :class:`~zonesim.errors.ZonesimInputError` and nothing is simulated.
    """
    if experiment is None:
        exp = Experiment()
    elif isinstance(experiment, Experiment):
        exp = experiment
    elif isinstance(experiment, (str, Path)):
        exp = load_experiment(experiment)
    else:
        raise ZonesimInputError(
            "expected an Experiment, a TOML path or None",
            source="<argument>",
            field="experiment",
            value=experiment,
        )
    if changes:
        exp = exp.replace(**changes)
    plan = exp.resolve()
    return run_plan(plan, progress=progress, store=store)


def run_plan(
    plan: Plan, *, progress: bool = False, store: str | Path | None = None
) -> ComparisonResult:
    """Run a resolved :class:`Plan` through the run pipeline (see :func:`compare`)."""
    if store is None:
        with tempfile.TemporaryDirectory(prefix="zonesim-compare-") as tmp:
            return _run_and_collect(plan, Path(tmp), progress)
    return _run_and_collect(plan, Path(store), progress)


def _run_and_collect(plan: Plan, folder: Path, progress: bool) -> ComparisonResult:
    from .executors import resolve_executor
    from .runs.pipeline import _read_meta, _result_files, load_results, run_study

    exp = plan.experiment
    choice = exp.executor or ("processes" if plan.workers > 1 else "sequential")
    spec = resolve_executor(choice, workers=plan.workers if choice == "processes" else None)
    started = time.time()
    t0 = time.perf_counter()
    report = run_study(plan.study, folder, executor=spec, progress=progress, command="compare")
    wall = time.perf_counter() - t0
    if report.failed:
        run, error = next(iter(report.failures.items()))
        raise RuntimeError(
            f"{report.failed} of {report.total} runs failed (first: {error}); their errors are "
            f"in {folder / 'failed'}; rerunning retries them"
        )
    metas = [_read_meta(f) for f in _result_files(folder)]
    messages = _summarise_warnings(
        [
            (
                (m["run_spec"]["policy"], m["run_spec"]["replicate"]),
                [(w, RuntimeWarning) for w in m.get("warnings", [])],
            )
            for m in metas
            if m.get("run") in plan.study.tasks
        ],
        plan.n_runs,
    )
    for message, category in messages:
        warnings.warn(message, category, stacklevel=4)
    horizon = load_results(folder)
    by_year = load_results(folder, years=True)
    series = load_results(folder, timeseries=True)
    return ComparisonResult(
        experiment=exp,
        config=plan.config,
        policies=dict(plan.policies),
        runs=_tidy(horizon, plan.labels),
        timeseries=_tidy(series, plan.labels, ["month"]),
        years=_tidy(by_year, plan.labels, ["year"]),
        draws=_draws(horizon),
        wall_s=wall,
        started=started,
        workers=plan.workers,
        warnings=[m for m, _ in messages],
        executed=report.executed,
        resumed=report.already_done,
    )


def _tidy(df, labels: list[str], order: list[str] | None = None):
    """Pipeline results as the comparison's tables: policy, replicate, seed (, year or
    month), the metrics; policies in ``labels`` order (baseline first)."""
    import pandas as pd

    drop = [c for c in df.columns if c in ("point", "run") or c.startswith("psa.")]
    drop += [c for c in df.columns if c == "day" and order == ["year"]]
    out = df.drop(columns=drop)
    out["policy"] = pd.Categorical(out["policy"], categories=labels, ordered=True)
    out = out.sort_values(["policy", "replicate", *(order or [])], kind="stable")
    out["policy"] = out["policy"].astype(str)
    return out.reset_index(drop=True)


def _draws(df):
    """The parameter draws per replicate (``replicate`` and one column per drawn parameter)."""
    cols = [c for c in df.columns if c.startswith("psa.")]
    if not cols:
        return None
    out = df[["replicate", *cols]].drop_duplicates("replicate").sort_values("replicate")
    out.columns = ["replicate", *(c.removeprefix("psa.") for c in cols)]
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


def paired_stats(baseline: Any, other: Any, level: float = 0.95) -> dict[str, float]:
    """Paired comparison of two equally long samples (replicate r paired with replicate r).

    Pairs where either value is not finite are left out. Returns ``n``, ``diff`` (mean of
    other - baseline), ``sd_diff``, ``ci_low``/``ci_high`` (paired t interval at ``level``),
    ``p`` (two-sided paired t test) and ``corr`` (Pearson correlation of the pairs; NaN where
    a side is constant or fewer than 2 pairs). With fewer than 2 pairs everything but ``n`` is
    NaN; with constant differences (zero variance) the interval has zero width and p is 1 (all
    zero) or NaN (no test is possible, so no significance is claimed).
    """
    from scipy import stats

    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.shape} vs {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = int(a.size)
    nan = float("nan")
    out = {
        "n": n,
        "diff": nan,
        "sd_diff": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p": nan,
        "corr": nan,
    }
    if n == 0:
        return out
    d = b - a
    mean = float(d.mean())
    out["diff"] = mean
    if n < 2:
        return out
    sd = float(d.std(ddof=1))
    out["sd_diff"] = sd
    # constant differences (to rounding): the sample says the difference is exactly `mean`,
    # and there is no t test (no variance): p is NaN for a non-zero difference (never starred
    # as significant, left out of Holm's count), 1 for a zero one
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()))
    if sd <= 1e-9 * scale:
        if abs(mean) <= 1e-9 * scale:
            mean = 0.0
            out["diff"] = 0.0
        out.update(sd_diff=0.0, ci_low=mean, ci_high=mean, p=1.0 if mean == 0 else nan)
    else:
        se = sd / math.sqrt(n)
        tcrit = float(stats.t.ppf(0.5 + level / 2, n - 1))
        tstat = mean / se
        out.update(
            ci_low=mean - tcrit * se,
            ci_high=mean + tcrit * se,
            p=float(2 * stats.t.sf(abs(tstat), n - 1)),
        )
    if a.std() > 0 and b.std() > 0:
        out["corr"] = float(np.corrcoef(a, b)[0, 1])
    return out


def holm(pvalues: Any) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs stay NaN and do not count as tests)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------

TIDY_COLUMNS = [
    "section",
    "metric",
    "policy",
    "n",
    "mean",
    "sd",
    "diff",
    "ci_low",
    "ci_high",
    "p",
    "p_holm",
    "significant",
    "corr",
]


class ComparisonResult:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    experiment: the :class:`Experiment` that ran; config: the resolved
    :class:`~zonesim.config.Config`; policies: label -> :class:`~zonesim.config.PolicyConfig`
    (the baseline first); runs: one row per run (policy, replicate, seed, every metric over the
    window shown, by default the whole horizon); years: one row per run and measured year
    (policy, replicate, seed, year, every metric of that year; see :meth:`by_year`);
    timeseries: one row per run and month (policy, replicate, seed, day, month, flow metrics);
    draws: the parameter draws per replicate (PSA; None without); window: the window that
    :attr:`runs`, the tables and figures show (``"horizon"`` or ``"year k"``, see :meth:`at`);
    wall_s: seconds the runs took; workers: processes used; warnings: what the runs warned;
    executed / resumed: runs executed by this call / found done in the store.
    """

    def __init__(
        self,
        *,
        experiment: Experiment,
        config: Any,
        policies: dict,
        runs: Any,
        timeseries: Any,
        wall_s: float = float("nan"),
        started: float | None = None,
        workers: int = 1,
        warnings: list[str] | None = None,
        years: Any = None,
        draws: Any = None,
        window: str = "horizon",
        executed: int | None = None,
        resumed: int = 0,
    ) -> None:
        self.experiment = experiment
        self.config = config
        self.policies = policies
        self.runs = runs
        self.timeseries = timeseries
        self.years = years
        self.draws = draws
        self.window = window
        self.executed = executed
        self.resumed = resumed
        self._horizon = runs
        self.wall_s = wall_s
        self.started = time.time() if started is None else started
        self.workers = workers
        self.warnings = list(warnings or [])
        self._diff = None

    # --- views ------------------------------------------------------------------------------

    @property
    def baseline(self) -> str:
        """The baseline policy's label (the first of :attr:`policies`)."""
        return next(iter(self.policies))

    @property
    def labels(self) -> list[str]:
        """Policy labels, the baseline first."""
        return list(self.policies)

    @property
    def seeds(self) -> list[int]:
        """The run seed of each replicate (the same under every policy)."""
        base = self.runs[self.runs["policy"] == self.baseline].sort_values("replicate")
        return [int(s) for s in base["seed"]]

    def metrics(self) -> list[str]:
        """The scorecard metrics, in scorecard order."""
        return [c for c in self.runs.columns if c not in ("policy", "replicate", "seed", "year")]

    @property
    def uncertainty(self) -> str:
        """What the intervals hold: replicate noise only, or also parameter uncertainty."""
        if self.draws is not None and self.experiment.psa.enabled:
            return "replicates and parameter uncertainty (PSA)"
        return "replicate noise only (no parameter uncertainty)"

    # --- windows ----------------------------------------------------------------------------

    @property
    def n_years(self) -> int:
        """Complete measured years with their own results."""
        if self.years is None or self.years.empty:
            return 0
        return int(self.years["year"].max())

    def windows(self) -> list[str]:
        """The windows results exist for: ``"horizon"`` (the whole measured horizon) and
        ``"year 1"`` ... ``"year N"``."""
        return ["horizon", *(f"year {k}" for k in range(1, self.n_years + 1))]

    def _window_name(self, window: Any) -> str:
        if isinstance(window, (int, np.integer)) and not isinstance(window, bool):
            window = f"year {int(window)}"
        if isinstance(window, str):
            w = window.strip().lower()
            if w in ("horizon", "all", "whole"):
                return "horizon"
            m = re.fullmatch(r"(?:year\s*)?(\d+)", w)
            if m and 1 <= int(m.group(1)) <= self.n_years:
                return f"year {int(m.group(1))}"
        raise ZonesimInputError(
            f"expected a window: horizon or a measured year 1..{self.n_years}",
            source="<argument>",
            field="window",
            value=window,
        )

    def at(self, window: Any) -> ComparisonResult:
        """The same comparison measured over another window: ``"horizon"`` (the whole measured
        horizon), ``"year 5"`` or ``5`` (that measured year alone). Tables, differences and
        figures of the returned result are those of the window."""
        name = self._window_name(window)
        if name == "horizon":
            runs = self._horizon
        else:
            k = int(name.split()[1])
            runs = self.years[self.years["year"] == k].drop(columns=["year"])
            runs = runs.reset_index(drop=True)
        out = ComparisonResult(
            experiment=self.experiment,
            config=self.config,
            policies=self.policies,
            runs=runs,
            timeseries=self.timeseries,
            wall_s=self.wall_s,
            started=self.started,
            workers=self.workers,
            warnings=self.warnings,
            years=self.years,
            draws=self.draws,
            window=name,
            executed=self.executed,
            resumed=self.resumed,
        )
        out._horizon = self._horizon
        return out

    def by_year(self):
        """The per-year results as one tidy DataFrame: one row per policy x replicate x
        measured year, with ``policy``, ``replicate``, ``seed``, ``year`` (1, 2, ...),
        ``population`` (the zone's inhabitants at the start), every scorecard metric of that
        year (per-capita metrics are per inhabitant-year of that year; ``person_years`` gives
        the year's exposure), and the replicate's parameter draws (PSA) when there are any.
        The input of the health-economic layer (discounting, ICERs, budget impact)."""
        df = self.years.copy()
        df.insert(4, "population", int(self.config.zone.population))
        if self.draws is not None:
            df = df.merge(
                self.draws.add_prefix("psa.").rename(columns={"psa.replicate": "replicate"}),
                on="replicate",
                how="left",
            )
        return df

    def cost_effectiveness(self, **options: Any):
        """The health-economic analysis of this comparison against its baseline
        (:func:`zonesim.economics.from_comparison`: KCE reference case by default, the
        replicates as draws): the cost-effectiveness table, plane, acceptability curve and the
        payer's budget impact per year. ``options`` as for :func:`zonesim.economics.analyse`
        (``discounting``, ``perspective``, ``wtp`` ...)."""
        from . import economics

        return economics.from_comparison(self, **options)

    def ranking(self, windows: list[Any] | None = None):
        """Does the ordering of the policies hold over the years and across replicates?

        Per aim (its ranking metric, :data:`RANKING_METRICS`) and window (default: year 1,
        year 5, the last year and the whole horizon, those that exist): ``order`` (the policies
        by their mean, best first), ``best``, ``same_order`` (the same order as over the whole
        horizon), ``kendall_tau`` (rank agreement with the horizon's order, 1 = identical) and
        ``best_share`` (share of replicates in which the horizon's best policy is also the best
        of that replicate in this window). A tidy DataFrame.
        """
        import pandas as pd

        if windows is None:
            n = self.n_years
            windows = [f"year {k}" for k in dict.fromkeys([1, 5, n]) if 1 <= k <= n]
            windows.append("horizon")
        names = [self._window_name(w) for w in windows]
        views = {w: self.at(w) for w in dict.fromkeys([*names, "horizon"])}
        rows = []
        for aim, (metric, better) in RANKING_METRICS.items():
            if metric not in self.metrics():
                continue
            ref = _ordering(views["horizon"].values(metric), better)
            best_ref = ref[0]
            for w in names:
                vals = views[w].values(metric)
                order = _ordering(vals, better)
                per_rep = [
                    _ordering(vals[:, [r]], better)[0] == best_ref for r in range(vals.shape[1])
                ]
                rows.append(
                    {
                        "aim": aim,
                        "metric": metric,
                        "better": better,
                        "window": w,
                        "order": " > ".join(self.labels[i] for i in order),
                        "best": self.labels[order[0]],
                        "same_order": order == ref,
                        "kendall_tau": _kendall(order, ref),
                        "best_share": float(np.mean(per_rep)) if per_rep else float("nan"),
                    }
                )
        return pd.DataFrame(rows)

    def ranking_text(self) -> str:
        """The ranking summary in words, one line per aim."""
        df = self.ranking()
        if df.empty:
            return ""
        lines = [
            "ranking summary (per aim: does the order of the policies hold over the years "
            "and across replicates?)"
        ]
        for aim, block in df.groupby("aim", sort=False):
            hz = block[block["window"] == "horizon"].iloc[0]
            others = block[block["window"] != "horizon"]
            holds = bool(others["same_order"].all())
            best_same = bool((others["best"] == hz["best"]).all())
            shares = ", ".join(
                f"{w} {s:.0%}" for w, s in zip(block["window"], block["best_share"], strict=True)
            )
            verdict = (
                "order holds in every window"
                if holds
                else "best holds, order changes"
                if best_same
                else "the best policy changes over the years"
            )
            lines.append(
                f"  {aim.replace('_', ' ')} ({hz['metric']}, {hz['better']} is better): "
                f"best {hz['best']}; {verdict}; replicates agreeing on the best: {shares}"
            )
            if not holds:
                for _, r in others.iterrows():
                    lines.append(f"      {r['window']}: {r['order']}")
                lines.append(f"      horizon: {hz['order']}")
        return "\n".join(lines)

    def windows_table(self, metrics: list[str] | None = None, windows: list[Any] | None = None):
        """Differences from the baseline per window (default: the ranking metrics; year 1,
        year 5, the last year and the horizon), as text: one line per metric and policy."""
        if windows is None:
            n = self.n_years
            windows = [f"year {k}" for k in dict.fromkeys([1, 5, n]) if 1 <= k <= n]
            windows.append("horizon")
        names = [self._window_name(w) for w in windows]
        chosen = metrics or [m for m, _ in RANKING_METRICS.values() if m in self.metrics()]
        diffs = {w: self.at(w).differences().set_index(["metric", "policy"]) for w in names}
        cells = {}
        summ = self.summary().set_index(["metric", "policy"])
        for m in chosen:
            dm = _decimals_mean([summ.loc[(m, p), "mean"] for p in self.labels])
            for p in self.labels[1:]:
                for w in names:
                    d = diffs[w].loc[(m, p)]
                    if not math.isfinite(d["diff"]):
                        cells[(m, p, w)] = "n/a"
                        continue
                    dd = _decimals_diff(d["ci_low"], d["ci_high"], dm)
                    star = "*" if d["significant"] else " "
                    cells[(m, p, w)] = (
                        f"{_fmt(d['diff'], dd, sign=True)} [{_fmt(d['ci_low'], dd)}, "
                        f"{_fmt(d['ci_high'], dd)}]{star}"
                    )
        pw = max([len(p) for p in self.labels] + [6]) + 4
        colw = {w: max([len(w)] + [len(v) for k, v in cells.items() if k[2] == w]) for w in names}
        lines = [
            f"difference from {self.baseline} by window [95% paired interval; {self.uncertainty}]",
            " " * pw + "  ".join(f"{w:>{colw[w]}}" for w in names),
        ]
        for m in chosen:
            lines.append(m)
            for p in self.labels[1:]:
                row = f"  {p:<{pw - 2}}" + "  ".join(
                    f"{cells[(m, p, w)]:>{colw[w]}}" for w in names
                )
                lines.append(row.rstrip())
        return "\n".join(lines)

    def sections(self) -> dict[str, str]:
        """metric -> section (population_health, experience, cost, workforce, equity,
        activity)."""
        from .metrics import metric_sections

        known = metric_sections()
        return {m: known.get(m, "other") for m in self.metrics()}

    def values(self, metric: str) -> np.ndarray:
        """``(policies, replicates)`` array of one metric (rows in :attr:`labels` order)."""
        wide = self.runs.pivot(index="policy", columns="replicate", values=metric)
        return wide.loc[self.labels].to_numpy(dtype=float)

    def __repr__(self) -> str:
        e = self.experiment
        return (
            f"<ComparisonResult {e.name!r}: {len(self.policies)} policies x "
            f"{e.replicates} replicates, baseline {e.baseline!r}>"
        )

    # --- statistics -------------------------------------------------------------------------

    def summary(self):
        """Per metric and policy: n, mean, sd (over replicates), min, max (tidy DataFrame)."""
        import pandas as pd

        sec = self.sections()
        rows = []
        for metric in self.metrics():
            vals = self.values(metric)
            for label, v in zip(self.labels, vals, strict=True):
                v = v[np.isfinite(v)]
                rows.append(
                    {
                        "section": sec[metric],
                        "metric": metric,
                        "policy": label,
                        "n": int(v.size),
                        "mean": float(v.mean()) if v.size else float("nan"),
                        "sd": float(v.std(ddof=1)) if v.size > 1 else float("nan"),
                        "min": float(v.min()) if v.size else float("nan"),
                        "max": float(v.max()) if v.size else float("nan"),
                    }
                )
        return pd.DataFrame(rows)

    def differences(self):
        """Per metric and non-baseline policy, against the baseline: n, diff, sd_diff,
        ci_low, ci_high (95% paired t), p, p_holm (Holm across the policies of the metric),
        significant (p_holm < 0.05), corr (paired correlation)."""
        if self._diff is None:
            self._diff = self._compute_differences()
        return self._diff.copy()

    def _compute_differences(self):
        import pandas as pd

        sec = self.sections()
        others = self.labels[1:]
        rows = []
        for metric in self.metrics():
            vals = self.values(metric)
            block = []
            for i, label in enumerate(others, start=1):
                s = paired_stats(vals[0], vals[i])
                block.append(
                    {
                        "section": sec[metric],
                        "metric": metric,
                        "policy": label,
                        "baseline": self.baseline,
                        **s,
                    }
                )
            adj = holm([b["p"] for b in block])
            for b, ph in zip(block, adj, strict=True):
                b["p_holm"] = float(ph)
                b["significant"] = bool(ph < 0.05)
            rows.extend(block)
        cols = [
            "section",
            "metric",
            "policy",
            "baseline",
            "n",
            "diff",
            "sd_diff",
            "ci_low",
            "ci_high",
            "p",
            "p_holm",
            "significant",
            "corr",
        ]
        return pd.DataFrame(rows, columns=cols)

    def to_dataframe(self):
        """One tidy table: section, metric, policy, n, mean, sd, diff, ci_low, ci_high, p,
        p_holm, significant, corr (the baseline's rows have no difference: NaN, False)."""
        summ = self.summary()
        diff = self.differences().drop(columns=["section", "baseline", "n"])
        out = summ.merge(diff, on=["metric", "policy"], how="left")
        out["significant"] = out["significant"].fillna(False).astype(bool)
        return out[TIDY_COLUMNS]

    def _by_window(self):
        """:meth:`to_dataframe` for every window, with a ``window`` column first."""
        import pandas as pd

        frames = []
        for w in self.windows():
            df = self.at(w).to_dataframe()
            df.insert(0, "window", w)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    # --- text -------------------------------------------------------------------------------

    def header(self) -> str:
        e, c = self.experiment, self.config
        start = (
            f"from the checkpoint {e.checkpoint}"
            if e.checkpoint
            else f"after a shared warm-up of {e.warmup_days} days under {e.warmup_policy}"
        )
        window = "the whole horizon" if self.window == "horizon" else self.window
        return (
            f"experiment {e.name}: zone {c.zone.name} ({c.zone.population:,} inhabitants), "
            f"scenario {c.scenario.name}, {len(self.policies)} policies x {e.replicates} "
            f"replicates, {e.years:g} year(s) measured {start}, seed {e.seed}\n"
            f"window: {window}; intervals: {self.uncertainty}\n"
            f"each cell: mean over replicates; other policies also: difference from "
            f"{self.baseline} [95% paired interval], * Holm-adjusted p < 0.05"
        )

    def table(self, metrics: list[str] | None = None, width: int | None = None) -> str:
        """A readable text table: sections as headings, one line per metric, policies as
        columns (mean; for the others also ``diff [low, high]`` and ``*`` where significant
        after Holm). Columns wrap into blocks to fit ``width`` (default: the terminal)."""
        if width is None:
            width = shutil.get_terminal_size((160, 24)).columns
        summ = self.summary().set_index(["metric", "policy"])
        diff = self.differences().set_index(["metric", "policy"])
        sec = self.sections()
        chosen = self.metrics() if metrics is None else list(metrics)
        unknown = [m for m in chosen if m not in sec]
        if unknown:
            raise ZonesimInputError(
                f"unknown metric; expected one of: {', '.join(sec)}",
                source="<argument>",
                field="metrics",
                value=unknown[0],
            )
        cells: dict[tuple[str, str], str] = {}
        for m in chosen:
            means = [summ.loc[(m, p), "mean"] for p in self.labels]
            dm = _decimals_mean(means)
            for j, p in enumerate(self.labels):
                mean = _fmt(summ.loc[(m, p), "mean"], dm)
                if j == 0:
                    cells[(m, p)] = mean
                    continue
                d = diff.loc[(m, p)]
                dd = _decimals_diff(d["ci_low"], d["ci_high"], dm)
                if not math.isfinite(d["diff"]):
                    cells[(m, p)] = f"{mean}  n/a"
                    continue
                lo = _fmt(d["ci_low"], dd)
                hi = _fmt(d["ci_high"], dd)
                star = "*" if d["significant"] else " "
                cells[(m, p)] = f"{mean}  {_fmt(d['diff'], dd, sign=True)} [{lo}, {hi}]{star}"
        label_w = max([len(m) for m in chosen] + [10]) + 2
        colw = {p: max([len(p)] + [len(cells[(m, p)]) for m in chosen]) for p in self.labels}
        # blocks of columns that fit the width (at least one column per block)
        blocks: list[list[str]] = []
        cur: list[str] = []
        used = label_w
        for p in self.labels:
            if cur and used + 2 + colw[p] > width:
                blocks.append(cur)
                cur, used = [], label_w
            cur.append(p)
            used += 2 + colw[p]
        blocks.append(cur)
        lines = [self.header(), ""]
        for bi, block in enumerate(blocks):
            if len(blocks) > 1:
                lines.append(f"[policies {bi + 1}/{len(blocks)}]")
            head = " " * label_w + "  ".join(f"{p:>{colw[p]}}" for p in block)
            lines.append(head.rstrip())
            current = None
            for m in chosen:
                if sec[m] != current:
                    current = sec[m]
                    lines.append(current.replace("_", " "))
                row = f"  {m:<{label_w - 2}}" + "  ".join(
                    f"{cells[(m, p)]:>{colw[p]}}" for p in block
                )
                lines.append(row.rstrip())
            lines.append("")
        from .metrics import END_OF_WINDOW

        ends = [m for m in chosen if m in END_OF_WINDOW]
        if ends:
            lines.append(f"values at the end of the window (not window means): {', '.join(ends)}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict: the experiment, the policies, and the tidy table (NaN -> null)."""
        df = self.to_dataframe()
        records = []
        for rec in df.to_dict(orient="records"):
            records.append({k: _json_value(v) for k, v in rec.items()})
        ranking = [
            {k: _json_value(v) for k, v in rec.items()}
            for rec in self.ranking().to_dict(orient="records")
        ]
        return {
            "experiment": self.experiment.to_dict(),
            "window": self.window,
            "windows": self.windows(),
            "uncertainty": self.uncertainty,
            "ranking": ranking,
            "baseline": self.baseline,
            "policies": self.labels,
            "seeds": self.seeds,
            "zone": self.config.zone.name,
            "population": self.config.zone.population,
            "scenario": self.config.scenario.name,
            "results": records,
            **self._economics_json(),
        }

    def _economics_json(self) -> dict[str, Any]:
        """The cost-effectiveness table and the budget impact, JSON-able (none for a single
        policy)."""
        if len(self.labels) < 2:
            return {}
        ce = self.cost_effectiveness()

        def records(df) -> list[dict[str, Any]]:
            return [
                {k: _json_value(v) for k, v in rec.items()} for rec in df.to_dict(orient="records")
            ]

        return {
            "cost_effectiveness": {
                "conventions": ce.conventions(),
                "table": records(ce.table),
                "budget_impact": records(ce.budget),
            }
        }

    # --- figures and files ------------------------------------------------------------------

    def plot(self, kind: str = "all") -> dict[str, Any]:
        """Figures (matplotlib): ``scorecard`` (headline metrics per aim), ``forest`` (paired
        differences with 95% intervals), ``timeseries`` (monthly means); ``kind`` picks one or
        ``"all"``. Returns ``{name: matplotlib.figure.Figure}``."""
        from . import plots

        makers = {
            "scorecard": plots.scorecard_figure,
            "forest": plots.forest_figure,
            "timeseries": plots.timeseries_figure,
        }
        if kind == "all":
            return {name: make(self) for name, make in makers.items()}
        if kind not in makers:
            raise ZonesimInputError(
                f"expected one of all, {', '.join(makers)}",
                source="<argument>",
                field="kind",
                value=kind,
            )
        return {kind: makers[kind](self)}

    def save(self, folder: str | Path, *, figures: bool = True) -> Path:
        """Write tables (CSV and Parquet), figures (PNG), ``config.toml`` (the resolved
        configuration), ``policies/<name>.toml``, ``experiment.toml``, ``table.txt`` and
        ``provenance.json`` into ``folder``, atomically: everything is written into a temporary
        sibling folder first, then renamed into place (an existing folder is replaced only once
        the new one is complete). On any error or Ctrl-C the target is as it was."""
        folder = Path(folder)
        return _atomic_folder(folder, lambda tmp: self._write(tmp, figures=figures))

    def _write(self, out: Path, *, figures: bool) -> None:
        from .config import to_dict

        tables = {
            "comparison": self.to_dataframe(),
            "runs": self.runs,
            "summary": self.summary(),
            "differences": self.differences(),
            "timeseries": self.timeseries,
        }
        if self.years is not None and not self.years.empty:
            tables["by_year"] = self.by_year()
            tables["ranking"] = self.ranking()
            tables["comparison_by_window"] = self._by_window()
        if self.draws is not None:
            tables["draws"] = self.draws
        for name, df in tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
            df.to_parquet(out / f"{name}.parquet", index=False)
        text = self.table(width=10_000)
        if self.n_years:
            text += "\n" + self.windows_table() + "\n\n" + self.ranking_text()
        if len(self.labels) > 1:
            # The health-economic layer: cost-effectiveness table, plane, acceptability curve
            # and the payer's budget impact per year (economics.write_outputs' files), and the
            # same table and budget impact at the end of the report.
            from . import economics

            ce = self.cost_effectiveness()
            economics.write_outputs(ce, out, figures=figures)
            text += "\n\nHealth economics\n\n" + ce.to_markdown()
        (out / "table.txt").write_text(text + "\n", encoding="utf-8")
        (out / "config.toml").write_text(
            "# The resolved configuration of this experiment (load with zonesim.load_config).\n"
            + toml_dumps(_saved_inputs(self.config, out)),
            encoding="utf-8",
        )
        pol_dir = out / "policies"
        pol_dir.mkdir()
        for label, pol in self.policies.items():
            (pol_dir / f"{_safe_name(label)}.toml").write_text(
                "# A resolved policy of this experiment (load with zonesim.load_policy).\n"
                + toml_dumps(to_dict(pol)),
                encoding="utf-8",
            )
        (out / "experiment.toml").write_text(
            "# The experiment as run (load with zonesim.experiment.load_experiment).\n"
            + toml_dumps(self.experiment.to_dict()),
            encoding="utf-8",
        )
        (out / "provenance.json").write_text(
            json.dumps(self.provenance(), indent=2) + "\n", encoding="utf-8"
        )
        if figures:
            import matplotlib.pyplot as plt

            for name, fig in self.plot("all").items():
                fig.savefig(out / f"{name}.png", dpi=110)
                plt.close(fig)
            n = self.n_years
            for k in dict.fromkeys(k for k in (1, 5, n) if 1 <= k <= n):
                for name, fig in self.at(k).plot("forest").items():
                    fig.savefig(out / f"{name}_year_{k}.png", dpi=110)
                    plt.close(fig)

    def provenance(self) -> dict[str, Any]:
        """Package and library versions, git commit, experiment, seeds, timing."""
        import platform
        from datetime import UTC, datetime
        from importlib.metadata import PackageNotFoundError, version

        from . import __version__

        libs = {}
        for lib in ("numpy", "numba", "pandas", "scipy", "mesa", "pyarrow", "matplotlib"):
            try:
                libs[lib] = version(lib)
            except PackageNotFoundError:  # pragma: no cover
                libs[lib] = None
        return {
            "zonesim_version": __version__,
            "git": _git_info(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "wall_seconds": None if not math.isfinite(self.wall_s) else round(self.wall_s, 2),
            "workers": self.workers,
            "experiment": self.experiment.to_dict(),
            "experiment_source": self.experiment.source,
            "config_source": getattr(self.config, "source", None),
            "inputs": _input_files(self.config),
            "baseline": self.baseline,
            "policies": self.labels,
            "replicate_seeds": self.seeds,
            "seed_rule": "numpy.random.SeedSequence([seed, replicate]).generate_state(1, "
            "uint64)[0] >> 1, the same for every policy",
            "python": platform.python_version(),
            "platform": platform.platform(),
            "libraries": libs,
            "warnings": self.warnings,
            "command": sys.argv if sys.argv and sys.argv[0] else None,
        }


def _saved_inputs(config: Any, out: Path) -> dict[str, Any]:
    """The configuration as saved: a municipality table is copied next to it (``config.toml``
    names the copy, relative to itself), so the folder reloads to the same zone anywhere."""
    from .config import to_dict
    from .geography import municipalities_csv_path

    data = to_dict(config)
    csv = municipalities_csv_path(config)
    if csv is not None:
        shutil.copyfile(csv, out / SAVED_CSV)
        data["zone"]["municipalities_csv"] = SAVED_CSV
    return data


def _input_files(config: Any) -> dict[str, Any]:
    """Provenance of input files: the municipality table's path and SHA-256."""
    import hashlib

    from .geography import municipalities_csv_path

    csv = municipalities_csv_path(config)
    if csv is None:
        return {}
    try:
        digest = hashlib.sha256(csv.read_bytes()).hexdigest()
    except OSError:  # pragma: no cover - read moments ago by the runs
        digest = None
    return {"municipalities_csv": {"path": str(csv), "sha256": digest, "saved_as": SAVED_CSV}}


# The copy of a CSV zone's municipality table in a saved results folder.
SAVED_CSV = "municipalities.csv"


def _safe_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", label) or "policy"


def _atomic_folder(folder: Path, write, keep: tuple[str, ...] = ("study",)) -> Path:
    """Create ``folder`` with ``write(tmp)`` into a temporary sibling, then rename it over.

    Subfolders named in ``keep`` (the run store of a comparison, ``study/``) move from the old
    folder into the new one just before the swap (and back if the swap fails), so that the runs
    a later comparison resumes from survive a rewrite of the report."""
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=parent))
    old: Path | None = None
    moved: list[str] = []
    try:
        write(tmp)
        for name in keep:
            if (folder / name).is_dir() and not (tmp / name).exists():
                os.rename(folder / name, tmp / name)
                moved.append(name)
        if folder.exists() or folder.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=parent))
            old.rmdir()
            os.rename(folder, old)
        try:
            os.rename(tmp, folder)
        except BaseException:
            if old is not None:
                os.rename(old, folder)
                old = None
            raise
    except BaseException:
        for name in moved:  # the runs go back where they were
            with contextlib.suppress(OSError):
                os.rename(tmp / name, folder / name)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    return folder


# ---------------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------------


def _json_value(v: Any) -> Any:
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


def _decimals_mean(values) -> int:
    """Decimals that show about 4 significant digits of the largest mean."""
    finite = [abs(float(v)) for v in values if math.isfinite(float(v)) and v != 0]
    if not finite:
        return 0
    mag = math.floor(math.log10(max(finite)))
    return min(6, max(0, 3 - mag))


def _decimals_diff(lo: float, hi: float, dm: int) -> int:
    """Decimals for a difference: 2 significant digits of the interval's half-width, and at
    least those of the mean."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return dm
    half = (hi - lo) / 2
    return min(6, max(dm, 1 - math.floor(math.log10(half))))


def _fmt(v: float, decimals: int, sign: bool = False) -> str:
    v = float(v)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    s = f"{v:+,.{decimals}f}" if sign else f"{v:,.{decimals}f}"
    if s.lstrip("+-").strip("0.,") == "":  # no "-0.00"
        s = ("+" if sign else "") + s.lstrip("+-")
    return s


def _ordering(values: np.ndarray, better: str) -> list[int]:
    """Policy indices, best first, by their mean over replicates (``values``: policies x
    replicates); ties keep the policies' order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(values, axis=1)
    if better == "higher":
        key = -means
    elif better == "closer to 0":
        key = np.abs(means)
    else:
        key = means
    key = np.where(np.isfinite(key), key, np.inf)
    return [int(i) for i in np.argsort(key, kind="stable")]


def _kendall(order: list[int], ref: list[int]) -> float:
    """Kendall's tau between two orderings of the same items (1: identical, -1: reversed)."""
    n = len(order)
    if n < 2:
        return 1.0
    pos = {item: i for i, item in enumerate(ref)}
    ranks = [pos[item] for item in order]
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += 1 if ranks[i] < ranks[j] else -1
    return s / (n * (n - 1) / 2)
