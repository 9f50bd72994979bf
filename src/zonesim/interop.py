"""One entry point for external drivers: :func:`evaluate` and :func:`parameters`.

Exploratory-modelling and sensitivity tools (the EMA workbench, SALib, Optuna, a pandas loop)
want a function from a flat dict of inputs to a flat dict of outcomes, and a list of the inputs
with their bounds. That is what this module gives:

    >>> import zonesim
    >>> out = zonesim.evaluate({"policy.case_manager_fte_per_100k": 4.0}, years=0.25,
    ...                        population=5_000)
    >>> out["cost_per_capita_eur"]

Names are those of the configuration and the policy: a dotted path
(``parameters.switching.cm_work_hours_per_day``, ``zone.population``), one element of a list
parameter (``parameters.care.gp_contacts_per_year[2]``), a policy lever (``policy.<lever>``), or
``policy`` itself (a preset name). Each also has a Python-identifier spelling for tools that want
one (the EMA workbench): dots and brackets become double underscores
(``parameters__switching__cm_work_hours_per_day``, ``parameters__care__gp_contacts_per_year__2``;
the preset's is ``policy_preset``). Values may be Python or numpy scalars (a float for an
integer input is rounded, as samplers give floats); every one is validated as a configuration
file's would be, and a bad one raises :class:`~zonesim.errors.ZonesimInputError` naming it.

One evaluation is one run: build the zone, warm up ``warmup_days`` (default
:data:`zonesim.config.WARMUP_DAYS`, as everywhere), measure ``years``, return the flat scorecard
(:func:`zonesim.metrics.flatten`). A pure function of its arguments: the same values and seed give
the same outcomes in any process, so process pools (EMA's ``MultiprocessingEvaluator``) work.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import validation as V
from .config import WARMUP_DAYS
from .errors import ZonesimInputError

__all__ = ["ParameterInfo", "evaluate", "parameters"]

_ELEMENT_RE = re.compile(r"^(.*)\[(\d+)\]$")


@dataclass(frozen=True)
class ParameterInfo:
    """One settable input of :func:`evaluate`.

    ``name``: the dotted name; ``identifier``: the same as a Python identifier; ``kind``: ``int``,
    ``float``, ``bool`` or ``str``; ``default``; ``lo``/``hi``: the valid range (None: open);
    ``unit``; ``choices`` (strings); ``doc``; ``source`` (a citation, or ``"assumption"``).
    """

    name: str
    identifier: str
    kind: str
    default: Any
    lo: float | None
    hi: float | None
    unit: str
    choices: tuple[str, ...] | None
    doc: str
    source: str


def identifier(name: str) -> str:
    """The Python-identifier spelling of a parameter name (``.``, ``[i]`` -> ``__``, ``__i``)."""
    return name.replace(".", "__").replace("[", "__").replace("]", "")


def parameters() -> list[ParameterInfo]:
    """Every input :func:`evaluate` accepts, with its bounds and unit, in configuration order:
    scenario, zone and model parameters (list parameters one element each), then ``policy`` (a
    preset) and the policy levers (``policy.<lever>``)."""
    from .config import PolicyConfig, iter_parameters
    from .policies import preset_names

    out: list[ParameterInfo] = []

    def add(name: str, f: dataclasses.Field, kind: str, default: Any) -> None:
        m = f.metadata
        out.append(
            ParameterInfo(
                name=name,
                identifier=identifier(name),
                kind=kind,
                default=default,
                lo=m.get("lo"),
                hi=m.get("hi"),
                unit=m.get("unit", ""),
                choices=m.get("choices"),
                doc=m.get("doc", ""),
                source=m.get("source", "assumption"),
            )
        )

    for path, f, value in iter_parameters():
        if isinstance(value, tuple):
            kind = _kind(typing.get_args(_hint(path))[0])
            for i, v in enumerate(value):
                add(f"{path}[{i}]", f, kind, v)
        else:
            add(path, f, _kind(_hint(path)), value)
    presets = tuple(preset_names())
    out.append(
        ParameterInfo(
            name="policy",
            identifier="policy_preset",  # "policy" names the policy column in EMA's results
            kind="str",
            default="status_quo",
            lo=None,
            hi=None,
            unit="-",
            choices=presets,
            doc="The policy preset the levers (policy.<lever>) start from.",
            source="assumption",
        )
    )
    hints = typing.get_type_hints(PolicyConfig)
    pol = PolicyConfig()
    for f in dataclasses.fields(PolicyConfig):
        if f.name in ("name", "description"):
            continue
        add(f"policy.{f.name}", f, _kind(hints[f.name]), getattr(pol, f.name))
    return out


def _hint(path: str) -> Any:
    """The type annotation of a configuration leaf ``path``."""
    from .config import Config

    cls: Any = Config
    *groups, leaf = path.split(".")
    for g in groups:
        cls = typing.get_type_hints(cls)[g]
    return typing.get_type_hints(cls)[leaf]


def _kind(tp: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str"}[tp]


def _by_name() -> dict[str, ParameterInfo]:
    infos = parameters()
    return {**{p.name: p for p in infos}, **{p.identifier: p for p in infos}}


def evaluate(
    values: Mapping[str, Any] | None = None,
    /,
    *,
    seed: int = 2020,
    years: float = 1.0,
    warmup_days: int = WARMUP_DAYS,
    population: int | None = None,
    config: Any = None,
    scenario: str | None = None,
    warmup_policy: Any = "status_quo",
    **named: Any,
) -> dict[str, float]:
    """Run one zone with ``values`` set and return its flat outcomes.

    Parameters
    ----------
    values: ``{name: value}`` (names from :func:`parameters`, dotted or as identifiers); numpy
        scalars are fine. Names may also be given as keywords (``**named``), which is how the EMA
        workbench calls a model function.
    seed: the run seed. years: measured years after the warm-up. warmup_days: days simulated
        before measurement (default 180, as every entry point). population: inhabitants
        (``zone.population``; ignored, with a warning, for a zone from a municipality CSV).
    config: a :class:`~zonesim.config.Config`, a configuration TOML or None (the default zone);
        scenario: a built-in scenario name or a scenario TOML applied to it.
    warmup_policy: the policy of the warm-up (default ``status_quo``, as in every study): the
        run's policy takes over at its end (:meth:`zonesim.ZoneModel.branch`), so
        ``evaluate({"policy": X}, seed=s)`` gives what a study's run of ``X`` with seed ``s``
        gives over the same horizon. Pass the run's own policy to warm up under it.

    Returns
    -------
    ``{metric: float}``: every scorecard metric (see ``zonesim.metrics.flatten``), e.g.
    ``qalys_per_capita``, ``cost_per_capita_eur``, ``gp_wait_days_mean``.
    """
    from .config import apply_overrides, load_policy, to_dict
    from .metrics import flatten
    from .model import ZoneModel, resolve_config

    given = dict(values or {})
    overlap = set(given) & set(named)
    if overlap:
        raise ZonesimInputError(
            "expected each name once (in values or as a keyword)",
            source="<values>",
            field=sorted(overlap)[0],
            value=None,
            show_value=False,
        )
    given.update(named)
    known = _by_name()
    cfg = resolve_config(config, scenario, population)
    base = to_dict(cfg)
    cfg_changes: dict[str, Any] = {}
    levers: dict[str, Any] = {}
    policy: Any = "status_quo"
    for key, raw in given.items():
        info = known.get(key)
        if info is None:
            import difflib

            match = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{match[0]}'?)" if match else ""
            raise ZonesimInputError(
                f"unknown parameter{hint}; expected a name from zonesim.parameters()",
                source="<values>",
                field=str(key),
                value=raw,
                show_value=False,
            )
        value = V.plain(raw)
        if info.kind == "int" and isinstance(value, float) and value == value:
            value = round(value)  # samplers (SALib, LHS) give floats for integer inputs
        name = info.name
        if name == "policy":
            policy = value
        elif name.startswith("policy."):
            levers[name.removeprefix("policy.")] = value
        else:
            m = _ELEMENT_RE.match(name)
            if m is None:
                cfg_changes[name] = value
            else:
                path, i = m.group(1), int(m.group(2))
                current = cfg_changes.get(path)
                if current is None:
                    current = _lookup(base, path)
                current = list(current)
                current[i] = value
                cfg_changes[path] = current
    if cfg_changes:
        cfg = apply_overrides(cfg, cfg_changes)
    pol = load_policy(policy, levers or None)
    model = ZoneModel(
        cfg,
        policy=pol,
        population=population,
        rng=seed,
        years=years,
        warmup_days=warmup_days,
        warmup_policy=warmup_policy,
        agents=False,
    )
    model.run_for(model.horizon_days)
    return {k: float(v) for k, v in flatten(model.scorecard()).items()}


def _lookup(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data
