"""Studies: one pipeline that resolves, plans, executes and stores every run of zonesim.

A *study* is a scenario x policies x replicates x an optional design over parameters
(:mod:`zonesim.runs.study`). ``zonesim compare`` runs a one-point study and adds the paired
statistics (:mod:`zonesim.experiment`); ``zonesim sweep`` runs a study with a design and adds
sensitivity indices. Both go through the same steps:

1. **resolve** (:func:`resolve_study`): every run's configuration and policy, checked against the
   schema, budgets applied, parameter draws (probabilistic sensitivity analysis,
   :mod:`zonesim.runs.psa`) made, and each run named by a hash of what determines its result;
2. **execute** (:func:`run_study`) on any :class:`concurrent.futures.Executor`
   (:mod:`zonesim.executors`: this process, worker processes, a local Dask cluster, Dask on
   SLURM, a running scheduler): first each replicate's warm-up, saved as a checkpoint, then every
   policy branched from it (:mod:`zonesim.runs.simulate`);
3. **store**: one Parquet file per run, written atomically, so a study resumes where it stopped
   and no run completes twice; :func:`load_results` reads them back as one tidy DataFrame
   (``years=True``: one row per run and measured year).

Modules: :mod:`~zonesim.runs.fields` (shared field checks, seeds, provenance),
:mod:`~zonesim.runs.study` (the study file), :mod:`~zonesim.runs.psa` (parameter draws),
:mod:`~zonesim.runs.simulate` (one run), :mod:`~zonesim.runs.pipeline` (resolve, execute, store,
load). ``import zonesim.runs`` is light: the submodules load on first use.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Study": "study",
    "load_study": "study",
    "replicate_seed": "fields",
    "resolve_study": "pipeline",
    "run_study": "pipeline",
    "sweep": "pipeline",
    "load_results": "pipeline",
    "status": "pipeline",
    "compact": "pipeline",
    "analyse": "pipeline",
    "read_attempts": "pipeline",
    "SweepReport": "pipeline",
    "SweepStatus": "pipeline",
    "StudyPlan": "pipeline",
    "RunTask": "pipeline",
    "execute_run": "pipeline",
    "run_replicate": "simulate",
    "warm_model": "simulate",
    "draw_parameters": "psa",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zonesim.runs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
