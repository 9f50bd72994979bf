"""zonesim: agent-based simulation of Flemish primary care zones.

The public API is imported lazily (module ``__getattr__``), so ``import zonesim`` stays light:
Mesa, pandas and the numba engine load on first use of ``zonesim.ZoneModel`` and friends.

    >>> import zonesim
    >>> model = zonesim.ZoneModel(policy="integrated", population=20_000, rng=1)
    >>> model.run_years(1)
    >>> model.scorecard()["population_health"]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "ZoneModel": "model",
    "Region": "model",
    "Patient": "agents",
    "InformalCaregiver": "agents",
    "Provider": "agents",
    "CareCouncil": "agents",
    "Config": "config",
    "PolicyConfig": "config",
    "load_config": "config",
    "load_policy": "config",
    "ZonesimError": "errors",
    "ZonesimInputError": "errors",
    "compare": "experiment",
    "Experiment": "experiment",
    "ComparisonResult": "experiment",
    "sweep": "runs.pipeline",
    "load_results": "runs.pipeline",
    "evaluate": "interop",
    "parameters": "interop",
}

__all__ = [  # noqa: RUF022 - grouped as _EXPORTS
    "__version__",
    "ZoneModel",
    "Region",
    "Patient",
    "InformalCaregiver",
    "Provider",
    "CareCouncil",
    "Config",
    "PolicyConfig",
    "load_config",
    "load_policy",
    "ZonesimError",
    "ZonesimInputError",
    "compare",
    "Experiment",
    "ComparisonResult",
    "sweep",
    "load_results",
    "evaluate",
    "parameters",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .agents import CareCouncil, InformalCaregiver, Patient, Provider
    from .config import Config, PolicyConfig, load_config, load_policy
    from .errors import ZonesimError, ZonesimInputError
    from .experiment import ComparisonResult, Experiment, compare
    from .interop import evaluate, parameters
    from .model import Region, ZoneModel
    from .runs.pipeline import load_results, sweep


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zonesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
