"""The run pipeline: a study resolved, executed anywhere, stored run by run (compare and sweeps).

A *study* (a TOML file in ``experiments/``, see ``experiments/sobol_small.toml`` and
docs/sweeps.md) names a scenario, a zone configuration, policies, replicates, a horizon, and a
*design* over parameters: a grid, a Latin hypercube, or a Sobol or Morris design through SALib
(:mod:`zonesim.sensitivity`). A design parameter is a dotted configuration path
(``parameters.switching.cm_work_hours_per_day``, ``zone.population``, an element of a per-need
tuple as ``parameters.care.gp_contacts_per_year[2]``) or a policy lever
(``policy.case_manager_fte_per_100k``, set in every policy of the study). Every key, bound and
point is checked against the configuration schema before anything runs or is written.

:func:`sweep` runs every (design point x policy x replicate) through a
:class:`concurrent.futures.Executor` (:mod:`zonesim.executors`: in this process, a local Dask
cluster, Dask on SLURM, a running Dask scheduler, or any Executor you pass). Replicate ``r`` has
the same seed under every policy and at every design point (common random numbers;
:func:`zonesim.runs.fields.replicate_seed`). Each replicate (and design point) warms up once,
under the study's warm-up policy, into a checkpoint (``warmups/<name>.npz``); every policy is
branched from it (:mod:`zonesim.runs.simulate`). With ``psa``, replicate ``r`` also draws the
uncertain parameters once (:mod:`zonesim.runs.psa`), for all its policies and its warm-up.

Storage, in the study's folder (``results/sweeps/<name>/`` unless told otherwise)::

    study.toml          the study file as given (for people; the design is in design.parquet)
    study.lock          held (flock) while a driver runs; JSON provenance of the last driver
    design.parquet      the manifest: point, policy, replicate, seed, run, one column per parameter
    warmups/<warm>.npz  one checkpoint per replicate (and design point): the shared warm-up
    runs/<run>.parquet  one file per finished run, written by the worker that ran it
    failed/<run>.json   the errors of a run that failed (until it succeeds)
    attempts/<run>.jsonl  one line per execution event of the run: start, commit, error, skip
    results.parquet     the compacted runs (:func:`compact`)

``<run>`` is a hash of everything that determines the result: the resolved configuration and
policy (design values applied), the policy label, the replicate, its seed, the horizon and
warm-up, whether the time series is kept, and :data:`RESULTS_SCHEMA_VERSION`. A worker writes
its result to a temporary file and then links it into place, so a run's file either exists
complete or not at all; it returns only a small summary to the driver. Rerunning a study skips
every run whose file exists (resume); a run that raises is recorded with its error and retried up
to ``retries`` times, and never stops the others.

*Exactly once*: a run is *completed* when its file is committed (the atomic link). No run is ever
committed twice (the link refuses an existing file), and no run is started again once committed
(the driver skips it, the worker checks again before starting). An execution that was cut off (a
killed worker or driver) never committed anything; its run is simply executed again.
``attempts/`` records every start and commit, so this can be checked after the fact.

Results: :func:`load_results` gives one tidy DataFrame (point, policy, replicate, seed, the
design parameters, the metrics); :func:`compact` merges the per-run files into one;
:func:`analyse` computes Sobol indices or Morris measures through SALib.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import re
import socket
import sys
import time
import traceback
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..days import DAYS_PER_YEAR
from ..errors import ZonesimInputError
from .study import (
    _META_KEY,
    ATTEMPTS,
    COMPACT_FILE,
    DEFAULT_ANALYSIS_METRICS,
    DESIGN_FILE,
    FAILED,
    FIXED_COLUMNS,
    LOCK_FILE,
    RESULTS_SCHEMA_VERSION,
    RUNS,
    STUDY_FILE,
    WARMUPS,
    Study,
    _as_study,
    _err,
    _int,
    load_study,
)

__all__ = [
    "RunTask",
    "StudyPlan",
    "SweepReport",
    "SweepStatus",
    "WarmTask",
    "analyse",
    "compact",
    "execute_run",
    "load_results",
    "load_study",
    "read_attempts",
    "resolve_study",
    "run_study",
    "status",
    "sweep",
]

# ---------------------------------------------------------------------------------------------
# Resolution: every run, checked, before anything runs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTask:
    """One run, as sent to a worker (picklable; everything the run needs)."""

    run: str
    folder: str
    config: Any
    policy: Any
    label: str
    replicate: int
    seed: int
    years: float
    warmup_days: int
    timeseries: bool
    values: tuple[tuple[str, Any], ...]
    config_hash: str
    provenance: Mapping[str, Any]
    attempt: int = 1
    warm: str = ""  # the replicate's warm-up checkpoint (warmups/<warm>.npz); "" for none
    warm_task: WarmTask | None = None  # how to make it when it is missing
    checkpoint: str | None = None  # a user's checkpoint every replicate starts from


@dataclass(frozen=True)
class WarmTask:
    """The warm-up of one replicate (and design point), shared by its policies: run it under
    the warm-up policy and save it as ``warmups/<warm>.npz`` (picklable)."""

    warm: str
    folder: str
    config: Any
    policy: Any  # the warm-up policy
    seed: int
    warmup_days: int
    horizon_years: float
    attempt: int = 1

    @property
    def run(self) -> str:  # the driver's name for any unit of work
        return f"warmup-{self.warm}"


@dataclass
class StudyPlan:
    """A resolved study: the manifest (one row per design point x policy x replicate) and the
    distinct runs (a run shared by two identical points is run once)."""

    study: Study
    base_config: Any
    policies: dict[str, Any]
    seeds: list[int]
    points: list[list[Any]]
    manifest: Any  # pandas DataFrame: point, policy, replicate, seed, run, <keys>
    tasks: dict[str, RunTask]  # run -> task (folder left empty until a folder is chosen)
    study_hash: str
    resolved: dict[str, Any] = dataclasses.field(default_factory=dict)  # point 0's policies
    warm_tasks: dict[str, WarmTask] = dataclasses.field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return len(self.tasks)

    def describe(self) -> str:
        s = self.study
        d = s.design
        what = (
            "no design parameters"
            if d.method == "none"
            else (f"{d.method} design over {len(d.parameters)} parameter(s)")
        )
        dup = len(self.manifest) - self.n_runs
        extra = f" ({dup} duplicate point run(s) shared)" if dup else ""
        return (
            f"study {s.name}: {what}, {len(self.points)} point(s) x {len(self.policies)} "
            f"policy(ies) x {s.replicates} replicate(s) = {len(self.manifest)} runs{extra}; "
            f"{s.years:g} year(s) after {self.warmup_text()}, "
            f"{self.base_config.zone.population:,} inhabitants"
            + (", parameter draws per replicate (PSA)" if s.psa.enabled else "")
        )

    def warmup_text(self) -> str:
        s = self.study
        if s.checkpoint:
            return f"the checkpoint {s.checkpoint}"
        return f"a shared warm-up of {s.warmup_days} days under {s.warmup_policy}"


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True, default=str)


def _hash(obj: Any, n: int = 32) -> str:
    return hashlib.sha256(_canonical(obj).encode()).hexdigest()[:n]


def parameters_digest(config_dict: dict, policy_dict: dict) -> str:
    """SHA-256 of the resolved configuration and policy (what a design point sets)."""
    return _hash({"config": config_dict, "policy": policy_dict}, 64)


def run_identity(
    digest: str,
    label: str,
    seed: int,
    replicate: int,
    years: float,
    warmup_days: int,
    timeseries: bool,
) -> dict[str, Any]:
    """What a run's name hashes: everything that determines its result file (``digest``:
    :func:`parameters_digest` of the resolved configuration and policy)."""
    return {
        "schema": RESULTS_SCHEMA_VERSION,
        "parameters": digest,
        "label": label,
        "seed": int(seed),
        "replicate": int(replicate),
        "years": float(years),
        "warmup_days": int(warmup_days),
        "timeseries": bool(timeseries),
    }


def _reraise_for_point(
    exc: ZonesimInputError, study: Study, keys: list[str], row: list[Any], i: int
):
    """A schema or budget error at a design point, named by the study file and the key."""
    fld = str(exc.field or "")
    base = re.sub(r"\[\d+\]$", "", fld).removeprefix("policy.")
    key = next(
        (k for k in keys if re.sub(r"\[\d+\]$", "", k).removeprefix("policy.") == base), None
    )
    show = exc.field is not None
    if key is None and fld.startswith("policy."):  # the budget: blame the levers varied
        levers = [k for k in keys if k.startswith("policy.")]
        key = " / ".join(levers) or None
        show = False
    values = ", ".join(f"{k}={v!r}" for k, v in zip(keys, row, strict=True))
    origin = f"{exc.source}, " if exc.source and not str(exc.source).startswith("<") else ""
    where = f"design.parameters.{key}" if key else f"design (point {i})"
    raise ZonesimInputError(
        f"{exc.expected} ({origin}at design point {i}: {values})",
        source=study.source,
        field=where,
        value=exc.value,
        show_value=show,
    ) from None


def _base_config(s: Study, config_ov: list[str]):
    """The study's configuration before any design point or draw: its zone and scenario, or
    the configuration saved in its checkpoint; overrides applied."""
    from ..config import Config, apply_overrides, from_dict, load_config

    if s.checkpoint:
        from ..checkpoint import read_metadata

        for key, value in (("config", s.config), ("population", s.population)):
            if value is not None:
                raise _err(
                    "a study that starts from a checkpoint takes the zone of the checkpoint "
                    "(leave config and population out)",
                    s.source,
                    key,
                    value,
                )
        with _named_by_study(s, "checkpoint"):
            meta = read_metadata(s.checkpoint)
        if meta.get("model") != "ZoneModel":
            raise _err("expected a checkpoint of one zone", s.source, "checkpoint", s.checkpoint)
        base = from_dict(Config, meta["config"], source=str(s.checkpoint))
        return apply_overrides(base, config_ov) if config_ov else base, meta
    with _named_by_study(s, "scenario"):
        base = load_config(s.config, config_ov, scenario=s.scenario)
    if s.population is not None:
        try:
            base = apply_overrides(base, {"zone.population": s.population})
        except ZonesimInputError as exc:  # name the study's key, not an override
            raise ZonesimInputError(
                exc.expected, source=s.source, field="population", value=s.population
            ) from None
    from ..geography import settle_zone_population  # a CSV zone: its true population

    return settle_zone_population(base, requested=s.population), None


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve_study(study: Study | str | Path | Mapping[str, Any]) -> StudyPlan:
    """Load everything and resolve every run (configuration and policy at each design point,
    budget envelopes, parameter draws, seeds, the shared warm-ups, run names). Raises
    :class:`~zonesim.errors.ZonesimInputError` for any bad input, before anything runs or is
    written."""
    import pandas as pd

    from .. import __version__
    from ..config import apply_overrides, load_policy, parse_override, to_dict
    from ..policies import apply_budget, preset_names
    from .fields import _git_info
    from .psa import as_overrides, draw_parameters

    s = _as_study(study)
    config_ov, policy_ov = [], []
    for text in s.overrides:
        key, _ = parse_override(text)
        (policy_ov if key.startswith("policy.") else config_ov).append(text)
    base, ck_meta = _base_config(s, config_ov)
    presets = set(preset_names())
    policies: dict[str, Any] = {}
    for entry in s.policies:
        with _named_by_study(s, "policies"):
            pol = load_policy(entry, policy_ov)
        label = entry if entry in presets else pol.name
        if label in policies:
            raise _err(
                f"expected policies with different names ('{label}' appears twice)",
                s.source,
                "policies",
                list(s.policies),
            )
        policies[label] = pol
    with _named_by_study(s, "warmup_policy"):
        warm_pol = load_policy(s.warmup_policy)
    seeds = s.seeds()
    keys = s.design.keys
    params = s.design.parameters
    points = s.design.points()
    git = _git_info()
    provenance = {
        "zonesim_version": __version__,
        "git_commit": (git or {}).get("commit"),
        "git_dirty": (git or {}).get("dirty"),
    }
    checkpoint_digest = _file_digest(s.checkpoint) if s.checkpoint else None
    draws = [draw_parameters(s.psa, s.seed, r) for r in range(len(seeds))]
    psa_keys = [f"psa.{k}" for k in draws[0]] if draws and draws[0] else []
    base_dict = to_dict(base)
    tasks: dict[str, RunTask] = {}
    warm_tasks: dict[str, WarmTask] = {}
    rows: list[dict[str, Any]] = []
    resolved_first: dict[str, Any] = {}
    horizon = s.years + s.warmup_days / DAYS_PER_YEAR
    for i, row in enumerate(points):
        cfg_changes: dict[str, Any] = {}
        lever_changes: dict[str, Any] = {}
        for p, v in zip(params, row, strict=True):
            if p.target == "policy":
                lever_changes[p.path] = v
            elif p.index is None:
                cfg_changes[p.path] = v
            else:
                cur = cfg_changes.get(p.path)
                if cur is None:
                    cur = _get_path(base_dict, p.path)
                cur = list(cur)
                cur[p.index] = v
                cfg_changes[p.path] = cur
        values = tuple(zip(keys, row, strict=True))
        try:
            cfg_point = apply_overrides(base, cfg_changes) if cfg_changes else base
        except ZonesimInputError as exc:
            _reraise_for_point(exc, s, keys, row, i)
        point_cache: tuple | None = None  # the point's resolution when a replicate draws nothing
        for r, seed in enumerate(seeds):
            if draws[r] or point_cache is None:
                cfg = cfg_point
                if draws[r]:
                    cfg = apply_overrides(cfg_point, as_overrides(draws[r], cfg_point))
                try:
                    resolved = {}
                    for label, pol in policies.items():
                        pp = load_policy(pol, lever_changes) if lever_changes else pol
                        resolved[label] = apply_budget(pp, cfg, cfg.zone.population)
                    warm_resolved = apply_budget(warm_pol, cfg, cfg.zone.population)
                except ZonesimInputError as exc:
                    _reraise_for_point(exc, s, keys, row, i)
                cfg_dict = to_dict(cfg)
                digests = {
                    label: parameters_digest(cfg_dict, to_dict(pol))
                    for label, pol in resolved.items()
                }
                warm_digest = _hash(to_dict(warm_resolved), 64)
                if not draws[r]:
                    point_cache = (cfg, resolved, warm_resolved, cfg_dict, digests, warm_digest)
            else:
                cfg, resolved, warm_resolved, cfg_dict, digests, warm_digest = point_cache
            if i == 0 and r == 0:
                resolved_first = resolved
            run_values = values + tuple((f"psa.{k}", v) for k, v in draws[r].items())
            # what a replicate's warm-up and each of its runs share (the folder is set later)
            shared = {"folder": "", "config": cfg, "seed": seed, "warmup_days": s.warmup_days}
            if s.checkpoint:
                warm_ident = {"checkpoint": checkpoint_digest, "seed": int(seed)}
                warm = ""
            else:
                warm_ident = {
                    "schema": RESULTS_SCHEMA_VERSION,
                    "config": _hash(cfg_dict, 64),
                    "policy": warm_digest,
                    "seed": int(seed),
                    "warmup_days": int(s.warmup_days),
                    "horizon_years": float(horizon),
                }
                warm = _hash(warm_ident)
                if warm not in warm_tasks:
                    warm_tasks[warm] = WarmTask(
                        warm=warm, policy=warm_resolved, horizon_years=s.years, **shared
                    )
            for label, pol in resolved.items():
                digest = digests[label]
                ident = run_identity(digest, label, seed, r, s.years, s.warmup_days, s.timeseries)
                ident["warmup"] = _hash(warm_ident)
                run = _hash(ident)
                if run not in tasks:
                    tasks[run] = RunTask(
                        run=run,
                        policy=pol,
                        label=label,
                        replicate=r,
                        years=s.years,
                        timeseries=s.timeseries,
                        **shared,
                        values=run_values,
                        config_hash=digest[:16],
                        provenance=provenance,
                        warm=warm,
                        warm_task=warm_tasks.get(warm),
                        checkpoint=s.checkpoint,
                    )
                rows.append(
                    {
                        "point": i,
                        "policy": label,
                        "replicate": r,
                        "seed": seed,
                        "run": run,
                        **dict(run_values),
                    }
                )
    manifest = pd.DataFrame(rows, columns=[*FIXED_COLUMNS, *keys, *psa_keys])
    for p in params:
        manifest[p.key] = manifest[p.key].astype(
            {"float": "float64", "int": "int64", "bool": "bool", "str": "object"}[p.kind]
        )
    for c in psa_keys:
        manifest[c] = manifest[c].astype("float64")
    for c in ("point", "replicate"):
        manifest[c] = manifest[c].astype("int64")
    manifest["seed"] = manifest["seed"].astype("int64")
    study_hash = _hash(
        {
            "study": s.to_dict(),
            "config": base_dict,
            "policies": {k: to_dict(v) for k, v in policies.items()},
            "schema": RESULTS_SCHEMA_VERSION,
            "checkpoint": checkpoint_digest,
        },
        16,
    )
    plan = StudyPlan(s, base, policies, seeds, points, manifest, tasks, study_hash)
    plan.resolved = resolved_first
    plan.warm_tasks = warm_tasks
    return plan


@contextlib.contextmanager
def _named_by_study(s: Study, key: str):
    """Errors about a name given in the study (an unknown policy or scenario) name the study
    file and its key rather than ``<argument>``."""
    try:
        yield
    except ZonesimInputError as exc:
        # a name given in code (an Experiment's defaults or arguments) keeps the argument's own
        # field in the message; a name read from a file names the file and its key
        if exc.source not in (None, "<argument>") or s.source in ("<defaults>", "<argument>"):
            raise
        raise ZonesimInputError(
            exc.expected, source=s.source, field=key, value=exc.value, show_value=True
        ) from None


def _get_path(d: dict, path: str) -> Any:
    for part in path.split("."):
        d = d[part]
    return d


# ---------------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------------


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _log_event(folder: Path, run: str, event: str, **extra: Any) -> None:
    """Append one line to ``attempts/<run>.jsonl`` (one small write, append mode)."""
    line = _canonical({"event": event, "time": _now(), "worker": _worker_id(), **extra}) + "\n"
    path = folder / ATTEMPTS / f"{run}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_attempts(folder: str | Path, run: str | None = None) -> dict[str, list[dict]]:
    """The execution events per run (``attempts/<run>.jsonl``): start, commit, error, skip,
    duplicate. For checking what ran where, and how often."""
    folder = Path(folder) / ATTEMPTS
    out: dict[str, list[dict]] = {}
    files = [folder / f"{run}.jsonl"] if run else sorted(folder.glob("*.jsonl"))
    for f in files:
        if not f.exists():
            continue
        events = []
        for line in f.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a line cut by a crash
                events.append(json.loads(line))
        out[f.stem] = events
    return out


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _commit(tmp: Path, final: Path) -> bool:
    """Move a complete (fsynced) temporary file into place unless the final file exists: True
    when this call put it there. A hard link is atomic and refuses an existing target (also on
    NFS); where links are not supported, fall back to an atomic rename. The folder is not
    fsynced: a link lost to a power cut only means the run is done again."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        return False
    except OSError:
        if final.exists():
            tmp.unlink(missing_ok=True)
            return False
        os.replace(tmp, final)
        return True
    tmp.unlink(missing_ok=True)
    return True


def _write_parquet_atomic(table, final: Path, *, replace: bool = False, small: bool = True) -> bool:
    """Write ``table`` to a temporary sibling, fsync, then commit it (``replace``: rename over
    an existing file; else :func:`_commit`). ``small``: a run's few rows, written plain (no
    compression, statistics or dictionaries: several times faster to read back by the
    thousand); else zstd."""
    import pyarrow.parquet as pq

    tmp = final.parent / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    opts = (
        {"compression": "none", "write_statistics": False, "use_dictionary": False}
        if small
        else {"compression": "zstd"}
    )
    try:
        pq.write_table(table, tmp, **opts)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return True
        return _commit(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _result_table(task: RunTask, out: Any, seconds: float, messages: list[str]):
    """One run's rows: ``month 0, year 0`` is the scorecard of the whole measured horizon,
    ``month 0, year k`` the scorecard of measured year k, ``month 1..`` the monthly series (when
    kept, ``year`` 0). Provenance goes into the file's metadata."""
    import numpy as np
    import pyarrow as pa

    from ..config import to_dict

    card, year_cards = out["card"], list(out.get("years") or [])
    ts = out.get("timeseries")
    months = 0 if (ts is None or not task.timeseries) else len(ts)
    ny = len(year_cards)
    n = 1 + ny + months
    end_day = task.warmup_days + round(task.years * DAYS_PER_YEAR)  # simulation day the window ends
    cols: dict[str, Any] = {
        "run": pa.array([task.run] * n, pa.string()),
        "policy": pa.array([task.label] * n, pa.string()),
        "replicate": pa.array([task.replicate] * n, pa.int64()),
        "seed": pa.array([task.seed] * n, pa.int64()),
    }
    for key, v in task.values:
        typ = (
            pa.bool_()
            if isinstance(v, bool)
            else pa.int64()
            if isinstance(v, int)
            else pa.float64()
            if isinstance(v, float)
            else pa.string()
        )
        cols[key] = pa.array([v] * n, typ)
    month = [0] * (1 + ny) + ([int(x) for x in ts["month"]] if months else [])
    year = [0, *range(1, ny + 1)] + [0] * months
    year_end = [task.warmup_days + DAYS_PER_YEAR * (k + 1) for k in range(ny)]
    day = [end_day, *year_end] + ([int(x) for x in ts["day"]] if months else [])
    cols["month"] = pa.array(month, pa.int32())
    cols["year"] = pa.array(year, pa.int32())
    cols["day"] = pa.array(day, pa.int32())
    ts_cols = [c for c in ts.columns if c not in ("day", "month")] if months else []
    score_cols = list(card)
    for name in dict.fromkeys(score_cols + ts_cols):
        first = [float(card.get(name, float("nan")))]
        first += [float(c.get(name, float("nan"))) for c in year_cards]
        rest = ts[name].to_numpy(dtype=float) if name in ts_cols else np.full(months, np.nan)
        cols[name] = pa.array(np.concatenate([first, rest]), pa.float64())
    prov = dict(task.provenance)
    cols["config_hash"] = pa.array([task.config_hash] * n, pa.string())
    cols["zonesim_version"] = pa.array([prov.get("zonesim_version")] * n, pa.string())
    cols["git_commit"] = pa.array([prov.get("git_commit")] * n, pa.string())
    cols["run_seconds"] = pa.array([seconds] * n, pa.float64())
    meta = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "run": task.run,
        "design_columns": [k for k, _ in task.values],
        "scorecard_columns": score_cols,
        "timeseries_columns": ts_cols,
        "provenance": {
            **prov,
            "config_hash": task.config_hash,
            "created": _now(),
            "worker": _worker_id(),
            "attempt": task.attempt,
            "seconds": seconds,
        },
        "run_spec": {
            "policy": task.label,
            "replicate": task.replicate,
            "seed": task.seed,
            "years": task.years,
            "warmup_days": task.warmup_days,
            "warmup": task.warm or None,
            "checkpoint": task.checkpoint,
            "timeseries": task.timeseries,
            "values": dict(task.values),
        },
        "config": to_dict(task.config),
        "policy": to_dict(task.policy),
        "warnings": messages,
    }
    table = pa.table(cols)
    return table.replace_schema_metadata({_META_KEY: json.dumps(meta, default=str).encode()})


def _warm_path(folder: str | Path, warm: str) -> Path:
    return Path(folder) / WARMUPS / f"{warm}.npz"


def _make_warmup(task: WarmTask) -> Path:
    """Run one replicate's warm-up and save it (atomically; two workers making the same one
    write the same bits, and the last rename wins)."""
    from .simulate import warm_model

    model = warm_model(
        task.config,
        task.seed,
        warmup_days=task.warmup_days,
        horizon_years=task.horizon_years,
        warmup_policy=task.policy,
    )
    return model.save(_warm_path(task.folder, task.warm), warmup=task.warm)


def execute_warmup(task: WarmTask) -> dict[str, Any]:
    """Make one replicate's shared warm-up on a worker (skipped when its checkpoint exists).
    Returns a small summary like :func:`execute_run`'s."""
    path = _warm_path(task.folder, task.warm)
    summary: dict[str, Any] = {"run": task.run, "attempt": task.attempt, "worker": _worker_id()}
    if path.exists():
        return {**summary, "status": "done", "skipped": True, "seconds": 0.0}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the runs report the warnings of their horizon
            _make_warmup(task)
    except Exception as exc:
        return {
            **summary,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc()[-6000:],
            "seconds": time.perf_counter() - t0,
        }
    return {**summary, "status": "done", "skipped": False, "seconds": time.perf_counter() - t0}


def _simulate(task: RunTask):
    """The simulation of one run (a seam: tests replace it to make runs fail or stall): load
    the replicate's warm-up (making it if it is missing), branch the run's policy, measure."""
    from ..model import ZoneModel
    from .simulate import measure

    if task.checkpoint:
        start = ZoneModel.load(task.checkpoint, agents=False)
        model = start.branch(task.policy, config=task.config, rng=task.seed)
    else:
        path = _warm_path(task.folder, task.warm)
        if not path.exists():
            if task.warm_task is None:  # pragma: no cover - resolve_study always sets it
                raise RuntimeError(f"warm-up {task.warm} is missing")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _make_warmup(dataclasses.replace(task.warm_task, folder=task.folder))
        model = ZoneModel.load(path, agents=False).branch(task.policy)
    return measure(model, task.years)


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one task on a worker: simulate, write its Parquet file atomically, log the attempt.

    Returns a small summary (never the results): run, status (``done`` or ``failed``),
    committed (this execution put the file in place), skipped (the file was already there),
    seconds (the simulation), total_seconds (also storing it), worker, attempt, and
    error/traceback when it failed. Exceptions of the run are caught and reported, not raised.
    """
    folder = Path(task.folder)
    final = folder / RUNS / f"{task.run}.parquet"
    summary: dict[str, Any] = {
        "run": task.run,
        "attempt": task.attempt,
        "worker": _worker_id(),
        "committed": False,
        "skipped": False,
    }
    if final.exists():
        _log_event(folder, task.run, "skip", attempt=task.attempt)
        return {**summary, "status": "done", "skipped": True, "seconds": 0.0}
    t0 = time.perf_counter()
    _log_event(folder, task.run, "start", attempt=task.attempt)
    t_sim = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = _simulate(task)
        seconds = time.perf_counter() - t_sim
        messages = list(dict.fromkeys(str(w.message) for w in caught))
        table = _result_table(task, out, seconds, messages)
        committed = _write_parquet_atomic(table, final)
    except Exception as exc:
        seconds = time.perf_counter() - t0
        err = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc()
        if len(tb) > 8000:
            tb = tb[:2000] + "\n...\n" + tb[-6000:]
        _log_event(folder, task.run, "error", attempt=task.attempt, error=err)
        return {**summary, "status": "failed", "error": err, "traceback": tb, "seconds": seconds}
    _log_event(folder, task.run, "commit" if committed else "duplicate", attempt=task.attempt)
    return {
        **summary,
        "status": "done",
        "committed": committed,
        "seconds": seconds,
        "total_seconds": time.perf_counter() - t0,
        "warnings": len(messages),
        "messages": messages,
    }


class _StudyLock:
    """``study.lock``: an exclusive flock held while a driver works on the folder (released by
    the kernel when the process ends, even when killed), holding the driver's provenance."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self.fd: int | None = None
        self.previous: dict[str, Any] = {}

    def acquire(self, info: dict[str, Any], *, what: str = "sweep") -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no locking
            fcntl = None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = _read_lock(self.path)
                who = (
                    f" ({holder.get('command', 'zonesim')} pid {holder.get('pid')} on "
                    f"{holder.get('host')} since {holder.get('started')})"
                    if holder
                    else ""
                )
                raise ZonesimInputError(
                    f"another driver is working on this folder{who}; wait for it or stop it",
                    source=str(self.path.parent),
                    field=LOCK_FILE,
                ) from None
            except OSError:  # pragma: no cover - a filesystem without flock: go on unlocked
                pass
        self.previous = _read_lock(self.path)  # the last driver's provenance
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps({**info, "command": what}, indent=2) + "\n").encode())
        os.fsync(fd)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


def _read_lock(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _lock_held(path: Path) -> bool:
    """Whether a live process holds ``study.lock`` (without taking it for long)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        return False
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # pragma: no cover
        return False
    finally:
        os.close(fd)
    return False


def _done_runs(folder: Path) -> set[str]:
    """Runs with a committed result: per-run files and the compacted file's runs."""
    done = (
        {p.stem for p in (folder / RUNS).glob("*.parquet")} if (folder / RUNS).is_dir() else set()
    )
    comp = folder / COMPACT_FILE
    if comp.exists():
        import pyarrow.parquet as pq

        done |= set(pq.read_table(comp, columns=["run"]).column("run").unique().to_pylist())
    return done


def _write_failure(folder: Path, task: RunTask, summary: dict[str, Any], gave_up: bool) -> None:
    path = folder / FAILED / f"{task.run}.json"
    rec = _read_json(path) or {
        "run": task.run,
        "policy": task.label,
        "replicate": task.replicate,
        "seed": task.seed,
        "values": dict(task.values),
        "attempts": [],
    }
    rec["attempts"].append(
        {
            "attempt": task.attempt,
            "time": _now(),
            "worker": summary.get("worker"),
            "error": summary.get("error"),
            "traceback": summary.get("traceback"),
        }
    )
    rec["attempts"] = rec["attempts"][-20:]
    rec["gave_up"] = gave_up
    rec["error"] = summary.get("error")
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(rec, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _write_manifest(folder: Path, plan: StudyPlan) -> None:
    import pyarrow as pa

    s = plan.study
    d = s.design
    meta = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "study": s.to_dict(),
        "study_source": s.source,
        "study_hash": plan.study_hash,
        "method": d.method,
        "parameters": [
            {"key": p.key, "kind": p.kind, "bounds": p.bounds, "unit": p.unit} for p in d.parameters
        ],
        "calc_second_order": d.calc_second_order,
        "num_levels": d.num_levels,
        "policies": list(plan.policies),
        "analysis": dict(s.analysis),
        "population": plan.base_config.zone.population,
        "zone": plan.base_config.zone.name,
        "scenario": plan.base_config.scenario.name,
    }
    table = pa.Table.from_pandas(plan.manifest, preserve_index=False)
    table = table.replace_schema_metadata({_META_KEY: json.dumps(meta, default=str).encode()})
    _write_parquet_atomic(table, folder / DESIGN_FILE, replace=True)
    text = s.text
    if text is None:
        from .fields import toml_dumps

        text = toml_dumps(s.to_dict())
    tmp = folder / f".{STUDY_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(
        f"# The study as last run (from {s.source}); relative paths are relative to the "
        "original.\n" + text,
        encoding="utf-8",
    )
    os.replace(tmp, folder / STUDY_FILE)


def _read_meta(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(_META_KEY)
    return json.loads(raw) if raw else {}


def _clean_temporaries(folder: Path) -> None:
    """Remove what a killed worker or driver left half-written (never a committed file)."""
    for sub in (RUNS, FAILED, WARMUPS, ""):
        d = folder / sub if sub else folder
        if d.is_dir():
            for p in d.glob(".*.tmp"):
                p.unlink(missing_ok=True)


def default_folder(study: Study) -> Path:
    """Where a study's results go unless told: ``results/sweeps/<name>/``."""
    return Path("results") / "sweeps" / study.name


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What a :func:`sweep` call did.

    folder: the study's folder; total: distinct runs of the study; already_done: found done
    at the start (skipped); executed: completed in this call; failed: runs that still failed
    after their retries; failures: ``{run: error}`` of those; attempts: executions started in
    this call (retries included); wall_s: seconds; executor: what ran them.
    """

    folder: Path
    total: int
    already_done: int
    executed: int
    failed: int
    failures: dict[str, str]
    attempts: int
    wall_s: float
    executor: str

    @property
    def done(self) -> int:
        return self.already_done + self.executed

    @property
    def missing(self) -> int:
        return self.total - self.done - self.failed

    @property
    def complete(self) -> bool:
        """Every run of the study has its result."""
        return self.done == self.total

    def results(self, **kwargs: Any):
        """:func:`load_results` of the folder."""
        return load_results(self.folder, **kwargs)

    def __str__(self) -> str:
        rate = self.executed / self.wall_s * 60 if self.wall_s > 0 and self.executed else 0.0
        return (
            f"{self.done}/{self.total} runs done ({self.already_done} before, {self.executed} "
            f"now), {self.failed} failed, {self.missing} missing; {self.wall_s:.1f} s"
            + (f", {rate:.0f} runs/min" if rate else "")
            + (f" on {self.executor}" if self.attempts else ", nothing to run")
        )


def sweep(
    study: Study | str | Path | Mapping[str, Any],
    *,
    executor: Any = None,
    workers: int | None = None,
    site: str | None = None,
    out: str | Path | None = None,
    retries: int | None = None,
    progress: bool = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> SweepReport:
    """Run a study: every design point x policy x replicate, skipping runs already done.

    ``study``: a study TOML path, a :class:`Study` or a dict in the file's format.
    ``executor``: ``"sequential"``, ``"processes"``, ``"local"``, ``"slurm"`` (with ``site``),
    a scheduler address, a profile name or path (``configs/executors/``), a
    :class:`~zonesim.executors.ExecutorSpec`, a ``distributed.Client``, or any
    :class:`concurrent.futures.Executor` (used as is, not shut down); None: the study's
    ``[executor]``, else a local Dask cluster where Dask is installed. ``workers``: local
    worker processes. ``out``: the study's folder (default ``results/sweeps/<name>/``).
    ``retries``: extra attempts of a failing run (default: the study's, 2). ``progress``: a
    progress bar on stderr (done, failed, remaining). ``on_result``: called in this process
    with each run's summary as it arrives.

    Everything is checked before the first run: a bad input raises
    :class:`~zonesim.errors.ZonesimInputError` and nothing is written. Runs that fail are
    recorded (``failed/``) and retried; the others go on. Ctrl-C stops the workers; a rerun
    resumes.
    """
    s = _as_study(study)
    if retries is not None:
        retries = _int(retries, "<argument>", "retries", 0, 100, "a number of retries")
        s = dataclasses.replace(s, retries=retries)
    spec = _executor_spec(executor, workers, site, s)
    plan = resolve_study(s)
    folder = Path(out) if out is not None else default_folder(s)
    if folder.exists() and not folder.is_dir():
        raise _err("expected a folder (or nothing) there", "<argument>", "out", str(folder))
    return run_study(
        plan,
        folder,
        executor=executor if spec is None else spec,
        workers=workers,
        progress=progress,
        on_result=on_result,
    )


def _executor_spec(executor: Any, workers: int | None, site: str | None, s: Study):
    """The :class:`~zonesim.executors.ExecutorSpec` an executor choice names (None for an
    executor object or a Dask client, used as given); checked, nothing started."""
    import concurrent.futures as cf

    from ..executors import ExecutorSpec, resolve_executor

    if isinstance(executor, cf.Executor) or _is_client(executor):
        return None
    return resolve_executor(
        executor
        if isinstance(executor, (str, ExecutorSpec)) or executor is None
        else str(executor),
        workers=workers,
        site=site,
        study=s.executor,
    )


def _is_client(obj: Any) -> bool:
    return type(obj).__name__ == "Client" and hasattr(obj, "get_executor")


def run_study(
    plan: StudyPlan,
    folder: str | Path,
    *,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    command: str = "sweep",
) -> SweepReport:
    """Execute a resolved study into ``folder`` (resuming what is there): first the shared
    warm-ups that runs still need, then the runs. ``executor``: as for :func:`sweep` (an
    :class:`~zonesim.executors.ExecutorSpec`, a choice by name, an Executor, a Dask client).
    ``command`` names the driver in the lock file (``sweep``, ``compare``)."""
    import concurrent.futures as cf

    from ..executors import ExecutorSpec

    folder = Path(folder)
    given = executor if isinstance(executor, cf.Executor) else None
    client = executor if _is_client(executor) else None
    spec = None
    if given is None and client is None:
        spec = (
            executor
            if isinstance(executor, ExecutorSpec)
            else _executor_spec(executor, workers, None, plan.study)
        )
        if spec.kind in ("sequential", "local", "processes"):
            _check_memory(plan, min(spec.capacity(), max(plan.n_runs, 1)))
    return _run_plan(plan, folder, spec, given, client, workers, progress, on_result, command)


def _check_memory(plan: StudyPlan, at_once: int) -> None:
    """The memory guard for runs on this machine, up front: the largest run of the study,
    ``at_once`` of them side by side, must fit in the memory available now."""
    from ..memory import check_memory
    from ..population import estimate_run_bytes

    if not plan.tasks:
        return
    task = max(plan.tasks.values(), key=lambda t: t.config.zone.population)
    horizon = task.years + task.warmup_days / DAYS_PER_YEAR
    need, what = estimate_run_bytes(task.config, years=horizon)
    check_memory(need, f"{plan.study.source}: the largest run, {what},", runs=at_once)


def _run_plan(
    plan, folder, spec, given, client, workers, progress, on_result, command="sweep"
) -> SweepReport:
    from ..executors import ExecutorHandle, _warmup_plugin, open_executor
    from .simulate import warm_up

    s = plan.study
    t0 = time.perf_counter()
    for sub in (RUNS, FAILED, ATTEMPTS, WARMUPS):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    lock = _StudyLock(folder)
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": _now(),
        "study": s.name,
        "study_source": s.source,
        "study_hash": plan.study_hash,
        "runs": plan.n_runs,
        **next(iter(plan.tasks.values())).provenance,
        "argv": sys.argv if sys.argv and sys.argv[0] else None,
    }
    lock.acquire(info, what=command)
    try:
        _warn_if_other_code(lock.previous, {**info, "command": command}, folder)
        _clean_temporaries(folder)
        _write_manifest(folder, plan)
        done = _done_runs(folder) & set(plan.tasks)
        todo = [
            dataclasses.replace(t, folder=str(folder.resolve()))
            for run, t in plan.tasks.items()
            if run not in done
        ]
        needed = {t.warm for t in todo if t.warm}
        warm_todo = [
            dataclasses.replace(w, folder=str(folder.resolve()))
            for key, w in plan.warm_tasks.items()
            if key in needed and not _warm_path(folder, key).exists()
        ]
        report = SweepReport(
            folder=folder,
            total=plan.n_runs,
            already_done=len(done),
            executed=0,
            failed=0,
            failures={},
            attempts=0,
            wall_s=0.0,
            executor="nothing to run",
        )
        if not todo:
            report.wall_s = time.perf_counter() - t0
            _remove_warmups(folder, plan)
            return report
        if given is not None:
            cap = workers or getattr(given, "_max_workers", None) or 1
            ctx = contextlib.nullcontext(ExecutorHandle(given, int(cap), type(given).__name__))
        elif client is not None:
            client.register_plugin(_warmup_plugin(warm_up))
            cap = sum(
                w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()
            )
            ctx = contextlib.nullcontext(
                ExecutorHandle(client.get_executor(pure=False), max(1, cap), "Dask client", client)
            )
        else:
            ctx = open_executor(spec, warm=warm_up)
        with ctx as handle:
            report.executor = handle.description
            if warm_todo:
                _drive_warmups(warm_todo, handle, progress)
            _drive(folder, todo, handle, s.retries, report, progress, on_result)
        report.wall_s = time.perf_counter() - t0
        if report.complete:
            _remove_warmups(folder, plan)
        return report
    finally:
        lock.release()


def _remove_warmups(folder: Path, plan: StudyPlan) -> None:
    """Once every run of the study is done, its warm-ups are no longer needed (they are
    checkpoints of several MB each): remove them. A study extended later makes them again."""
    for key in plan.warm_tasks:
        _warm_path(folder, key).unlink(missing_ok=True)


def _drive_warmups(todo: list[WarmTask], handle, progress: bool) -> None:
    """Make the shared warm-ups the runs need, in parallel. A warm-up that fails is made
    again by its first run (whose error, if it fails again, is recorded like any run's)."""
    import concurrent.futures as cf

    from tqdm import tqdm

    queue = deque(todo)
    in_flight: set[cf.Future] = set()
    with tqdm(
        total=len(todo),
        unit="warm-up",
        desc="warm-ups",
        file=sys.stderr,
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        try:
            while queue or in_flight:
                while queue and len(in_flight) < handle.window:
                    in_flight.add(handle.executor.submit(execute_warmup, queue.popleft()))
                finished, in_flight = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    with contextlib.suppress(Exception):
                        fut.result()
                    bar.update(1)
        except BaseException:
            for fut in in_flight:
                fut.cancel()
            raise


def _warn_if_other_code(previous: dict[str, Any], now: dict[str, Any], folder: Path) -> None:
    """Resuming with another zonesim version or commit mixes results of two codes in one study
    (run names hash the inputs, not the code): say so."""
    if previous.get("command") not in ("sweep", "compare"):
        return
    for key, what in (("zonesim_version", "version"), ("git_commit", "git commit")):
        old, new = previous.get(key), now.get(key)
        if old and new and old != new:
            warnings.warn(
                f"the runs already in {folder} were made by zonesim {what} {old}, this sweep "
                f"runs {new}: the study will mix results of both (load_results(..., "
                "provenance=True) tells them apart; a new --out keeps them apart)",
                RuntimeWarning,
                stacklevel=4,
            )
            return


def _drive(folder, todo, handle, retries, report, progress, on_result) -> None:
    """Keep the executor fed with a window of runs until every run is done or has failed
    ``1 + retries`` times."""
    import concurrent.futures as cf

    from tqdm import tqdm

    queue = deque(todo)
    tries: dict[str, int] = {}
    in_flight: dict[cf.Future, RunTask] = {}
    total = report.total
    bar = tqdm(
        total=total,
        initial=report.already_done,
        unit="run",
        desc="runs",
        file=sys.stderr,
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
    )

    def postfix() -> None:
        if progress:
            bar.set_postfix(
                done=report.done,
                failed=report.failed,
                remaining=total - report.done - report.failed,
                refresh=False,
            )

    postfix()
    try:
        while queue or in_flight:
            while queue and len(in_flight) < handle.window:
                task = queue.popleft()
                n = tries.get(task.run, 0) + 1
                tries[task.run] = n
                task = dataclasses.replace(task, attempt=n)
                in_flight[handle.executor.submit(execute_run, task)] = task
                report.attempts += 1
            finished, _ = cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                task = in_flight.pop(fut)
                try:
                    summary = fut.result()
                except cf.CancelledError:
                    summary = {"run": task.run, "status": "failed", "error": "cancelled"}
                except Exception as exc:  # the worker died under it, the scheduler went away
                    summary = {
                        "run": task.run,
                        "status": "failed",
                        "error": f"{type(exc).__name__}: {exc}",
                        "traceback": "".join(traceback.format_exception(exc))[-6000:],
                        "attempt": task.attempt,
                    }
                if summary.get("status") == "done":
                    (folder / FAILED / f"{task.run}.json").unlink(missing_ok=True)
                    report.executed += 1
                    postfix()
                    bar.update(1)
                else:
                    gave_up = tries[task.run] > retries
                    _write_failure(folder, task, summary, gave_up)
                    if gave_up:
                        report.failed += 1
                        report.failures[task.run] = str(summary.get("error"))
                    else:
                        queue.append(task)
                    postfix()
                    bar.refresh()
                if on_result is not None:
                    on_result(summary)
    except BaseException:
        for fut in in_flight:
            fut.cancel()
        raise
    finally:
        postfix()
        bar.refresh()  # the final counts, even where tqdm skipped the last redraws
        bar.close()


# ---------------------------------------------------------------------------------------------
# Status, results, compaction
# ---------------------------------------------------------------------------------------------


@dataclass
class SweepStatus:
    """Where a study stands: total runs, done, failed (with their last error), missing;
    running: the provenance of a driver working on it now (None if none); stale: result files
    of runs no longer in the design (an earlier version of the study)."""

    folder: Path
    total: int
    done: int
    failed: dict[str, str]
    missing: int
    running: dict[str, Any] | None
    stale: int
    description: str = ""

    @property
    def complete(self) -> bool:
        return self.done == self.total

    def text(self) -> str:
        lines = []
        if self.description:
            lines.append(self.description)
        lines.append(f"folder: {self.folder}")
        lines.append(
            f"runs: {self.total} total, {self.done} done, {len(self.failed)} failed, "
            f"{self.missing} missing"
        )
        if self.running:
            lines.append(
                f"running now: pid {self.running.get('pid')} on {self.running.get('host')} "
                f"since {self.running.get('started')}"
            )
        if self.stale:
            lines.append(f"{self.stale} result file(s) from runs no longer in the study (kept)")
        for run, err in list(self.failed.items())[:10]:
            lines.append(f"  failed {run[:12]}: {err}")
        if len(self.failed) > 10:
            lines.append(f"  ... and {len(self.failed) - 10} more (see {FAILED}/)")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "total": self.total,
            "done": self.done,
            "failed": len(self.failed),
            "missing": self.missing,
            "complete": self.complete,
            "running": self.running,
            "stale": self.stale,
            "failures": self.failed,
        }


def status(
    target: Study | str | Path | Mapping[str, Any], *, out: str | Path | None = None
) -> SweepStatus:
    """Done / failed / missing runs of a study (``target`` a study file, a :class:`Study`, or
    a study's results folder; ``out`` the folder when a study is given and its default is not
    where the results are)."""
    p = Path(target) if isinstance(target, (str, Path)) else None
    if p is not None and p.is_dir():
        folder = p
        if not (folder / DESIGN_FILE).exists():
            raise _err("not a sweep's folder (no design.parquet)", "<argument>", "folder", str(p))
        import pandas as pd

        manifest = pd.read_parquet(folder / DESIGN_FILE)
        runs = set(manifest["run"])
        description = ""
    else:
        plan = resolve_study(target)
        folder = Path(out) if out is not None else default_folder(plan.study)
        runs = set(plan.tasks)
        description = plan.describe()
    done_all = _done_runs(folder) if folder.is_dir() else set()
    done = done_all & runs
    failed = {}
    if (folder / FAILED).is_dir():
        for f in sorted((folder / FAILED).glob("*.json")):
            if f.stem in runs and f.stem not in done:
                rec = _read_json(f) or {}
                failed[f.stem] = str(rec.get("error"))
    lock = folder / LOCK_FILE
    running = _read_lock(lock) if _lock_held(lock) else None
    return SweepStatus(
        folder=folder,
        total=len(runs),
        done=len(done),
        failed=failed,
        missing=len(runs) - len(done) - len(failed),
        running=running,
        stale=len(done_all - runs),
        description=description,
    )


def _result_files(folder: Path) -> list[Path]:
    files = []
    if (folder / COMPACT_FILE).exists():
        files.append(folder / COMPACT_FILE)
    if (folder / RUNS).is_dir():
        files.extend(sorted((folder / RUNS).glob("*.parquet")))
    return files


def _read_results(folder: Path):
    """All result rows (compacted and per-run), each run once; and the column roles."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = _result_files(folder)
    tables = []
    roles: dict[str, list[str]] = {"scorecard_columns": [], "timeseries_columns": []}
    for f in files:
        try:
            t = pq.ParquetFile(f).read(use_threads=f.name == COMPACT_FILE)
        except (OSError, pa.ArrowInvalid):  # pragma: no cover - only complete files are named
            continue
        raw = (t.schema.metadata or {}).get(_META_KEY)
        meta = json.loads(raw) if raw else {}
        for k in roles:
            for c in meta.get(k, []):
                if c not in roles[k]:
                    roles[k].append(c)
        tables.append(t.replace_schema_metadata(None))
    if not tables:
        return None, roles
    table = pa.concat_tables(tables, promote_options="permissive")
    return table, roles


def load_results(
    folder: str | Path,
    *,
    timeseries: bool = False,
    years: bool = False,
    provenance: bool = False,
):
    """The results of a study as one tidy pandas DataFrame.

    One row per design point x policy x replicate with a result: ``point``, ``policy``,
    ``replicate``, ``seed``, the design parameters and parameter draws (one column each,
    named by their key; draws as ``psa.<key>``), every metric of the scorecard over the whole
    measured horizon, and ``run`` (the run's name). ``years=True``: one row per run and
    measured year instead (``year`` 1, 2, ...: the scorecard of that year alone, and ``day``,
    the simulation day it ends). ``timeseries=True``: per month of the measured window (with
    ``month`` and ``day``). ``provenance=True`` adds ``config_hash``, ``zonesim_version``,
    ``git_commit`` and ``run_seconds``. Runs not done yet (or failed) are absent;
    :func:`status` counts them. Works before and after :func:`compact`.
    """
    import pandas as pd

    if timeseries and years:
        raise _err("expected timeseries or years, not both", "<argument>", "years", True)
    folder = Path(folder)
    if not folder.is_dir():
        raise _err("no such folder", "<argument>", "folder", str(folder))
    manifest = pd.read_parquet(folder / DESIGN_FILE) if (folder / DESIGN_FILE).exists() else None
    table, roles = _read_results(folder)
    metric_cols = roles["timeseries_columns" if timeseries else "scorecard_columns"]
    prov_cols = ["config_hash", "zonesim_version", "git_commit", "run_seconds"]
    if table is None:
        cols = list(manifest.columns) if manifest is not None else list(FIXED_COLUMNS)
        return pd.DataFrame(columns=cols)
    df = table.to_pandas()
    if "year" not in df.columns:  # a file of results schema 1
        df["year"] = 0
    df = df.drop_duplicates(["run", "month", "year"], keep="first")
    if timeseries:
        df = df[df["month"] > 0]
        order = ["month"]
    elif years:
        df = df[(df["month"] == 0) & (df["year"] > 0)]
        order = ["year"]
    else:
        df = df[(df["month"] == 0) & (df["year"] == 0)]
        order = []
    keep = ["run"] + (["month", "day"] if timeseries else ["year", "day"] if years else [])
    keep += [c for c in metric_cols if c in df.columns]
    if provenance:
        keep += [c for c in prov_cols if c in df.columns]
    if manifest is None:
        design = [c for c in df.columns if "." in c]
        front = ["policy", "replicate", "seed", *design]
        out = df[front + keep].sort_values(["run", *order])
        return out.reset_index(drop=True)
    sub = df[keep].sort_values(["run", *order])
    out = manifest.merge(sub, on="run", how="inner", sort=False)
    front = [c for c in manifest.columns if c != "run"]
    out = out[[*front, *keep]]
    return out.reset_index(drop=True)


def compact(folder: str | Path) -> dict[str, Any]:
    """Merge the per-run files of a study's folder into ``results.parquet`` (written to a
    temporary file, then renamed), then remove the merged per-run files. :func:`load_results`,
    :func:`status` and resuming work the same before and after. Refuses while a driver runs on
    the folder. Returns ``{"runs": ..., "merged": ..., "file": ...}``."""
    import pyarrow as pa

    folder = Path(folder)
    if not (folder / DESIGN_FILE).exists():
        raise _err("not a sweep's folder (no design.parquet)", "<argument>", "folder", str(folder))
    lock = _StudyLock(folder)
    lock.acquire(
        {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}, what="compact"
    )
    try:
        per_run = sorted((folder / RUNS).glob("*.parquet")) if (folder / RUNS).is_dir() else []
        table, roles = _read_results(folder)
        if table is None:
            return {"runs": 0, "merged": 0, "file": None}
        df = table.to_pandas().drop_duplicates(["run", "month"], keep="first")
        df = df.sort_values(["run", "month"]).reset_index(drop=True)
        out = pa.Table.from_pandas(df, preserve_index=False)
        meta = {
            "schema_version": RESULTS_SCHEMA_VERSION,
            "compacted": _now(),
            "runs": int(df["run"].nunique()),
            **roles,
        }
        out = out.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
        _write_parquet_atomic(out, folder / COMPACT_FILE, replace=True, small=False)
        for f in per_run:
            f.unlink(missing_ok=True)
        _fsync_dir(folder / RUNS)
        return {"runs": meta["runs"], "merged": len(per_run), "file": str(folder / COMPACT_FILE)}
    finally:
        lock.release()


# ---------------------------------------------------------------------------------------------
# Sensitivity analysis
# ---------------------------------------------------------------------------------------------


def analyse(
    folder: str | Path,
    *,
    metrics: list[str] | None = None,
    policies: list[str] | None = None,
    num_resamples: int | None = None,
    conf_level: float | None = None,
    seed: int = 0,
):
    """Sobol indices (S1, ST with intervals) or Morris measures (mu, mu*, sigma) of a Sobol or
    Morris study's results, through SALib: one row per policy x metric x parameter.

    The output of a design point is the mean over its replicates. ``metrics``: which (default:
    every scorecard metric); ``policies``: which (default: all). Every design point needs a
    result for the policies analysed; otherwise this says how many are missing (rerun the
    sweep: it resumes).
    """
    import pandas as pd

    from .. import sensitivity

    folder = Path(folder)
    if not (folder / DESIGN_FILE).exists():
        raise _err("not a sweep's folder (no design.parquet)", "<argument>", "folder", str(folder))
    meta = _read_meta(folder / DESIGN_FILE)
    method = meta.get("method")
    if method not in ("sobol", "morris"):
        raise _err(
            "sensitivity indices need a sobol or morris design",
            str(folder / DESIGN_FILE),
            "design.method",
            method,
        )
    params = meta["parameters"]
    names = [p["key"] for p in params]
    bounds = [tuple(p["bounds"]) for p in params]
    analysis = meta.get("analysis") or {}
    num_resamples = num_resamples or analysis.get("num_resamples", 1000)
    conf_level = conf_level or analysis.get("conf_level", 0.95)
    manifest = pd.read_parquet(folder / DESIGN_FILE)
    n_points = int(manifest["point"].max()) + 1
    results = load_results(folder)
    all_policies = list(dict.fromkeys(manifest["policy"]))
    chosen_p = all_policies if policies is None else list(policies)
    for p in chosen_p:
        if p not in all_policies:
            raise _err(f"expected one of: {', '.join(all_policies)}", "<argument>", "policy", p)
    roles = _read_results_roles(folder)
    known = [c for c in roles if c in results.columns]
    chosen_m = known if metrics is None else list(metrics)
    for m in chosen_m:
        if m not in known:
            raise _err(
                f"unknown metric; expected one of: {', '.join(known)}", "<argument>", "metric", m
            )
    x_all = manifest.drop_duplicates("point").sort_values("point")[names].to_numpy(dtype=float)
    rows = []
    for pol in chosen_p:
        sub = results[results["policy"] == pol]
        means = sub.groupby("point")[chosen_m].mean()
        missing = n_points - len(means)
        if missing:
            raise ZonesimInputError(
                f"{missing} of {n_points} design points have no result for policy '{pol}' "
                "(failed or not run yet); run the sweep again (it resumes) or see "
                "zonesim sweep --status",
                source=str(folder),
                field="runs",
            )
        means = means.sort_index()
        for m in chosen_m:
            res = sensitivity.analyse(
                method,
                names,
                bounds,
                x_all,
                means[m].to_numpy(dtype=float),
                calc_second_order=bool(meta.get("calc_second_order")),
                num_levels=int(meta.get("num_levels", 4)),
                num_resamples=int(num_resamples),
                conf_level=float(conf_level),
                seed=seed,
            )
            for j, name in enumerate(names):
                rows.append(
                    {
                        "policy": pol,
                        "metric": m,
                        "parameter": name,
                        **{k: float(v[j]) for k, v in res.items()},
                    }
                )
    table = pd.DataFrame(rows)
    table.attrs.update(
        method=method,
        conf_level=float(conf_level),
        num_resamples=int(num_resamples),
        points=n_points,
        default_metrics=analysis.get("metrics") or list(DEFAULT_ANALYSIS_METRICS),
        policies=chosen_p,
    )
    return table


def _read_results_roles(folder: Path) -> list[str]:
    _, roles = _read_results_meta_only(folder)
    return roles


def _read_results_meta_only(folder: Path):
    cols: list[str] = []
    for f in _result_files(folder):
        meta = _read_meta(f)
        for c in meta.get("scorecard_columns", []):
            if c not in cols:
                cols.append(c)
        if cols:
            break
    return None, cols
