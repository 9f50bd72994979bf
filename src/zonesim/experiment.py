"""Experiments: one scenario x several policies x N replicates under common random numbers.

An :class:`Experiment` says what to compare (scenario, zone configuration, policies, the baseline
policy, replicates, horizon, warm-up, seed); :func:`compare` runs every (policy, replicate) pair
and returns a :class:`ComparisonResult`: the mean of every scorecard metric per policy, and the
paired difference of every policy against the baseline with a 95% interval.

Common random numbers: replicate ``r`` runs with the same seed (:func:`replicate_seed`) under every
policy. The engine's draws are counter-based hashes of (seed, entity, day, purpose), so the same
patient meets the same exogenous events under every policy, and the difference between two paired
runs is mostly the policy's effect, not noise. The achieved correlation between paired runs is
reported per metric (``corr``).

Statistics, per metric and non-baseline policy, over the replicates where both runs have a finite
value: ``diff`` = mean of (policy - baseline); the 95% interval is the paired t interval
(``scipy.stats.t``, n - 1 degrees of freedom); ``p`` its two-sided p-value; ``p_holm`` the
Holm-adjusted p-value across the policies of that metric, and ``significant`` = ``p_holm < 0.05``.
The interval itself is per comparison (not adjusted). A metric whose paired differences are all
equal (e.g. bit-identical under a policy that cannot touch it) gets a zero-width interval and
p = 1 (difference 0) or p = NaN (zero variance: no test, never starred).

Runs go through :class:`concurrent.futures.ProcessPoolExecutor` (sequential with one worker);
:func:`run_replicate` is the unit of work, a pure, picklable module-level function that the sweep
engine reuses.
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
import tomllib
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import validation as V
from .calibration import WARMUP_DAYS
from .config import ZONE_POPULATION_MAX
from .core.state import DAYS_PER_YEAR
from .errors import ZonesimInputError

__all__ = [
    "DEFAULT_REPLICATES",
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


# The main job (``zonesim compare`` without arguments): the replicates that give intervals worth
# reading within 2 minutes on a 2-core machine (measured; see experiments/README.md).
DEFAULT_REPLICATES = 8

SEED_LIMIT = 2**63
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _default_policies() -> tuple[str, ...]:
    from .policies import preset_names

    return tuple(preset_names())


# ---------------------------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------------------------


def replicate_seed(seed: int, replicate: int) -> int:
    """The run seed of replicate ``replicate`` of an experiment seeded ``seed``.

    The same for every policy (common random numbers); independent streams for different
    replicates (:class:`numpy.random.SeedSequence` of ``[seed, replicate]``), in ``[0, 2**63)``.
    """
    state = np.random.SeedSequence([int(seed), int(replicate)]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


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
    years: measured horizon in years (after the warm-up).
    warmup_days: days simulated before measurement starts (queues, episodes, strain settle).
    seed: the experiment seed; replicate seeds derive from it (:func:`replicate_seed`).
    population: inhabitants (overrides ``zone.population``; None: the configuration's).
    overrides: ``key.path=value`` strings; ``policy.<lever>=value`` sets a lever of every policy,
        the others configuration values.
    workers: processes to run in parallel (None: all cores, at most one per run).

    Paths in a TOML file are relative to that file (:func:`load_experiment` resolves them).
    """

    name: str = "default"
    scenario: str = "baseline"
    config: str | None = None
    policies: tuple[str, ...] = field(default_factory=_default_policies)
    baseline: str = "status_quo"
    replicates: int = DEFAULT_REPLICATES
    years: float = 1.0
    warmup_days: int = WARMUP_DAYS
    seed: int = 2020
    population: int | None = None
    overrides: tuple[str, ...] = ()
    workers: int | None = None
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
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    def replace(self, **changes: Any) -> Experiment:
        """A validated copy with ``changes`` (the same checks as a TOML file)."""
        return _from_mapping(changes, source="<argument>", base=self)

    def seeds(self) -> list[int]:
        """The run seed of each replicate (the same under every policy)."""
        return [replicate_seed(self.seed, r) for r in range(self.replicates)]

    def resolve(self) -> Plan:
        """Load and check everything a run needs (configuration, policies, budgets) up front.

        Raises :class:`~zonesim.errors.ZonesimInputError` for any bad input, before anything
        is simulated or written.
        """
        return _resolve(self)


def _check_type(value: Any, kind: str, where: dict) -> Any:
    """``kind``: str, int, float, bool; raises naming the source, key and value."""
    if kind == "str":
        return V.check_str(value, **V.at(where))
    if kind == "int":
        return V.check_int(value, integral_float=True, **V.at(where))
    if kind == "float":
        return V.check_number(value, **V.at(where))
    raise TypeError(kind)  # pragma: no cover - a bug here, not input


def _str_list(value: Any, where: dict) -> tuple[str, ...]:
    if isinstance(value, str):  # the CLI's "a,b,c"
        value = [v.strip() for v in value.split(",")]
    if isinstance(value, np.ndarray):
        value = V.plain(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ZonesimInputError("expected a list of strings", **where)
    return tuple(value)


def _validate_field(name: str, value: Any, where: dict) -> Any:
    """Check one experiment field; return the normalised value."""
    if name == "name":
        value = _check_type(value, "str", where)
        if not _NAME_RE.match(value) or value in (".", ".."):
            raise ZonesimInputError(
                "expected a name of letters, digits, '-', '_' or '.' (it names the output folder)",
                **where,
            )
        return value
    if name in ("scenario", "baseline"):
        value = _check_type(value, "str", where)
        if not value.strip():
            raise ZonesimInputError("expected a non-empty string", **where)
        return value
    if name == "config":
        if value is None:
            return None
        value = _check_type(value, "str", where)
        return value or None
    if name == "policies":
        value = _str_list(value, where)
        if not value or any(not v for v in value):
            raise ZonesimInputError("expected a non-empty list of policy names or files", **where)
        if len(set(value)) != len(value):
            raise ZonesimInputError("expected each policy once", **where)
        return value
    if name == "replicates":
        value = _check_type(value, "int", where)
        if not 2 <= value <= 100_000:
            raise ZonesimInputError(
                "expected an integer from 2 to 100000 (a paired interval needs two replicates)",
                **where,
            )
        return value
    if name == "years":
        value = _check_type(value, "float", where)
        if not 1 / DAYS_PER_YEAR <= value <= 100:
            raise ZonesimInputError("expected a number of years from 1/365 (a day) to 100", **where)
        return value
    if name == "warmup_days":
        value = _check_type(value, "int", where)
        if not 0 <= value <= 36_500:
            raise ZonesimInputError("expected a number of days from 0 to 36500", **where)
        return value
    if name == "seed":
        value = _check_type(value, "int", where)
        if not 0 <= value < SEED_LIMIT:
            raise ZonesimInputError("expected an integer seed in [0, 2**63)", **where)
        return value
    if name == "population":
        if value is None:
            return None
        value = _check_type(value, "int", where)
        if not 1 <= value <= ZONE_POPULATION_MAX:  # the configuration's own limit
            raise ZonesimInputError(
                f"expected inhabitants from 1 to {ZONE_POPULATION_MAX}", **where
            )
        return value
    if name == "overrides":
        from .config import parse_override

        if isinstance(value, str):
            value = [value]
        value = _str_list(value, where)
        for text in value:
            parse_override(text)  # raises on a malformed key=value
        return value
    if name == "workers":
        if value is None:
            return None
        value = _check_type(value, "int", where)
        if value < 1:
            raise ZonesimInputError("expected at least 1 worker", **where)
        return value
    raise AssertionError(name)  # pragma: no cover


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
        changes[key] = _validate_field(key, value, {"source": source, "field": key, "value": value})
    if base_dir is not None:
        for key in ("config", "scenario", "baseline"):
            if changes.get(key):
                changes[key] = _relative_to(changes[key], base_dir, key != "config")
        if "policies" in changes:
            changes["policies"] = tuple(
                _relative_to(p, base_dir, True) for p in changes["policies"]
            )
    if base_dir is not None:  # read from a file: remember which
        changes["source"] = source
    exp = dataclasses.replace(base, **changes)
    _check_cross(exp, source)
    return exp


def _relative_to(value: str, base_dir: Path, may_be_name: bool) -> str:
    """A path in a file is relative to that file; a bare name (a built-in) stays a name."""
    p = Path(value)
    looks_like_path = p.suffix == ".toml" or "/" in value or os.sep in value
    if may_be_name and not looks_like_path:
        return value
    return str(p if p.is_absolute() else base_dir / p)


def _check_cross(exp: Experiment, source: str) -> None:
    if exp.baseline not in exp.policies:
        raise ZonesimInputError(
            f"expected the baseline to be one of the policies ({', '.join(exp.policies)})",
            source=source,
            field="baseline",
            value=exp.baseline,
        )


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment TOML (top-level keys as in :class:`Experiment`; see
    ``experiments/default.toml``). Unknown keys and bad values raise
    :class:`~zonesim.errors.ZonesimInputError` naming the file, the key and the value."""
    from .config import _read_toml

    path = Path(path)
    data = _read_toml(path)
    return _from_mapping(data, source=str(path), base_dir=path.resolve().parent)


# ---------------------------------------------------------------------------------------------
# Resolution: everything checked before anything runs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A resolved experiment: the configuration and the policies the runs use."""

    experiment: Experiment
    config: Any  # zonesim.config.Config
    policies: dict[str, Any]  # label -> zonesim.config.PolicyConfig
    seeds: tuple[int, ...]
    workers: int

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
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _named_by(exp: Experiment, key: str):
    """An unknown name (a scenario, a policy) read from an experiment file names that file and
    its key, not ``<argument>``."""
    try:
        yield
    except ZonesimInputError as exc:
        if exc.source != "<argument>" or str(exp.source).startswith("<"):
            raise
        raise ZonesimInputError(
            exc.expected, source=exp.source, field=key, value=exc.value
        ) from None


def _resolve(exp: Experiment) -> Plan:
    from .config import PolicyConfig, apply_overrides, load_config, load_policy, parse_override
    from .geography import settle_zone_population
    from .policies import apply_budget, preset_names

    config_ov: list[str] = []
    policy_ov: list[str] = []
    for text in exp.overrides:
        key, _ = parse_override(text)
        (policy_ov if key.startswith("policy.") else config_ov).append(text)
    with _named_by(exp, "scenario"):
        config = load_config(exp.config, config_ov, scenario=exp.scenario)
    if exp.population is not None:
        try:
            config = apply_overrides(config, {"zone.population": exp.population})
        except ZonesimInputError as exc:  # name the experiment's key, not an override
            raise ZonesimInputError(
                exc.expected, source=exp.source, field="population", value=exp.population
            ) from None
    with _named_by(exp, "config"):  # a CSV zone: its true population (header, budgets, files)
        config = settle_zone_population(config, requested=exp.population)
    presets = set(preset_names())
    policies: dict[str, PolicyConfig] = {}
    baseline_label = None
    for entry in exp.policies:
        with _named_by(exp, "policies"):
            pol = load_policy(entry, policy_ov)
        label = entry if entry in presets else pol.name
        if label in policies:
            raise ZonesimInputError(
                f"expected policies with different names ('{label}' appears twice)",
                source=exp.source,
                field="policies",
                value=list(exp.policies),
            )
        pol = apply_budget(pol, config, config.zone.population)
        policies[label] = pol
        if entry == exp.baseline:
            baseline_label = label
    assert baseline_label is not None  # _check_cross
    # baseline first (labelled by preset name or the name in its file), then the others
    ordered = {baseline_label: policies[baseline_label]}
    ordered.update((k, v) for k, v in policies.items() if k != baseline_label)
    seeds = tuple(exp.seeds())
    n_runs = len(ordered) * len(seeds)
    workers = min(exp.workers or available_cores(), n_runs)
    workers = _workers_that_fit(exp, config, max(1, workers))
    return Plan(exp, config, ordered, seeds, max(1, workers))


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
# One run
# ---------------------------------------------------------------------------------------------


def run_replicate(
    config: Any,
    policy: Any,
    seed: int,
    years: float = 1.0,
    warmup_days: int = WARMUP_DAYS,
    population: int | None = None,
) -> tuple[dict[str, float], Any]:
    """Simulate one zone under one policy: warm up, then measure.

    ``config``: a :class:`~zonesim.config.Config` (scenario applied), a TOML path or None;
    ``policy``: a :class:`~zonesim.config.PolicyConfig` or a preset name; ``seed``: the run seed;
    ``years``: measured years after ``warmup_days`` days of warm-up; ``population`` overrides
    ``zone.population``.

    Returns ``(scorecard, timeseries)``: the flat scorecard (``{metric: value}``, see
    :func:`zonesim.metrics.flatten`) of the measured window, and its monthly time series (a
    DataFrame, one row per month of the measured window: ``day``, ``month`` and the flow metrics,
    see :func:`zonesim.metrics.timeseries`). A pure function of its arguments (the same arguments
    give the same numbers in any process), picklable, for process pools.
    """
    from .metrics import flatten
    from .model import ZoneModel, month_end_day

    total_days = round(years * DAYS_PER_YEAR)
    if total_days < 1:
        raise ZonesimInputError(
            "expected at least one simulated day", source="<argument>", field="years", value=years
        )
    model = ZoneModel(
        config,
        policy=policy,
        population=population,
        rng=seed,
        years=years,
        warmup_days=warmup_days,  # the model warms up; its time 0 is the end of the warm-up
        agents=False,  # the scorecard reads the arrays; no Mesa agents needed
    )
    # Month ends of the measured window, the last one at the horizon even mid-month.
    ends = []
    m = 1
    while month_end_day(m) < total_days:
        ends.append(month_end_day(m))
        m += 1
    ends.append(total_days)
    snaps = []
    for end in ends:
        model.run_until(float(end))
        snaps.append((int(model.state.day[0]), model.state.acc.copy()))
    card = flatten(model.scorecard())
    model.snapshots = snaps
    ts = model.timeseries()
    return card, ts


def _run_task(task: tuple) -> tuple:
    """Worker side of :func:`compare`: one run, its warnings recorded (not printed) under the
    filters the worker has (inherited from the caller where processes fork)."""
    key, config, policy, seed, years, warmup_days = task
    with warnings.catch_warnings(record=True) as caught:
        card, ts = run_replicate(config, policy, seed, years, warmup_days)
    seen = []
    for w in caught:
        item = (str(w.message), w.category)
        if item not in seen:
            seen.append(item)
    return key, card, ts, seen


def _summarise_warnings(per_run: list[tuple], n_runs: int) -> list[tuple[str, type]]:
    """One warning per kind over all runs (numbers in a message do not make a new kind): the
    message of the run with the largest count, named by its policy and replicate, and in how
    many runs it came up. ``per_run``: ``((policy, replicate), [(message, category), ...])``."""
    kinds: dict[tuple[str, type], list] = {}
    for (label, replicate), ws in per_run:
        for message, category in ws:
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


def _worker_init() -> None:
    """Workers ignore Ctrl-C and SIGTERM (both sent to the whole process group by a terminal,
    ``kill -- -PGID`` or SLURM): the parent handles them and stops the workers itself."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _execute(tasks: list[tuple], workers: int, progress: bool) -> list[tuple]:
    """Run ``tasks`` through :func:`_run_task`, in processes when ``workers > 1``."""
    from tqdm import tqdm

    results: list[tuple] = []
    if workers <= 1:
        with tqdm(
            total=len(tasks),
            unit="run",
            desc="runs",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        ) as bar:
            for task in tasks:
                results.append(_run_task(task))
                bar.update(1)
        return results

    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    method = _start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":  # the server imports the engine once; workers fork from it
        ctx.set_forkserver_preload(["zonesim.experiment", "zonesim.model", "zonesim.core.day"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init)
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns when forking a process that has threads (BLAS workers after a
            # matrix product, a notebook kernel's); the children only run zonesim's kernels.
            warnings.filterwarnings(
                "ignore",
                message=r".*use of fork\(\) may lead to deadlocks",
                category=DeprecationWarning,
            )
            # all processes start here, before the pool's own threads and the progress bar's
            pending = {pool.submit(_run_task, t) for t in tasks}
        with tqdm(
            total=len(tasks),
            unit="run",
            desc="runs",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        ) as bar:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    results.append(fut.result())
                    bar.update(1)
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)
    return results


def _start_method() -> str:
    """How worker processes start: ``ZONESIM_MP_START`` (fork, forkserver, spawn), else fork
    where the platform has it (Linux), spawn elsewhere.

    fork is the fastest (measured: forkserver about 0.3 s, spawn about 2 s slower per experiment
    on 2 cores) and, unlike forkserver and spawn, does not re-import the caller's ``__main__``,
    so a plain script calling :func:`compare` without an ``if __name__ == "__main__":`` guard
    works. The workers only run zonesim's single-threaded kernels; where the platform has no
    fork (macOS, Windows use spawn), scripts need that guard, as with any process pool.
    """
    import multiprocessing

    wanted = os.environ.get("ZONESIM_MP_START")
    methods = multiprocessing.get_all_start_methods()
    if wanted:
        if wanted not in methods:
            raise ZonesimInputError(
                f"expected one of {', '.join(methods)}",
                source="<environment>",
                field="ZONESIM_MP_START",
                value=wanted,
            )
        return wanted
    return "fork" if "fork" in methods else "spawn"


def _stop_pool(pool) -> None:
    """Cancel what has not started and end the worker processes now (Ctrl-C, an error)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.kill()  # SIGKILL: the workers ignore SIGTERM (see _worker_init); they hold nothing
    for p in procs:
        p.join(timeout=5)


def compare(
    experiment: Experiment | str | Path | None = None, *, progress: bool = False, **changes: Any
) -> ComparisonResult:
    """Run an experiment: every policy x every replicate, under common random numbers.

    ``experiment``: an :class:`Experiment`, an experiment TOML path, or None for the main job
    (the built-in defaults). ``changes`` replace its fields (``replicates=4``,
    ``population=20_000``, ``policies=["status_quo", "integrated"]``...), validated like a file.
    ``progress`` shows a progress bar (runs done / total) on stderr.

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
    return run_plan(plan, progress=progress)


def run_plan(plan: Plan, *, progress: bool = False) -> ComparisonResult:
    """Run a resolved :class:`Plan` (see :func:`compare`)."""
    import pandas as pd

    exp = plan.experiment
    labels = plan.labels
    tasks = []
    for r, seed in enumerate(plan.seeds):
        for label in labels:
            tasks.append(
                ((label, r), plan.config, plan.policies[label], seed, exp.years, exp.warmup_days)
            )
    started = time.time()
    t0 = time.perf_counter()
    results = _execute(tasks, plan.workers, progress)
    wall = time.perf_counter() - t0

    by_key = {key: (card, ts) for key, card, ts, _ in results}
    messages = _summarise_warnings([(key, ws) for key, *_, ws in results], len(tasks))
    for message, category in messages:
        warnings.warn(message, category, stacklevel=3)

    rows, frames = [], []
    for label in labels:
        for r, seed in enumerate(plan.seeds):
            card, ts = by_key[(label, r)]
            rows.append({"policy": label, "replicate": r, "seed": seed, **card})
            ts = ts.copy()
            ts.insert(0, "policy", label)
            ts.insert(1, "replicate", r)
            ts.insert(2, "seed", seed)
            frames.append(ts)
    runs = pd.DataFrame(rows)
    series = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return ComparisonResult(
        experiment=exp,
        config=plan.config,
        policies=dict(plan.policies),
        runs=runs,
        timeseries=series,
        wall_s=wall,
        started=started,
        workers=plan.workers,
        warnings=[m for m, _ in messages],
    )


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
    (the baseline first); runs: one row per run (policy, replicate, seed, every metric);
    timeseries: one row per run and month (policy, replicate, seed, day, month, flow metrics);
    wall_s: seconds the runs took; workers: processes used; warnings: what the runs warned.
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
    ) -> None:
        self.experiment = experiment
        self.config = config
        self.policies = policies
        self.runs = runs
        self.timeseries = timeseries
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
        return [c for c in self.runs.columns if c not in ("policy", "replicate", "seed")]

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

    # --- text -------------------------------------------------------------------------------

    def header(self) -> str:
        e, c = self.experiment, self.config
        return (
            f"experiment {e.name}: zone {c.zone.name} ({c.zone.population:,} inhabitants), "
            f"scenario {c.scenario.name}, {len(self.policies)} policies x {e.replicates} "
            f"replicates, {e.years:g} year(s) measured after {e.warmup_days} days of warm-up, "
            f"seed {e.seed}\n"
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
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict: the experiment, the policies, and the tidy table (NaN -> null)."""
        df = self.to_dataframe()
        records = []
        for rec in df.to_dict(orient="records"):
            records.append({k: _json_value(v) for k, v in rec.items()})
        return {
            "experiment": self.experiment.to_dict(),
            "baseline": self.baseline,
            "policies": self.labels,
            "seeds": self.seeds,
            "zone": self.config.zone.name,
            "population": self.config.zone.population,
            "scenario": self.config.scenario.name,
            "results": records,
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
        for name, df in tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
            df.to_parquet(out / f"{name}.parquet", index=False)
        (out / "table.txt").write_text(self.table(width=10_000) + "\n", encoding="utf-8")
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
            for name, fig in self.plot("all").items():
                fig.savefig(out / f"{name}.png", dpi=110)

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


def _git_info() -> dict[str, Any] | None:
    """The commit of the source tree zonesim is imported from (None outside a git checkout)."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)} if commit else None


def _atomic_folder(folder: Path, write) -> Path:
    """Create ``folder`` with ``write(tmp)`` into a temporary sibling, then rename it over."""
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=parent))
    old: Path | None = None
    try:
        write(tmp)
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


def toml_dumps(data: dict[str, Any]) -> str:
    """A small TOML writer for nested dicts of str, bool, int, float and lists of them (what
    :func:`zonesim.config.to_dict` gives). Tables come after the plain keys of their level."""
    lines: list[str] = []
    _toml_table(data, [], lines)
    text = "\n".join(lines).strip("\n") + "\n"
    tomllib.loads(text)  # what we write must read back
    return text


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _toml_table(data: dict[str, Any], path: list[str], lines: list[str]) -> None:
    plain = {k: v for k, v in data.items() if not isinstance(v, dict) and v is not None}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if path and (plain or not tables):
        lines.append("")
        lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
    for k, v in plain.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in tables.items():
        _toml_table(v, [*path, k], lines)
