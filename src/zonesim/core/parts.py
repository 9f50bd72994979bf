"""What each process module owns, assembled in one place.

A process module (``core/<process>.py``, listed in :data:`PROCESS_MODULES`) declares, beside its
kernel, what it adds to the model, as Starsim modules declare their pars, states and results:

``PARAMS``
    ``((name, dtype, shape, compile), ...)``: fields of the per-zone parameter record
    (:data:`zonesim.core.params.PRM_DTYPE`); ``compile(config, policy)`` gives the value
    (:func:`zonesim.core.params.compile_zone` calls it). The kernel reads ``p.<name>``.
``ACCUMULATORS``
    ``((name, dtype, shape), ...)``: fields of the per-zone accumulator record
    (:data:`zonesim.core.state.ACC_DTYPE`, zeroed at the build). The kernel adds to
    ``acc.<name>``; :func:`zonesim.metrics.acc_window` windows it like every other count.
``PURPOSES``
    ``{name: code}``: the module's random-stream purposes (draws ``uniform(key, entity, day,
    code)``); every code is checked unique against ``zonesim.core.streams.PURPOSE_*`` and the
    other modules' (:func:`purposes`).
``metrics(w, person_years)``
    ``{metric: value}`` from a window ``w`` of the accumulators: added to the scorecard's
    ``activity`` section.
``costs(w, config, policies, years)``
    ``{sector: euro}`` over the window: each becomes ``cost_<sector>_per_capita_eur`` in the
    scorecard's ``cost`` section and counts in its total.

Parameters and random-stream purposes that one process uses are declared beside its kernel;
``params.py`` and ``streams.py`` keep only what several processes share (and the parameters
compiled from the built state), and ``state._ACC_FIELDS`` only the accumulators no single
process owns (what core/day.py's end of day writes, what several processes add to). The order of
the records' fields is free: kernels and metrics read fields by name, checkpoints load by name,
and the stored baselines' digest hashes a record field by field in sorted name order.
docs/architecture.md ("How to add a lever") walks through an example; tests/test_lever.py adds
one that way.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

# The process modules, in MODEL.md's order (the order their declarations are assembled in).
PROCESS_MODULES = (
    "demography",
    "need",
    "demand",
    "events",
    "gatekeeper",
    "practices",
    "hospital",
    "switching",
    "case_management",
    "workforce",
)


def modules() -> list[ModuleType]:
    """The process modules (imported on first use: they import numba)."""
    return [importlib.import_module(f"zonesim.core.{name}") for name in PROCESS_MODULES]


def _fields(attr: str) -> list[tuple]:
    out = []
    for mod in modules():
        for entry in getattr(mod, attr, ()):
            name, dtype, shape = entry[0], entry[1], entry[2]
            out.append((name, dtype, shape) if shape else (name, dtype))
    return out


def param_fields() -> list[tuple]:
    """The parameter-record fields the process modules declare (``PARAMS``)."""
    return _fields("PARAMS")


def param_compilers() -> list[tuple]:
    """``(name, compile)`` of every declared parameter."""
    return [(e[0], e[3]) for mod in modules() for e in getattr(mod, "PARAMS", ())]


def accumulator_fields() -> list[tuple]:
    """The accumulator-record fields the process modules declare (``ACCUMULATORS``)."""
    return _fields("ACCUMULATORS")


def purposes() -> dict[str, int]:
    """Every random-stream purpose, the core's (``streams.PURPOSE_*``) and the modules'
    (``PURPOSES``); raises ValueError if a code is used twice."""
    from . import streams

    out = {k: int(v) for k, v in vars(streams).items() if k.startswith("PURPOSE_")}
    for mod in modules():
        for name, code in getattr(mod, "PURPOSES", {}).items():
            out[f"{mod.__name__.rsplit('.', 1)[-1]}.{name}"] = int(code)
    seen: dict[int, str] = {}
    for name, code in out.items():
        if code in seen and seen[code] != name:
            raise ValueError(f"random-stream purpose {code} used twice: {seen[code]} and {name}")
        seen[code] = name
    return out


def metrics(w: dict, person_years: float) -> dict[str, float]:
    """The metrics the process modules declare, from the window ``w``."""
    out: dict[str, float] = {}
    for mod in modules():
        fn = getattr(mod, "metrics", None)
        if fn is not None:
            out.update({k: float(v) for k, v in fn(w, person_years).items()})
    return out


def costs(w: dict, config, policies, years: float) -> dict[str, float]:
    """Euro by sector over the window ``w`` that the process modules declare."""
    out: dict[str, float] = {}
    for mod in modules():
        fn = getattr(mod, "costs", None)
        if fn is not None:
            out.update({k: float(np.sum(v)) for k, v in fn(w, config, policies, years).items()})
    return out
