"""The study: what to run (a scenario x policies x replicates x an optional design), read from
a TOML file or a dict and checked against the configuration schema before anything runs.

See docs/sweeps.md for the file format. :class:`Study` is what both ``zonesim compare`` (an
:class:`zonesim.experiment.Experiment` becomes a one-point study) and ``zonesim sweep`` run.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .. import validation as V
from ..config import WARMUP_DAYS
from ..errors import ZonesimInputError
from .psa import PSA, parse_psa

__all__ = ["RESULTS_SCHEMA_VERSION", "Design", "Parameter", "Study", "load_study"]

# Bump when the content or layout of a run's file changes: runs then get new names (and rerun).
# 2: the warm-up is shared by the policies of a replicate (branching), per-year scorecards.
RESULTS_SCHEMA_VERSION = 2
DEFAULT_RETRIES = 2
DEFAULT_ANALYSIS_METRICS = ("qalys_per_capita", "cost_per_capita_eur", "unmet_need_days_per_1000")
RUNS, FAILED, ATTEMPTS, WARMUPS = "runs", "failed", "attempts", "warmups"
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
    "warmup_policy",
    "checkpoint",
    "psa",
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
        from .. import sensitivity

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
    every policy), warmup_policy (the policy every replicate warms up under, before each
    policy is branched from that state), checkpoint (a saved model every replicate starts
    from instead of a warm-up), psa (parameter uncertainty, :mod:`zonesim.runs.psa`).
    Own: replicates (>= 1), retries (extra attempts of a failing run), design,
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
    warmup_policy: str = "status_quo"
    checkpoint: str | None = None
    psa: PSA = field(default_factory=PSA)
    retries: int = DEFAULT_RETRIES
    design: Design = field(default_factory=Design)
    timeseries: bool = True
    executor: Mapping[str, Any] = field(default_factory=dict)
    analysis: Mapping[str, Any] = field(default_factory=dict)
    source: str = field(default="<study>", compare=False)
    text: str | None = field(default=None, compare=False, repr=False)

    def seeds(self) -> list[int]:
        """The seed of each replicate: the same under every policy and design point."""
        from .fields import replicate_seed

        return [replicate_seed(self.seed, r) for r in range(self.replicates)]

    def to_dict(self) -> dict[str, Any]:
        """The study as a TOML-able dict (what identifies it; paths as resolved)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("source", "text", "design", "executor", "analysis", "psa"):
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
        if self.psa.enabled:
            out["psa"] = self.psa.to_dict()
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
    from ..config import Config, PolicyConfig

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
    from .. import sensitivity

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
    from ..executors import check_choice

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
            from ..metrics import metric_sections

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
    from .fields import _relative_to, _validate_field

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
        if key == "psa":
            changes[key] = parse_psa(value, source)
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
        for key in ("config", "scenario", "warmup_policy", "checkpoint"):
            if changes.get(key):
                changes[key] = _relative_to(
                    changes[key], base_dir, key not in ("config", "checkpoint")
                )
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
    from ..config import _read_toml

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
