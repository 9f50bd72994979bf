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


def digest(state) -> str:
    """sha256 of every array of the state, in a fixed order."""
    h = hashlib.sha256()
    for part in state:
        arrays = part if isinstance(part, tuple) else (part,)
        for a in arrays:
            h.update(np.ascontiguousarray(a).view(np.uint8).tobytes())
    return h.hexdigest()
