"""Governance policies: the levers of MODEL.md section 4, the named presets, and the budget
envelope.

A policy is a :class:`zonesim.config.PolicyConfig`; presets are TOML files in
``configs/policies/`` (users write their own the same way, one ``key = value`` per lever). Every
lever acts on the kernels through the compiled parameters (``zonesim.core.params``) or through
the providers the population builder creates: there is no code path of its own for any lever.

The *budget envelope* covers what the zone itself organises and pays for: case managers,
pooled specialists, the information and reporting point and the care council. A policy whose
yearly cost exceeds ``budget_envelope_per_capita`` x inhabitants is refused with a clear error
(``over_budget = "refuse"``) or has its staffing levers scaled down to fit (``"scale"``).
"""

from __future__ import annotations

from dataclasses import fields, replace

from .config import Config as _Config
from .config import PolicyConfig, builtin_names, load_policy
from .errors import ZonesimInputError

PRESETS = (
    "status_quo",
    "case_management_pool",
    "pooled_specialists",
    "task_shifting",
    "information_point",
    "strict_gatekeeping",
    "integrated",
)

STAFF_LEVERS = (
    "case_manager_fte_per_100k",
    "pooled_diabetes_educator_fte_per_100k",
    "pooled_psychiatric_nurse_fte_per_100k",
    "pooled_psychologist_fte_per_100k",
)


def preset_names() -> list[str]:
    """Names of the built-in presets (``configs/policies/*.toml``), in a stable order."""
    names = builtin_names("policies")
    ordered = [n for n in PRESETS if n in names]
    return ordered + [n for n in names if n not in ordered]


def information_point_cost_per_year(policy: PolicyConfig) -> float:
    """Yearly euro of the policy's information and reporting point (0 without one): the one
    owner of this cost, used by the budget envelope and the cost metrics."""
    return policy.information_point_cost_per_year if policy.information_point else 0.0


def organised_cost_per_year(policy: PolicyConfig, config: _Config, population: int) -> float:
    """Yearly euro the zone pays for the levers inside the envelope."""
    costs = config.parameters.costs
    per = population / 1e5
    cm = policy.case_manager_fte_per_100k * per * costs.case_manager_fte_year
    pooled = sum(getattr(policy, f) for f in STAFF_LEVERS[1:]) * per
    pooled *= costs.pooled_specialist_fte_year
    point = information_point_cost_per_year(policy)
    return cm + pooled + point + policy.governance_cost_per_year


def apply_budget(policy: PolicyConfig, config: _Config, population: int) -> PolicyConfig:
    """Enforce the policy's budget envelope: return it unchanged, scaled, or raise."""
    envelope_pc = policy.budget_envelope_per_capita
    if envelope_pc <= 0:
        return policy
    envelope = envelope_pc * population
    cost = organised_cost_per_year(policy, config, population)
    if cost <= envelope:
        return policy
    if policy.over_budget == "refuse":
        raise ZonesimInputError(
            f"policy costs {cost / population:,.2f} euro per capita per year, over its envelope "
            f"of {envelope_pc:,.2f}; lower the levers, raise the envelope, or set "
            'over_budget = "scale"',
            source=f"policy '{policy.name}'",
            field="policy.budget_envelope_per_capita",
            value=envelope_pc,
        )
    fixed = information_point_cost_per_year(policy) + policy.governance_cost_per_year
    staff = cost - fixed
    if fixed >= envelope or staff <= 0:
        raise ZonesimInputError(
            "the envelope does not even cover the information point and the council",
            source=f"policy '{policy.name}'",
            field="policy.budget_envelope_per_capita",
            value=envelope_pc,
        )
    factor = (envelope - fixed) / staff
    return replace(policy, **{f: getattr(policy, f) * factor for f in STAFF_LEVERS})


def lever_table(policy: PolicyConfig, *, only_changed: bool = False) -> list[dict]:
    """One row per lever: name, value, unit, doc (and whether it differs from the default)."""
    default = PolicyConfig()
    rows = []
    for f in fields(PolicyConfig):
        if f.name in ("name", "description"):
            continue
        value = getattr(policy, f.name)
        changed = value != getattr(default, f.name)
        if only_changed and not changed:
            continue
        rows.append(
            {
                "lever": f.name,
                "value": value,
                "unit": f.metadata.get("unit", ""),
                "doc": f.metadata.get("doc", ""),
                "changed": changed,
            }
        )
    return rows


__all__ = [
    "PRESETS",
    "STAFF_LEVERS",
    "PolicyConfig",
    "apply_budget",
    "lever_table",
    "load_policy",
    "organised_cost_per_year",
    "preset_names",
]
