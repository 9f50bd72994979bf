"""Compile a configuration and its policies into the plain numeric form the kernels read.

The result is one numpy record per zone (``prm[z]``, dtype :data:`PRM_DTYPE`) holding every rate
as a *daily* probability or a plain number, and :class:`Tables`, small lookup arrays, above all
``thr_total``: the probability, as a uint32 threshold, that a patient of a given class has any
event on a day. That table is computed with the very function the slow path uses
(:func:`zonesim.core.events.event_probabilities`), so the fast path and the slow path can never
disagree.

Policies act only through these numbers: no lever has a code path of its own.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from scipy import stats

from ..config import Config, PolicyConfig
from . import state as S
from .common import (  # noqa: F401 (re-exported: population.py and tests use them from here)
    limited_literacy_probabilities,
    mortality_by_band,
    per_day,
)
from .parts import param_compilers, param_fields
from .state import DAYS_PER_YEAR

RECOUNT_DAYS = 30  # core.day.RECOUNT_EVERY: the monthly recount, migration and need regression
DAYS_65 = 23741  # core.common.DAYS_65

# The parameter record. Listed here: what several processes read (the need model's rates, the
# utilities, the demand rates the patient pass and the GP establishment share, the GP's time,
# the session hours, ...) and what is compiled from the built state or the zone's size
# (initial FTE, the initial age pyramid, recruitment, the region's specialist capacity). What
# one process reads is declared beside its kernel (``PARAMS`` in core/<process>.py).
PRM_DTYPE = np.dtype(
    [
        # scenario / demography (1)
        # need (2)
        ("need_band_of_age_band", np.int64, (S.N_AGE_BANDS,)),
        ("progression", np.float64, (5, 3)),  # daily, need band x (0->1, 1->2, 2->3)
        ("preferential_need", np.float64),
        ("utility_need", np.float64, (4,)),
        ("utility_loss_disrupted", np.float64),
        ("utility_hospital", np.float64),
        # demand and care seeking (3, 4)
        ("gp_rate", np.float64, (4,)),
        ("propensity", np.float64, (S.N_PROPENSITY,)),
        ("followup_rate", np.float64, (4,)),
        # gatekeeper (5)
        ("gp_contacts_per_fte_day", np.float64),
        ("gp_contact_hours", np.float64),
        ("max_overtime", np.float64),
        ("strict_gatekeeping", np.int64),
        ("nurse_followup_share", np.float64),
        # secondary care (6)
        ("specialist_capacity_day", np.float64),  # region-wide, same in every zone's record
        ("avoidable_rate", np.float64, (4,)),
        # switch moments (7)
        ("care_plan_share", np.float64),
        # caregivers
        ("caregiver_share", np.float64),
        # case management (8)
        ("cm_enabled", np.int64),
        ("caseload_cap", np.float64),  # clients per FTE
        # workforce (9)
        ("session_hours", np.float64, (S.N_DISCIPLINES,)),  # per contact of the discipline
        ("gp_recruit_fte_per_day", np.float64),
        ("initial_fte", np.float64, (S.N_DISCIPLINES,)),
        ("hours_per_fte_week", np.float64, (S.N_DISCIPLINES,)),
        # balancing loops and demography by design (issue 15)
        ("band_share0", np.float64, (S.N_AGE_BANDS,)),  # initial age pyramid (shares)
        ("share65_initial", np.float64),  # its 65+ share
        *param_fields(),  # what the process modules declare beside their kernels (core/parts.py)
    ]
)

Tables = namedtuple("Tables", ["thr_total"])
"""``thr_total[z, sit, age_band, need, literacy, ses, propensity]``: uint32 threshold of the
probability that a patient of that class has an event today."""


def propensity_multipliers(shape: float) -> np.ndarray:
    """Mean-one multipliers for the 16 propensity classes: gamma quantiles at class midpoints."""
    q = (np.arange(S.N_PROPENSITY) + 0.5) / S.N_PROPENSITY
    m = stats.gamma.ppf(q, a=shape, scale=1.0 / shape)
    return m / m.mean()


def need_band_of_age_band(edges) -> np.ndarray:
    """Map each 5-year band (by its starting age) to one of the five need-model bands."""
    starts = np.arange(S.N_AGE_BANDS) * 5
    return np.searchsorted(np.asarray(edges, dtype=float), starts, side="right").astype(np.int64)


def compile_zone(config: Config, policy: PolicyConfig, n_zone: int) -> np.void:
    """The record of one zone (without the region-wide specialist capacity)."""
    par = config.parameters
    sc = config.scenario
    r = np.zeros(1, PRM_DTYPE)[0]
    need, care = par.need, par.care
    gk, sec, cg = par.gatekeeper, par.secondary, par.caregivers
    cm, wf = par.case_management, par.workforce

    r["need_band_of_age_band"] = need_band_of_age_band(need.age_band_edges)
    r["progression"] = np.stack(
        [
            per_day(need.progression_0_1),
            per_day(need.progression_1_2),
            per_day(need.progression_2_3),
        ],
        axis=1,
    )
    r["preferential_need"] = need.preferential_need_multiplier
    r["utility_need"] = need.utility_by_need
    r["utility_loss_disrupted"] = need.utility_loss_disrupted
    r["utility_hospital"] = need.utility_in_hospital

    # Rates stay yearly/365 here; event_probabilities turns the class total into probabilities.
    r["gp_rate"] = np.asarray(care.gp_contacts_per_year) / DAYS_PER_YEAR
    r["propensity"] = propensity_multipliers(care.propensity_shape)
    r["followup_rate"] = np.asarray(care.chronic_followup_per_year) / DAYS_PER_YEAR

    r["gp_contacts_per_fte_day"] = gk.gp_contacts_per_fte_per_year / DAYS_PER_YEAR
    r["gp_contact_hours"] = wf.gp_contact_minutes / 60.0
    r["max_overtime"] = gk.max_overtime_share
    r["strict_gatekeeping"] = 1 if policy.gatekeeping == "strict" else 0
    r["nurse_followup_share"] = policy.nurse_followup_share

    r["avoidable_rate"] = np.asarray(sec.avoidable_admission_per_year) / DAYS_PER_YEAR

    r["care_plan_share"] = policy.care_plan_share

    r["caregiver_share"] = cg.caregiver_share

    r["cm_enabled"] = (
        1 if (policy.allocation_rule != "none" and policy.case_manager_fte_per_100k > 0) else 0
    )
    r["caseload_cap"] = policy.caseload_cap

    sess = np.zeros(S.N_DISCIPLINES)
    sess[S.GP] = wf.gp_contact_minutes / 60.0
    sess[S.NURSE] = gk.nurse_followup_minutes / 60.0
    sess[S.PHYSIO] = wf.physio_session_minutes / 60.0
    sess[S.PSYCHOLOGIST] = wf.psychology_session_minutes / 60.0
    sess[S.SOCIAL_WORKER] = wf.social_work_contact_minutes / 60.0
    sess[S.POOLED_DIABETES] = 1.0
    sess[S.POOLED_PSYCH_NURSE] = 1.0
    sess[S.POOLED_PSYCHOLOGIST] = wf.psychology_session_minutes / 60.0
    r["session_hours"] = sess
    r["gp_recruit_fte_per_day"] = (
        sc.recruitment_fte_per_100k_per_year * n_zone / 1e5 / DAYS_PER_YEAR
    )
    hours = np.full(S.N_DISCIPLINES, wf.hours_per_fte_per_week)
    hours[S.GP] = wf.gp_hours_per_fte_per_week
    hours[S.CASE_MANAGER] = cm.hours_per_fte_per_week
    r["hours_per_fte_week"] = hours
    for name, compile_value in param_compilers():  # the process modules' own
        r[name] = compile_value(config, policy)
    return r


def compile_params(config: Config, policies, state: S.State):
    """Compile ``config`` and one policy per zone for ``state``: returns ``(prm, tables)``."""
    from .events import build_threshold_table  # numba-compiled; imported lazily

    if isinstance(policies, PolicyConfig):
        policies = [policies] * state.n_zones
    if len(policies) != state.n_zones:
        raise ValueError(f"{len(policies)} policies for {state.n_zones} zones")
    prm = np.zeros(state.n_zones, PRM_DTYPE)
    for z, pol in enumerate(policies):
        n_zone = int(state.zone[z]["alive"])
        prm[z] = compile_zone(config, pol, n_zone)
        # Initial FTE per discipline: the recruitment target of non-GP disciplines.
        lo, hi = int(state.zone[z]["first_provider"]), int(state.zone[z]["end_provider"])
        disc = state.prov.discipline[lo:hi]
        active = state.prov.state[lo:hi] == S.PV_ACTIVE
        fte = np.bincount(
            disc[active], weights=state.prov.fte[lo:hi][active], minlength=S.N_DISCIPLINES
        )
        prm[z]["initial_fte"] = fte
        # The GP demand the initial need mix implies: the reference of the GP establishment
        # (core/workforce.py, gp_establishment).
        lo, hi = int(state.zone[z]["first_patient"]), int(state.zone[z]["next_free"])
        alive = state.pat.situation[lo:hi] < S.DECEASED
        need = np.bincount(state.pat.need[lo:hi][alive], minlength=4).astype(float)
        p = prm[z]
        gp = p["gp_rate"] + p["followup_rate"] * (1.0 - p["nurse_followup_share"])
        prm[z]["gp_demand_ref"] = float(np.sum(need * gp))
        # The initial age pyramid: what births and migration keep (scaled along the scenario's
        # 65+ share).
        lo, hi = int(state.zone[z]["first_patient"]), int(state.zone[z]["next_free"])
        alive = state.pat.situation[lo:hi] < S.DECEASED
        age = int(state.day[0]) - state.pat.birth_day[lo:hi][alive].astype(np.int64)
        band = np.minimum(age // S.AGE_BAND_DAYS, S.N_AGE_BANDS - 1)
        counts = np.bincount(np.maximum(band, 0), minlength=S.N_AGE_BANDS).astype(float)
        total = max(counts.sum(), 1.0)
        prm[z]["band_share0"] = counts / total
        prm[z]["share65_initial"] = float((age >= DAYS_65).sum()) / total
    # Secondary care is shared by the region: its slots come from the region's initial
    # population, whatever the policies of its zones (capacity belongs to the hospitals).
    prm["specialist_capacity_day"] = specialist_capacity(config, state)
    tables = Tables(thr_total=build_threshold_table(prm.view(np.recarray)))
    return prm, tables


def specialist_capacity(config: Config, state: S.State) -> float:
    """The region's base specialist first-appointment slots per day: the per-capita rate x the
    region's initial population (the living patients of every zone)."""
    alive = int(np.sum(state.zone["alive"]))
    rate = config.parameters.secondary.specialist_slots_per_1000_per_year
    return rate * alive / 1000.0 / DAYS_PER_YEAR
