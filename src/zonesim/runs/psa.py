"""Probabilistic sensitivity analysis: uncertain parameters drawn once per replicate.

With ``psa`` on, replicate ``r`` of a study runs under its own draw of the uncertain parameters,
and every policy of that replicate (its warm-up included) runs under the same draw, so the
paired differences between policies carry both the model's own noise and the parameter
uncertainty (MODEL.md section 7: "parameter draws, each run under every strategy with the same
random numbers"). The draw is a pure function of the study seed and the replicate
(``numpy.random.SeedSequence([seed, replicate, PSA_STREAM])``), in the order of the parameters'
paths, so a study redraws the same values when resumed.

What is drawn:

* by default, every **flagged assumption** of the parameter schema (``source = "assumption"`` in
  :mod:`zonesim.config`) that is a number, under ``parameters.``: uniform over its range in the
  schema (``P(..., psa=(low, high))``) where the schema gives one, else uniform over its default
  value +/- ``spread`` (20% unless the study says otherwise), clipped to the parameter's valid
  bounds. Parameters whose default is 0 and integers are left alone (no relative range), as are
  lists of values (per need level), whose elements move together with other lists;
* any parameter the study names in ``[psa.parameters]``, with a distribution:
  ``{dist = "uniform", bounds = [a, b]}``, ``{dist = "triangular", bounds = [a, b], mode = m}``,
  ``{dist = "normal", mean = m, sd = s}`` (clipped to the valid bounds),
  ``{dist = "lognormal", median = m, sd_log = s}``, ``{dist = "beta", alpha = a, beta = b}``
  (for shares); an element of a per-need list as ``"key[i]"``.

``assumptions = false`` in ``[psa]`` draws only the named parameters.

**Fitted ranges**: ``ranges = "fitted.json"`` in ``[psa]`` (``zonesim compare --psa-ranges FILE``;
in Python ``psa={"ranges": "fit/fitted.json"}``) draws the parameters of a file written by
``zonesim calibrate --fit`` from the ranges it gives (a file or its folder; a path relative to the
study file). The file is ``{"parameters": {"<path>": {"value": v, "dist": "uniform", "bounds":
[a, b]}, ...}, "provenance": {...}}``: each entry a distribution as in ``[psa.parameters]`` plus
the fitted ``value`` (checked to lie within the bounds; the draws replace it). Parameters the
study names in ``[psa.parameters]`` take precedence over the file's; flagged assumptions in
neither keep their own range (unless ``assumptions = false``). The file is read when the study
is read: the draws (and the runs' names) follow its content, not its name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ZonesimInputError

__all__ = [
    "DEFAULT_SPREAD",
    "PSA",
    "Uncertain",
    "draw_parameters",
    "parse_psa",
    "read_ranges",
    "uncertain",
]

DEFAULT_SPREAD = 0.2
PSA_STREAM = 0x50_53_41  # "PSA": the draws' own stream, apart from every model stream
_DISTS = {
    "uniform": ("bounds",),
    "triangular": ("bounds", "mode"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sd_log"),
    "beta": ("alpha", "beta"),
}
_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)(?:\[(\d+)\])?$")


@dataclass(frozen=True)
class Uncertain:
    """One uncertain parameter: its path (``[i]`` for an element), distribution and arguments,
    and the valid bounds draws are clipped to."""

    key: str
    dist: str
    args: tuple[tuple[str, Any], ...]
    lo: float | None = None
    hi: float | None = None
    integer: bool = False

    def draw(self, rng) -> float:
        a = dict(self.args)
        if self.dist == "uniform":
            v = rng.uniform(*a["bounds"])
        elif self.dist == "triangular":
            lo, hi = a["bounds"]
            v = rng.triangular(lo, a["mode"], hi)
        elif self.dist == "normal":
            v = rng.normal(a["mean"], a["sd"])
        elif self.dist == "lognormal":
            v = a["median"] * math.exp(rng.normal(0.0, a["sd_log"]))
        else:
            v = rng.beta(a["alpha"], a["beta"])
        if self.lo is not None:
            v = max(v, self.lo)
        if self.hi is not None:
            v = min(v, self.hi)
        return round(v) if self.integer else float(v)


@dataclass(frozen=True)
class PSA:
    """A study's parameter uncertainty (off when ``enabled`` is false)."""

    enabled: bool = False
    assumptions: bool = True
    spread: float = DEFAULT_SPREAD
    parameters: tuple[Uncertain, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"assumptions": self.assumptions, "spread": self.spread}
        if self.parameters:
            out["parameters"] = {
                u.key: {
                    "dist": u.dist,
                    **{k: list(v) if isinstance(v, tuple) else v for k, v in u.args},
                }
                for u in self.parameters
            }
        return out

    def uncertain(self) -> list[Uncertain]:
        """Everything drawn, in a fixed order (named parameters replace the default range)."""
        named = {u.key: u for u in self.parameters}
        out = [u for u in uncertain(self.spread) if u.key not in named] if self.assumptions else []
        return sorted([*out, *named.values()], key=lambda u: u.key)


def uncertain(spread: float = DEFAULT_SPREAD) -> list[Uncertain]:
    """The schema's flagged assumptions that PSA draws by default (see the module docstring)."""
    from ..config import is_assumption, iter_parameters

    out = []
    for path, f, v in iter_parameters():
        if not path.startswith("parameters.") or not is_assumption(f):
            continue
        if isinstance(v, bool) or not isinstance(v, float):
            continue
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        rng = f.metadata.get("psa")
        if rng is None:
            if v == 0.0:
                continue
            rng = (v * (1 - spread), v * (1 + spread))
        low, high = sorted(rng)
        if lo is not None:
            low = max(low, lo)
        if hi is not None:
            high = min(high, hi)
        if not high > low:
            continue
        out.append(Uncertain(path, "uniform", (("bounds", (low, high)),), lo, hi))
    return out


def draw_parameters(psa: PSA, seed: int, replicate: int, base: Any = None) -> dict[str, Any]:
    """Replicate ``replicate``'s draw: ``{path: value}`` (elements as ``path[i]``), the same
    for every policy and design point of the study. ``base``: the configuration the draw applies
    to (for list elements; default: the built-in defaults)."""
    import numpy as np

    if not psa.enabled:
        return {}
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(replicate), PSA_STREAM]))
    return {u.key: u.draw(rng) for u in psa.uncertain()}


def as_overrides(draw: Mapping[str, Any], base: Any) -> dict[str, Any]:
    """``{path: value}`` for :func:`zonesim.config.apply_overrides` (list elements set inside
    their list, taken from ``base``)."""
    from ..config import to_dict

    out: dict[str, Any] = {}
    base_dict = None
    for key, v in draw.items():
        m = _KEY_RE.match(key)
        path, idx = m.group(1), m.group(2)
        if idx is None:
            out[path] = v
            continue
        if path not in out:
            if base_dict is None:
                base_dict = to_dict(base)
            cur: Any = base_dict
            for part in path.split("."):
                cur = cur[part]
            out[path] = list(cur)
        out[path][int(idx)] = v
    return out


def _bad(expected: str, source: str, key: str, value: Any = None, show: bool = True):
    return ZonesimInputError(expected, source=source, field=key, value=value, show_value=show)


def parse_psa(data: Any, source: str) -> PSA:
    """A ``[psa]`` table (or ``true``/``false``) from a study or experiment file, checked."""
    if data is None or data is False:
        return PSA()
    if data is True:
        return PSA(enabled=True)
    if isinstance(data, PSA):
        return data
    if not isinstance(data, Mapping):
        raise _bad("expected true, false or a table", source, "psa", data)
    allowed = ("enabled", "assumptions", "spread", "parameters", "ranges")
    for k in data:
        if k not in allowed:
            raise _bad(f"unknown key; expected one of: {', '.join(allowed)}", source, f"psa.{k}")
    enabled = data.get("enabled", True)
    assumptions = data.get("assumptions", True)
    for k, v in (("enabled", enabled), ("assumptions", assumptions)):
        if not isinstance(v, bool):
            raise _bad("expected true or false", source, f"psa.{k}", v)
    spread = data.get("spread", DEFAULT_SPREAD)
    if isinstance(spread, bool) or not isinstance(spread, (int, float)) or not 0 < spread < 1:
        raise _bad(
            "expected a relative spread between 0 and 1 (0.2: +/- 20%)",
            source,
            "psa.spread",
            spread,
        )
    params = data.get("parameters", {})
    if not isinstance(params, Mapping):
        raise _bad("expected a table of parameters", source, "psa.parameters", params)
    named = {k: _parse_uncertain(k, v, source) for k, v in _flat(params).items()}
    if data.get("ranges") is not None:
        fitted = read_ranges(data["ranges"], source, "psa.ranges")
        named = {**{u.key: u for u in fitted}, **named}  # the study's own entries win
    return PSA(bool(enabled), bool(assumptions), float(spread), tuple(named.values()))


def read_ranges(path: Any, source: str = "<argument>", field: str = "--psa-ranges"):
    """The uncertain parameters of a fitted-ranges file (``zonesim calibrate --fit``'s
    ``fitted.json``, or its folder), checked: a list of :class:`Uncertain`. ``source`` /
    ``field``: where the path was given (a relative path is taken relative to ``source``'s
    folder when ``source`` is a file). Any problem raises one
    :class:`~zonesim.errors.ZonesimInputError` naming the file, the field and the value."""
    import json
    from pathlib import Path

    if not isinstance(path, (str, Path)) or not str(path):
        raise _bad("expected the path of a fitted-ranges file (fitted.json)", source, field, path)
    p = Path(path).expanduser()
    if (
        not p.is_absolute()
        and source not in ("<argument>", "<defaults>")
        and Path(source).is_file()
    ):
        p = Path(source).resolve().parent / p
    if p.is_dir():
        p = p / "fitted.json"
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _bad("no such file", source, field, str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(f"cannot read it ({type(exc).__name__})", source, field, str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            str(p),
            "<root>",
            None,
            False,
        ) from None
    if not isinstance(data, Mapping) or not isinstance(data.get("parameters"), Mapping):
        what = data.get("parameters") if isinstance(data, Mapping) else data
        raise _bad(
            "expected a table of fitted parameters (zonesim calibrate --fit writes one)",
            str(p),
            "parameters",
            what,
        )
    if not data["parameters"]:
        raise _bad("expected at least one fitted parameter", str(p), "parameters", {})
    out = []
    for key, spec in data["parameters"].items():
        where = f"parameters.{key}"
        if not isinstance(spec, Mapping):
            raise _bad("expected a table with value, dist and its arguments", str(p), where, spec)
        spec = dict(spec)
        value = spec.pop("value", None)
        u = _parse_uncertain(key, spec, str(p), where=where)
        if value is not None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value):
                raise _bad("expected a number", str(p), f"{where}.value", value)
            a = dict(u.args)
            if "bounds" in a and not a["bounds"][0] <= value <= a["bounds"][1]:
                raise _bad(
                    f"expected the fitted value within its bounds {list(a['bounds'])}",
                    str(p),
                    f"{where}.value",
                    value,
                )
        out.append(u)
    return out


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and "dist" not in v:
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _parse_uncertain(key: str, spec: Any, source: str, where: str | None = None) -> Uncertain:
    from ..config import iter_parameters

    where = where or f"psa.parameters.{key}"
    m = _KEY_RE.match(key)
    catalog = {p: (f, v) for p, f, v in iter_parameters()}
    if m is None or m.group(1) not in catalog:
        import difflib

        hint = difflib.get_close_matches(key, list(catalog), n=1)
        extra = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise _bad(f"unknown parameter{extra}", source, where, None, False)
    f, default = catalog[m.group(1)]
    idx = m.group(2)
    if isinstance(default, tuple):
        if idx is None or int(idx) >= len(default):
            raise _bad(
                f"expected an element [0..{len(default) - 1}] of this list",
                source,
                where,
                None,
                False,
            )
        default = default[int(idx)]
    elif idx is not None:
        raise _bad("this parameter is not a list", source, where, None, False)
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise _bad("expected a numeric parameter", source, where, None, False)
    if not isinstance(spec, Mapping) or spec.get("dist") not in _DISTS:
        raise _bad(f"expected a table with dist = one of {', '.join(_DISTS)}", source, where, spec)
    dist = spec["dist"]
    need = _DISTS[dist]
    extra = sorted(set(spec) - {"dist", *need})
    missing = [k for k in need if k not in spec]
    if extra or missing:
        raise _bad(f"a {dist} distribution takes {', '.join(need)}", source, where, spec)
    args = []
    for k in need:
        v = spec[k]
        if k == "bounds":
            ok = (
                isinstance(v, (list, tuple))
                and len(v) == 2
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
                and v[0] < v[1]
            )
            if not ok:
                raise _bad(
                    "expected bounds = [low, high] with low < high", source, f"{where}.bounds", v
                )
            v = (float(v[0]), float(v[1]))
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _bad("expected a number", source, f"{where}.{k}", v)
        elif k in ("sd", "sd_log", "alpha", "beta", "median") and v <= 0:
            raise _bad("expected a positive number", source, f"{where}.{k}", v)
        args.append((k, v))
    a = dict(args)
    if dist == "triangular" and not a["bounds"][0] <= a["mode"] <= a["bounds"][1]:
        raise _bad("expected the mode within the bounds", source, f"{where}.mode", a["mode"])
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    if dist == "uniform" or dist == "triangular":
        blo, bhi = a["bounds"]
        if (lo is not None and blo < lo) or (hi is not None and bhi > hi):
            raise _bad(
                f"expected bounds within the parameter's valid range [{lo}, {hi}]",
                source,
                f"{where}.bounds",
                list(a["bounds"]),
            )
    return Uncertain(key, dist, tuple(args), lo, hi, isinstance(default, int))
