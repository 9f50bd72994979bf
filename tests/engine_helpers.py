"""Helpers for the engine tests: build a small region, run it, digest its state."""

from __future__ import annotations

import hashlib
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from zonesim.config import load_config, load_policy
from zonesim.core.day import simulate
from zonesim.core.params import compile_params
from zonesim.population import build_state


def build(population=3000, seed=11, policy="status_quo", overrides=None, policy_overrides=None):
    cfg = load_config(overrides={"zone.population": population, **(overrides or {})})
    pol = load_policy(policy, policy_overrides)
    state, layout = build_state(cfg, pol, seed)
    prm, tables = compile_params(cfg, [pol] * state.n_zones, state)
    return cfg, pol, state, layout, prm, tables


def run(population=3000, seed=11, days=120, **kw):
    cfg, pol, state, layout, prm, tables = build(population, seed, **kw)
    simulate(state, prm, tables, seed, days)
    return state


def _hash_array(h, a) -> None:
    """Feed one array to ``h``: a record (structured) array field by field, in sorted field-name
    order (the name's bytes, then the field's contiguous bytes), so that reordering a record's
    fields changes nothing; a plain array as its contiguous bytes."""
    names = a.dtype.names
    if names is None:
        h.update(np.ascontiguousarray(a).view(np.uint8).tobytes())
        return
    for name in sorted(names):
        h.update(name.encode())
        _hash_array(h, a[name])


def digest(state) -> str:
    """sha256 of every array of the state, in a fixed order, independent of the layout of its
    records (the zone and accumulator records are hashed field by field, by name)."""
    h = hashlib.sha256()
    for part in state:
        arrays = part if isinstance(part, tuple) else (part,)
        for a in arrays:
            _hash_array(h, np.asarray(a))
    return h.hexdigest()


def fork_map(fn, *iterables, workers: int) -> list:
    """``[fn(*args) ...]`` over the jobs, in forked worker processes when ``workers`` > 1 (as
    zonesim.experiment does: the workers only run the single-threaded kernels), in order.
    For the tests that need many runs (the year-5 pairing, the overload check)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # queue-overflow notices of small zones
        warnings.filterwarnings("ignore", message=r".*use of fork\(\)", category=DeprecationWarning)
        if workers <= 1:
            return [fn(*args) for args in zip(*iterables, strict=True)]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            return list(pool.map(fn, *iterables))
