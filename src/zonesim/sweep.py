"""Sweeps: a design over parameters x policies x replicates, run anywhere, stored run by run.

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
:func:`zonesim.experiment.replicate_seed`). The unit of work is
:func:`zonesim.experiment.run_replicate`.

Storage, in the study's folder (``results/sweeps/<name>/`` unless told otherwise)::

    study.toml          the study file as given (for people; the design is in design.parquet)
    study.lock          held (flock) while a driver runs; JSON provenance of the last driver
    design.parquet      the manifest: point, policy, replicate, seed, run, one column per parameter
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
import math
import os
import re
import socket
import sys
import time
import traceback
import types
import typing
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from . import validation as V
from .config import WARMUP_DAYS
from .errors import ZonesimInputError

__all__ = [
    "RESULTS_SCHEMA_VERSION",
    "Design",
    "Parameter",
    "RunTask",
    "Study",
    "SweepPlan",
    "SweepReport",
    "SweepStatus",
    "analyse",
    "compact",
    "execute_run",
    "load_results",
    "load_study",
    "resolve_study",
    "status",
    "sweep",
]

# Bump when the content or layout of a run's file changes: runs then get new names (and rerun).
RESULTS_SCHEMA_VERSION = 1
DEFAULT_RETRIES = 2
DEFAULT_ANALYSIS_METRICS = ("qalys_per_capita", "cost_per_capita_eur", "unmet_need_days_per_1000")
RUNS, FAILED, ATTEMPTS = "runs", "failed", "attempts"
DESIGN_FILE, STUDY_FILE, LOCK_FILE, COMPACT_FILE = (
    "design.parquet",
    "study.toml",
    "study.lock",
    "results.parquet",
)
FIXED_COLUMNS = ("point", "policy", "replicate", "seed", "run")
_META_KEY = b"zonesim"
_TOP_KEYS = (
    "name",
    "description",
    "scenario",
    "config",
    "policies",
    "replicates",
    "years",
    "warmup_days",
    "seed",
    "population",
    "overrides",
    "retries",
    "design",
    "outputs",
    "executor",
    "analysis",
)
_DESIGN_KEYS = ("method", "n", "seed", "calc_second_order", "num_levels", "parameters")
_PARAM_KEYS = ("bounds", "values", "levels")
_OUTPUT_KEYS = ("scorecard", "timeseries")
_EXECUTOR_KEYS = ("kind", "workers", "site", "address")
_ANALYSIS_KEYS = ("metrics", "num_resamples", "conf_level")
_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?:\[(\d+)\])?$")


# ---------------------------------------------------------------------------------------------
# The study: what to run
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One design parameter.

    key: as written in the study (``parameters.care.gp_contacts_per_year[2]``); target:
    ``config`` or ``policy``; path: the configuration path or the lever name, without the
    index; index: the tuple element, or None; kind: float, int, bool or str; bounds / values /
    levels: as given; valid: the schema's own range (lo, hi); unit: the schema's unit.
    """

    key: str
    target: str
    path: str
    index: int | None
    kind: str
    bounds: tuple[float, float] | None = None
    values: tuple[Any, ...] | None = None
    levels: int | None = None
    valid: tuple[float | None, float | None] = (None, None)
    unit: str = ""

    def convert(self, value: Any) -> Any:
        """A sampled value in this parameter's type (integers are rounded)."""
        value = V.plain(value)
        if self.kind == "int" and isinstance(value, float):
            return round(value)
        if self.kind == "float" and V.is_int(value):
            return float(value)
        return value


@dataclass(frozen=True)
class Design:
    """The design over parameters: method (none, grid, lhs, sobol, morris), its parameters, the
    number ``n`` (sobol: base samples; lhs: points; morris: trajectories), the sampling seed,
    ``calc_second_order`` (sobol) and ``num_levels`` (morris)."""

    method: str = "none"
    parameters: tuple[Parameter, ...] = ()
    n: int | None = None
    seed: int = 0
    calc_second_order: bool = False
    num_levels: int = 4

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    def points(self) -> list[list[Any]]:
        """The design points, one list of values per point (in each parameter's type)."""
        from . import sensitivity

        values = []
        for p in self.parameters:
            if p.values is not None:
                values.append(list(p.values))
            elif p.levels is not None and p.bounds is not None:
                import numpy as np

                grid = [p.convert(float(v)) for v in np.linspace(*p.bounds, p.levels)]
                values.append(list(dict.fromkeys(grid)))
            else:
                values.append(None)
        raw = sensitivity.sample(
            self.method,
            self.keys,
            bounds=[p.bounds for p in self.parameters],
            values=values,
            n=self.n,
            seed=self.seed,
            calc_second_order=self.calc_second_order,
            num_levels=self.num_levels,
        )
        return [[p.convert(v) for p, v in zip(self.parameters, row, strict=True)] for row in raw]


@dataclass(frozen=True)
class Study:
    """A sweep study (see the module docstring and docs/sweeps.md for the file format).

    Shared with :class:`zonesim.experiment.Experiment`: name, scenario, config, policies,
    years, warmup_days, seed, population, overrides (``policy.<lever>=value`` sets a lever of
    every policy). Own: replicates (>= 1), retries (extra attempts of a failing run), design,
    timeseries (keep the monthly series), executor (the ``[executor]`` table: kind, workers,
    site, address), analysis (the ``[analysis]`` table: metrics, num_resamples, conf_level).
    """

    name: str = "sweep"
    description: str = ""
    scenario: str = "baseline"
    config: str | None = None
    policies: tuple[str, ...] = ("status_quo",)
    replicates: int = 1
    years: float = 1.0
    warmup_days: int = WARMUP_DAYS
    seed: int = 2020
    population: int | None = None
    overrides: tuple[str, ...] = ()
    retries: int = DEFAULT_RETRIES
    design: Design = field(default_factory=Design)
    timeseries: bool = True
    executor: Mapping[str, Any] = field(default_factory=dict)
    analysis: Mapping[str, Any] = field(default_factory=dict)
    source: str = field(default="<study>", compare=False)
    text: str | None = field(default=None, compare=False, repr=False)

    def seeds(self) -> list[int]:
        """The seed of each replicate: the same under every policy and design point."""
        from .experiment import replicate_seed

        return [replicate_seed(self.seed, r) for r in range(self.replicates)]

    def to_dict(self) -> dict[str, Any]:
        """The study as a TOML-able dict (what identifies it; paths as resolved)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("source", "text", "design", "executor", "analysis"):
                continue
            v = getattr(self, f.name)
            if v is None:
                continue
            out[f.name] = list(v) if isinstance(v, tuple) else v
        d = self.design
        design: dict[str, Any] = {"method": d.method, "seed": d.seed}
        if d.n is not None:
            design["n"] = d.n
        if d.method == "sobol":
            design["calc_second_order"] = d.calc_second_order
        if d.method == "morris":
            design["num_levels"] = d.num_levels
        params: dict[str, Any] = {}
        for p in d.parameters:
            spec: dict[str, Any] = {}
            if p.bounds is not None:
                spec["bounds"] = list(p.bounds)
            if p.values is not None:
                spec["values"] = list(p.values)
            if p.levels is not None:
                spec["levels"] = p.levels
            params[p.key] = spec
        design["parameters"] = params
        out["design"] = design
        out["outputs"] = {"scorecard": True, "timeseries": self.timeseries}
        if self.executor:
            out["executor"] = {k: v for k, v in self.executor.items() if k != "source"}
        if self.analysis:
            out["analysis"] = dict(self.analysis)
        return out


def _err(expected: str, source: str, key: str, value: Any = None, show: bool = True):
    return ZonesimInputError(expected, source=source, field=key, value=value, show_value=show)


def _unknown(key: str, allowed: Iterable[str], source: str, prefix: str = ""):
    import difflib

    allowed = sorted(allowed)
    match = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f" (did you mean '{match[0]}'?)" if match else ""
    return _err(
        f"unknown key{hint}; expected one of: {', '.join(allowed)}",
        source,
        f"{prefix}{key}",
        None,
        False,
    )


def _table(value: Any, source: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _err("expected a table of keys", source, key, value)
    return value


def _int(value: Any, source: str, key: str, lo: int, hi: int, what: str = "an integer") -> int:
    return V.check_int(
        value,
        field=key,
        source=source,
        lo=lo,
        hi=hi,
        integral_float=True,
        expected=f"expected {what} from {lo} to {hi}",
    )


def _bool(value: Any, source: str, key: str) -> bool:
    return V.check_bool(value, field=key, source=source)


# --- the schema: what a design parameter may name ---------------------------------------------


@cache
def _catalog() -> dict[str, dict[str, Any]]:
    """Every key a design may vary: path -> target, kind, element kind, length, range, unit,
    choices, default."""
    from .config import Config, PolicyConfig

    out: dict[str, dict[str, Any]] = {}

    def kind_of(tp: Any) -> tuple[str, str | None, bool]:
        origin = typing.get_origin(tp)
        if origin is tuple:
            args = typing.get_args(tp)
            return "tuple", {int: "int", float: "float"}.get(args[0], "float"), True
        return {bool: "bool", int: "int", float: "float", str: "str"}[tp], None, False

    def walk(obj: Any, prefix: str) -> None:
        hints = typing.get_type_hints(type(obj))
        for f in dataclasses.fields(obj):
            if f.metadata.get("internal"):
                continue
            v = getattr(obj, f.name)
            path = f"{prefix}{f.name}"
            if dataclasses.is_dataclass(v):
                walk(v, path + ".")
                continue
            kind, elem, _ = kind_of(hints[f.name])
            out[path] = {
                "target": "config",
                "kind": kind,
                "elem": elem,
                "length": len(v) if isinstance(v, tuple) else None,
                "lo": f.metadata.get("lo"),
                "hi": f.metadata.get("hi"),
                "unit": f.metadata.get("unit", ""),
                "choices": f.metadata.get("choices"),
            }

    walk(Config(), "")
    hints = typing.get_type_hints(PolicyConfig)
    for f in dataclasses.fields(PolicyConfig):
        if f.name in ("name", "description"):
            continue
        kind, elem, _ = kind_of(hints[f.name])
        out[f"policy.{f.name}"] = {
            "target": "policy",
            "kind": kind,
            "elem": elem,
            "length": None,
            "lo": f.metadata.get("lo"),
            "hi": f.metadata.get("hi"),
            "unit": f.metadata.get("unit", ""),
            "choices": f.metadata.get("choices"),
        }
    return out


def _number(v: Any) -> bool:
    return V.is_number(v) and math.isfinite(v)


def _parse_parameter(key: str, spec: Any, method: str, source: str, where: str) -> Parameter:
    """One ``[design.parameters]`` entry, checked against the schema."""
    m = _KEY_RE.match(key)
    cat = _catalog()
    path, index = (m.group(1), m.group(2)) if m else (key, None)
    info = cat.get(path)
    if info is None:
        import difflib

        match = difflib.get_close_matches(path, list(cat), n=1, cutoff=0.6)
        hint = f" (did you mean '{match[0]}'?)" if match else ""
        raise _err(
            f"unknown parameter{hint}; expected a configuration path such as "
            "parameters.switching.cm_work_hours_per_day, an element such as "
            "parameters.care.gp_contacts_per_year[2], or policy.<lever> (zonesim policies "
            "status_quo lists the levers)",
            source,
            where,
            None,
            False,
        )
    kind = info["kind"]
    if kind == "tuple":
        if index is None:
            raise _err(
                f"this parameter is a list of {info['length']} values; vary one element, "
                f"e.g. {path}[0]",
                source,
                where,
                None,
                False,
            )
        index_i = int(index)
        if index_i >= info["length"]:
            raise _err(
                f"no element {index_i}; expected an index from 0 to {info['length'] - 1}",
                source,
                where,
                None,
                False,
            )
        kind = info["elem"]
    elif index is not None:
        raise _err("this parameter is not a list; drop the [index]", source, where, None, False)
    index_v = None if index is None else int(index)
    target = info["target"]
    lever = path.removeprefix("policy.") if target == "policy" else path

    if isinstance(spec, list):
        spec = {"values": spec} if method == "grid" else {"bounds": spec}
    if not isinstance(spec, dict):
        raise _err(
            "expected [low, high] bounds or a table with bounds, values or levels",
            source,
            where,
            spec,
        )
    for k in spec:
        if k not in _PARAM_KEYS:
            raise _unknown(k, _PARAM_KEYS, source, where + ".")
    lo_valid, hi_valid = info["lo"], info["hi"]
    bounds = values = levels = None
    if "bounds" in spec:
        b = spec["bounds"]
        bw = where + ".bounds"
        if kind not in ("int", "float"):
            raise _err(f"a {kind} parameter has no bounds; list its values (grid)", source, bw, b)
        if not isinstance(b, list) or len(b) != 2 or not all(_number(x) for x in b):
            raise _err("expected [low, high], two finite numbers", source, bw, b)
        lo, hi = float(b[0]), float(b[1])
        if not lo < hi:
            raise _err("expected low < high", source, bw, b)
        unit = f" ({info['unit']})" if info["unit"] else ""
        if lo_valid is not None and lo < lo_valid:
            raise _err(
                f"expected bounds within the parameter's range: low >= {lo_valid:g}{unit}",
                source,
                bw,
                b,
            )
        if hi_valid is not None and hi > hi_valid:
            raise _err(
                f"expected bounds within the parameter's range: high <= {hi_valid:g}{unit}",
                source,
                bw,
                b,
            )
        if kind == "int" and math.floor(hi) < math.ceil(lo):
            raise _err("expected bounds that contain an integer", source, bw, b)
        bounds = (lo, hi)
    if "values" in spec:
        vals = spec["values"]
        vw = where + ".values"
        if method != "grid":
            raise _err(
                f"a {method} design samples within bounds; give bounds = [low, high]",
                source,
                vw,
                vals,
            )
        if not isinstance(vals, list) or not vals:
            raise _err("expected a non-empty list of values", source, vw, vals)
        checked = []
        for i, v in enumerate(vals):
            checked.append(_check_value(v, kind, info, source, f"{vw}[{i}]"))
        if len(set(map(repr, checked))) != len(checked):
            raise _err("expected each value once", source, vw, vals)
        values = tuple(checked)
    if "levels" in spec:
        lv = where + ".levels"
        if method != "grid":
            raise _err("levels belong to grid designs", source, lv, spec["levels"])
        levels = _int(spec["levels"], source, lv, 2, 10_000, "a number of levels")
        if bounds is None:
            raise _err("levels need bounds = [low, high]", source, lv, levels)
    if method == "grid":
        if values is None and levels is None:
            raise _err("a grid needs values = [...] or bounds with levels", source, where, spec)
        if values is not None and bounds is not None:
            raise _err("give values or bounds with levels, not both", source, where, spec)
    elif bounds is None:
        raise _err(f"a {method} design needs bounds = [low, high]", source, where, spec)
    return Parameter(
        key=key,
        target=target,
        path=lever,
        index=index_v,
        kind=kind,
        bounds=bounds,
        values=values,
        levels=levels,
        valid=(lo_valid, hi_valid),
        unit=info["unit"],
    )


def _check_value(v: Any, kind: str, info: dict, source: str, where: str) -> Any:
    v = V.plain(v)  # numpy scalars as their Python kinds
    if kind == "bool":
        return _bool(v, source, where)
    if kind == "str":
        return V.check_str(v, field=where, source=source, choices=info["choices"])
    if not _number(v):
        raise _err("expected a finite number", source, where, v)
    if kind == "int":
        if isinstance(v, float) and not v.is_integer():
            raise _err("expected an integer", source, where, v)
        v = int(v)
    else:
        v = float(v)
    unit = f" ({info['unit']})" if info["unit"] else ""
    if info["lo"] is not None and v < info["lo"]:
        raise _err(f"expected a value >= {info['lo']:g}{unit}", source, where, v)
    if info["hi"] is not None and v > info["hi"]:
        raise _err(f"expected a value <= {info['hi']:g}{unit}", source, where, v)
    return v


def _flatten_parameters(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"parameters": {"switching": {"x": [1, 2]}}}`` -> ``{"parameters.switching.x": ...}``;
    quoted dotted keys pass through. A leaf is a list or a table of bounds/values/levels."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and not (set(v) & set(_PARAM_KEYS)):
            out.update(_flatten_parameters(v, key + "."))
        else:
            out[key] = v
    return out


def _parse_design(data: Any, source: str, study_seed: int) -> Design:
    from . import sensitivity

    data = _table(data, source, "design")
    for k in data:
        if k not in _DESIGN_KEYS:
            raise _unknown(k, _DESIGN_KEYS, source, "design.")
    params_raw = _table(data.get("parameters", {}), source, "design.parameters")
    method = data.get("method", "grid" if params_raw else "none")
    if method not in sensitivity.METHODS:
        raise _err(
            f"expected one of: {', '.join(sensitivity.METHODS)}", source, "design.method", method
        )
    flat = _flatten_parameters(params_raw)
    if method == "none" and flat:
        raise _err("a design with parameters needs a method", source, "design.method", method)
    if method != "none" and not flat:
        raise _err(
            f"a {method} design needs parameters ([design.parameters])",
            source,
            "design.parameters",
            None,
            False,
        )
    params = tuple(
        _parse_parameter(k, v, method, source, f"design.parameters.{k}") for k, v in flat.items()
    )
    seen: dict[tuple, str] = {}
    for p in params:
        for ident in ((p.target, p.path, p.index), (p.target, p.path, None)):
            if ident in seen and (ident[2] is not None or p.index is None):
                raise _err(
                    f"varied twice (also as '{seen[ident]}')",
                    source,
                    f"design.parameters.{p.key}",
                    None,
                    False,
                )
        seen[(p.target, p.path, p.index)] = p.key
        if p.index is None:
            seen[(p.target, p.path, None)] = p.key
    n = data.get("n")
    if method in ("lhs", "sobol", "morris"):
        if n is None:
            what = {"sobol": "base samples", "lhs": "points", "morris": "trajectories"}[method]
            raise _err(
                f"a {method} design needs n (its number of {what})", source, "design.n", None, False
            )
        n = _int(n, source, "design.n", 2 if method != "lhs" else 1, 10_000_000)
    elif n is not None:
        raise _err(f"a {method} design takes no n", source, "design.n", n)
    seed = _int(data.get("seed", study_seed), source, "design.seed", 0, 2**32 - 1, "a seed")
    second = data.get("calc_second_order", False)
    if "calc_second_order" in data and method != "sobol":
        raise _err(
            "calc_second_order belongs to sobol designs", source, "design.calc_second_order", second
        )
    second = _bool(second, source, "design.calc_second_order")
    levels = data.get("num_levels", 4)
    if "num_levels" in data and method != "morris":
        raise _err("num_levels belongs to morris designs", source, "design.num_levels", levels)
    levels = _int(levels, source, "design.num_levels", 2, 1000, "a number of levels")
    if method in ("sobol", "morris"):
        for p in params:
            if p.kind not in ("int", "float"):  # pragma: no cover - bounds imply a number
                raise _err("expected a numeric parameter", source, f"design.parameters.{p.key}")
    return Design(method, params, n, seed, second, levels)


def _parse_executor(data: Any, source: str, base_dir: Path | None) -> dict[str, Any]:
    if isinstance(data, str):  # executor = "local"
        data = {"kind": data}
    data = _table(data, source, "executor")
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k not in _EXECUTOR_KEYS:
            raise _unknown(k, _EXECUTOR_KEYS, source, "executor.")
        if k == "workers":
            out[k] = _int(v, source, "executor.workers", 1, 100_000, "a number of workers")
        else:
            if not isinstance(v, str) or not v:
                raise _err("expected a string", source, f"executor.{k}", v)
            out[k] = v
    from .executors import check_choice

    if "kind" in out:
        kind = out["kind"]
        if kind != "address":
            if base_dir is not None and kind.endswith(".toml") and not Path(kind).is_absolute():
                out["kind"] = kind = str(base_dir / kind)
            check_choice(kind, source, "executor.kind")
        elif "address" not in out:
            raise _err("expected an address = 'tcp://host:port'", source, "executor.address")
    if "site" in out and base_dir is not None:
        p = Path(out["site"])
        if (p.suffix == ".toml" or "/" in out["site"]) and not p.is_absolute():
            out["site"] = str(base_dir / p)
    if out:
        out["source"] = source
    return out


def _parse_analysis(data: Any, source: str) -> dict[str, Any]:
    data = _table(data, source, "analysis")
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k not in _ANALYSIS_KEYS:
            raise _unknown(k, _ANALYSIS_KEYS, source, "analysis.")
        if k == "metrics":
            if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
                raise _err(
                    "expected a non-empty list of metric names", source, "analysis.metrics", v
                )
            from .metrics import metric_sections

            known = metric_sections()
            for i, name in enumerate(v):
                if name not in known:
                    raise _err(
                        f"unknown metric; expected one of: {', '.join(known)}",
                        source,
                        f"analysis.metrics[{i}]",
                        name,
                    )
            out[k] = list(v)
        elif k == "num_resamples":
            out[k] = _int(v, source, "analysis.num_resamples", 10, 1_000_000)
        else:
            if not _number(v) or not 0 < v < 1:
                raise _err(
                    "expected a level between 0 and 1, e.g. 0.95", source, "analysis.conf_level", v
                )
            out[k] = float(v)
    return out


def _study_from_mapping(
    data: Any, *, source: str, base_dir: Path | None, text: str | None
) -> Study:
    from .experiment import _relative_to, _validate_field

    data = _table(data, source, "<root>")
    changes: dict[str, Any] = {}
    for key in data:
        if key not in _TOP_KEYS:
            raise _unknown(key, _TOP_KEYS, source)
    seed = data.get("seed", Study.seed)
    for key, value in data.items():
        where = {"source": source, "field": key, "value": value}
        if key in ("design", "outputs", "executor", "analysis"):
            continue
        if key == "replicates":
            changes[key] = _int(value, source, key, 1, 100_000, "a number of replicates")
        elif key == "retries":
            changes[key] = _int(value, source, key, 0, 100, "a number of retries")
        elif key == "description":
            if not isinstance(value, str):
                raise _err("expected a string", source, key, value)
            changes[key] = value
        elif key == "policies":
            if isinstance(value, str):
                value = [value]
            changes[key] = _validate_field(key, value, where)
        else:
            changes[key] = _validate_field(key, value, where)
    seed = changes.get("seed", seed)
    if base_dir is not None:
        for key in ("config", "scenario"):
            if changes.get(key):
                changes[key] = _relative_to(changes[key], base_dir, key != "config")
        if "policies" in changes:
            changes["policies"] = tuple(
                _relative_to(p, base_dir, True) for p in changes["policies"]
            )
    changes["design"] = _parse_design(data.get("design", {}), source, seed)
    outputs = _table(data.get("outputs", {}), source, "outputs")
    for k, v in outputs.items():
        if k not in _OUTPUT_KEYS:
            raise _unknown(k, _OUTPUT_KEYS, source, "outputs.")
        _bool(v, source, f"outputs.{k}")
    if outputs.get("scorecard", True) is not True:
        raise _err(
            "the scorecard is always kept; expected true", source, "outputs.scorecard", False
        )
    changes["timeseries"] = outputs.get("timeseries", True)
    changes["executor"] = _parse_executor(data.get("executor", {}), source, base_dir)
    changes["analysis"] = _parse_analysis(data.get("analysis", {}), source)
    if "name" not in changes and base_dir is not None:
        stem = Path(source).stem
        changes["name"] = stem if re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", stem) else "sweep"
    return Study(**changes, source=source, text=text)


def load_study(path: str | Path) -> Study:
    """Read and check a study TOML. Any unknown key or bad value raises
    :class:`~zonesim.errors.ZonesimInputError` naming the file and the key (nothing runs)."""
    from .config import _read_toml

    path = Path(path)
    data = _read_toml(path)
    text = path.read_text(encoding="utf-8")
    return _study_from_mapping(data, source=str(path), base_dir=path.resolve().parent, text=text)


def _as_study(study: Study | str | Path | Mapping[str, Any]) -> Study:
    if isinstance(study, Study):
        return study
    if isinstance(study, (str, Path)):
        p = Path(study)
        if p.is_dir() and (p / STUDY_FILE).exists():
            raise ZonesimInputError(
                "this is a study's results folder; give the study file (its copy in the "
                f"folder, {STUDY_FILE}, has paths relative to the original)",
                source="<argument>",
                field="study",
                value=str(study),
            )
        return load_study(p)
    if isinstance(study, Mapping):
        return _study_from_mapping(dict(study), source="<study>", base_dir=None, text=None)
    raise ZonesimInputError(
        "expected a Study, a study TOML path or a dict",
        source="<argument>",
        field="study",
        value=study,
    )


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


@dataclass
class SweepPlan:
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
            f"{s.years:g} year(s) after {s.warmup_days} days of warm-up, "
            f"{self.base_config.zone.population:,} inhabitants"
        )


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


def resolve_study(study: Study | str | Path | Mapping[str, Any]) -> SweepPlan:
    """Load everything and resolve every run (configuration and policy at each design point,
    budget envelopes, seeds, run names). Raises :class:`~zonesim.errors.ZonesimInputError` for
    any bad input, before anything runs or is written."""
    import pandas as pd

    from . import __version__
    from .config import apply_overrides, load_config, load_policy, parse_override, to_dict
    from .experiment import _git_info
    from .policies import apply_budget, preset_names

    s = _as_study(study)
    config_ov, policy_ov = [], []
    for text in s.overrides:
        key, _ = parse_override(text)
        (policy_ov if key.startswith("policy.") else config_ov).append(text)
    with _named_by_study(s, "scenario"):
        base = load_config(s.config, config_ov, scenario=s.scenario)
    if s.population is not None:
        try:
            base = apply_overrides(base, {"zone.population": s.population})
        except ZonesimInputError as exc:  # name the study's key, not an override
            raise ZonesimInputError(
                exc.expected, source=s.source, field="population", value=s.population
            ) from None
    from .geography import settle_zone_population  # a CSV zone: its true population

    base = settle_zone_population(base, requested=s.population)
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
    base_dict = to_dict(base)
    tasks: dict[str, RunTask] = {}
    rows: list[dict[str, Any]] = []
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
        try:
            cfg = apply_overrides(base, cfg_changes) if cfg_changes else base
            cfg_dict = to_dict(cfg) if cfg_changes else base_dict
            resolved = {}
            for label, pol in policies.items():
                pp = load_policy(pol, lever_changes) if lever_changes else pol
                resolved[label] = apply_budget(pp, cfg, cfg.zone.population)
        except ZonesimInputError as exc:
            _reraise_for_point(exc, s, keys, row, i)
        values = tuple(zip(keys, row, strict=True))
        for label, pol in resolved.items():
            pol_dict = to_dict(pol)
            digest = parameters_digest(cfg_dict, pol_dict)
            config_hash = digest[:16]
            for r, seed in enumerate(seeds):
                ident = run_identity(digest, label, seed, r, s.years, s.warmup_days, s.timeseries)
                run = _hash(ident)
                if run not in tasks:
                    tasks[run] = RunTask(
                        run=run,
                        folder="",
                        config=cfg,
                        policy=pol,
                        label=label,
                        replicate=r,
                        seed=seed,
                        years=s.years,
                        warmup_days=s.warmup_days,
                        timeseries=s.timeseries,
                        values=values,
                        config_hash=config_hash,
                        provenance=provenance,
                    )
                rows.append(
                    {
                        "point": i,
                        "policy": label,
                        "replicate": r,
                        "seed": seed,
                        "run": run,
                        **dict(values),
                    }
                )
    manifest = pd.DataFrame(rows, columns=[*FIXED_COLUMNS, *keys])
    for p in params:
        manifest[p.key] = manifest[p.key].astype(
            {"float": "float64", "int": "int64", "bool": "bool", "str": "object"}[p.kind]
        )
    for c in ("point", "replicate"):
        manifest[c] = manifest[c].astype("int64")
    manifest["seed"] = manifest["seed"].astype("int64")
    study_hash = _hash(
        {
            "study": s.to_dict(),
            "config": base_dict,
            "policies": {k: to_dict(v) for k, v in policies.items()},
            "schema": RESULTS_SCHEMA_VERSION,
        },
        16,
    )
    return SweepPlan(s, base, policies, seeds, points, manifest, tasks, study_hash)


@contextlib.contextmanager
def _named_by_study(s: Study, key: str):
    """Errors about a name given in the study (an unknown policy or scenario) name the study
    file and its key rather than ``<argument>``."""
    try:
        yield
    except ZonesimInputError as exc:
        if exc.source not in (None, "<argument>"):
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


def _result_table(task: RunTask, card: dict, ts: Any, seconds: float, messages: list[str]):
    """One run's rows: month 0 is the scorecard of the whole measured window, months 1.. the
    monthly series (when kept). Provenance goes into the file's metadata."""
    import numpy as np
    import pyarrow as pa

    from .config import to_dict
    from .core.state import DAYS_PER_YEAR

    months = 0 if (ts is None or not task.timeseries) else len(ts)
    n = 1 + months
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
    month = [0] + ([int(x) for x in ts["month"]] if months else [])
    day = [end_day] + ([int(x) for x in ts["day"]] if months else [])
    cols["month"] = pa.array(month, pa.int32())
    cols["day"] = pa.array(day, pa.int32())
    ts_cols = [c for c in ts.columns if c not in ("day", "month")] if months else []
    score_cols = list(card)
    for name in dict.fromkeys(score_cols + ts_cols):
        first = float(card.get(name, float("nan")))
        rest = ts[name].to_numpy(dtype=float) if name in ts_cols else np.full(months, np.nan)
        cols[name] = pa.array(np.concatenate([[first], rest]), pa.float64())
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
            "timeseries": task.timeseries,
            "values": dict(task.values),
        },
        "config": to_dict(task.config),
        "policy": to_dict(task.policy),
        "warnings": messages,
    }
    table = pa.table(cols)
    return table.replace_schema_metadata({_META_KEY: json.dumps(meta, default=str).encode()})


def _simulate(task: RunTask) -> tuple[dict, Any]:
    """The simulation of one run (a seam: tests replace it to make runs fail or stall)."""
    from .experiment import run_replicate

    return run_replicate(
        task.config, task.policy, task.seed, task.years, task.warmup_days, population=None
    )


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
            card, ts = _simulate(task)
        seconds = time.perf_counter() - t_sim
        messages = list(dict.fromkeys(str(w.message) for w in caught))
        table = _result_table(task, card, ts, seconds, messages)
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


def _write_manifest(folder: Path, plan: SweepPlan) -> None:
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
        from .experiment import toml_dumps

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
    for sub in (RUNS, FAILED, ""):
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
    ``executor``: ``"sequential"``, ``"local"``, ``"slurm"`` (with ``site``), a scheduler
    address, a profile name or path (``configs/executors/``), a
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
    import concurrent.futures as cf

    from .executors import ExecutorSpec, resolve_executor

    s = _as_study(study)
    if retries is not None:
        retries = _int(retries, "<argument>", "retries", 0, 100, "a number of retries")
        s = dataclasses.replace(s, retries=retries)
    given: cf.Executor | None = None
    client = None
    spec = None
    if isinstance(executor, cf.Executor):
        given = executor
    elif (
        executor is not None
        and type(executor).__name__ == "Client"
        and hasattr(executor, "get_executor")
    ):
        client = executor
    else:
        spec = resolve_executor(
            executor
            if isinstance(executor, (str, ExecutorSpec)) or executor is None
            else str(executor),
            workers=workers,
            site=site,
            study=s.executor,
        )
    plan = resolve_study(s)
    if spec is not None and spec.kind in ("sequential", "local"):
        _check_memory(plan, min(spec.capacity(), max(plan.n_runs, 1)))
    folder = Path(out) if out is not None else default_folder(s)
    if folder.exists() and not folder.is_dir():
        raise _err("expected a folder (or nothing) there", "<argument>", "out", str(folder))
    return _run_plan(plan, folder, spec, given, client, workers, progress, on_result)


def _check_memory(plan: SweepPlan, at_once: int) -> None:
    """The memory guard for runs on this machine, up front: the largest run of the study,
    ``at_once`` of them side by side, must fit in the memory available now."""
    from .core.state import DAYS_PER_YEAR
    from .memory import check_memory
    from .population import estimate_run_bytes

    if not plan.tasks:
        return
    task = max(plan.tasks.values(), key=lambda t: t.config.zone.population)
    need, what = estimate_run_bytes(
        task.config, years=task.years + task.warmup_days / DAYS_PER_YEAR
    )
    check_memory(need, f"{plan.study.source}: the largest run, {what},", runs=at_once)


def _run_plan(plan, folder, spec, given, client, workers, progress, on_result) -> SweepReport:
    from .executors import ExecutorHandle, open_executor

    s = plan.study
    t0 = time.perf_counter()
    for sub in (RUNS, FAILED, ATTEMPTS):
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
    lock.acquire(info)
    try:
        _warn_if_other_code(lock.previous, info, folder)
        _clean_temporaries(folder)
        _write_manifest(folder, plan)
        done = _done_runs(folder) & set(plan.tasks)
        todo = [
            dataclasses.replace(t, folder=str(folder.resolve()))
            for run, t in plan.tasks.items()
            if run not in done
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
            return report
        if given is not None:
            cap = workers or getattr(given, "_max_workers", None) or 1
            ctx = contextlib.nullcontext(ExecutorHandle(given, int(cap), type(given).__name__))
        elif client is not None:
            from .executors import _warmup_plugin

            client.register_plugin(_warmup_plugin())
            cap = sum(
                w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()
            )
            ctx = contextlib.nullcontext(
                ExecutorHandle(client.get_executor(pure=False), max(1, cap), "Dask client", client)
            )
        else:
            ctx = open_executor(spec)
        with ctx as handle:
            report.executor = handle.description
            _drive(folder, todo, handle, s.retries, report, progress, on_result)
        report.wall_s = time.perf_counter() - t0
        return report
    finally:
        lock.release()


def _warn_if_other_code(previous: dict[str, Any], now: dict[str, Any], folder: Path) -> None:
    """Resuming with another zonesim version or commit mixes results of two codes in one study
    (run names hash the inputs, not the code): say so."""
    if previous.get("command") != "sweep":
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


def load_results(folder: str | Path, *, timeseries: bool = False, provenance: bool = False):
    """The results of a sweep as one tidy pandas DataFrame.

    One row per design point x policy x replicate with a result (``timeseries=True``: per
    month of the measured window, with ``month`` and ``day``): ``point``, ``policy``,
    ``replicate``, ``seed``, the design parameters (one column each, named by their key),
    every metric, and ``run`` (the run's name). ``provenance=True`` adds ``config_hash``,
    ``zonesim_version``, ``git_commit`` and ``run_seconds``. Runs not done yet (or failed) are
    absent; :func:`status` counts them. Works before and after :func:`compact`.
    """
    import pandas as pd

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
    df = df.drop_duplicates(["run", "month"], keep="first")
    df = df[df["month"] > 0] if timeseries else df[df["month"] == 0]
    keep = ["run"] + (["month", "day"] if timeseries else [])
    keep += [c for c in metric_cols if c in df.columns]
    if provenance:
        keep += [c for c in prov_cols if c in df.columns]
    if manifest is None:
        design = [c for c in df.columns if "." in c]
        front = ["policy", "replicate", "seed", *design]
        out = df[front + keep].sort_values(["run", *(["month"] if timeseries else [])])
        return out.reset_index(drop=True)
    sub = df[keep].sort_values(["run", *(["month"] if timeseries else [])])
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

    from . import sensitivity

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


# ``zonesim.sweep`` names both this module and its function :func:`sweep`: the package's
# attribute is the module (Python binds a submodule there on import), made callable so that
# ``zonesim.sweep(study, ...)`` runs a sweep while ``zonesim.sweep.load_results`` and
# ``import zonesim.sweep`` keep working.
class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> SweepReport:
        return sweep(*args, **kwargs)


def _make_callable() -> None:
    import inspect

    module = sys.modules[__name__]
    module.__class__ = _CallableModule
    module.__signature__ = inspect.signature(sweep)  # type: ignore[attr-defined]


_make_callable()
