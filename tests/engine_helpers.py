"""Helpers for the engine tests: build a small region, run it, digest its state."""

from __future__ import annotations

import hashlib

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
