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
from .parts import param_compilers, param_fields
from .state import DAYS_PER_YEAR

RECOUNT_DAYS = 30  # core.day.RECOUNT_EVERY: the monthly recount, migration and need regression
DAYS_65 = 23741  # core.common.DAYS_65

PRM_DTYPE = np.dtype(
    [
        # scenario / demography (1)
        ("share65_start", np.float64),
        ("share65_end", np.float64),
        ("horizon_days", np.float64),
        ("growth_per_day", np.float64),
        ("mortality_band", np.float64, (S.N_AGE_BANDS,)),  # daily hazard by 5-year band
        ("mortality_need", np.float64, (4,)),
        ("mortality_disrupted", np.float64),
        ("mortality_preferential", np.float64),
        ("preferential_share", np.float64),
        ("limited_p_standard", np.float64),  # P(limited literacy | SES) for entrants
        ("limited_p_preferential", np.float64),
        # need (2)
        ("need_band_of_age_band", np.int64, (S.N_AGE_BANDS,)),
        ("progression", np.float64, (5, 3)),  # daily, need band x (0->1, 1->2, 2->3)
        ("prevalence", np.float64, (5, 3)),  # entrants: chronic, complex|chronic, v.high|complex
        ("preferential_need", np.float64),
        ("utility_need", np.float64, (4,)),
        ("utility_loss_disrupted", np.float64),
        ("utility_hospital", np.float64),
        # demand and care seeking (3, 4)
        ("gp_rate", np.float64, (4,)),
        ("propensity", np.float64, (S.N_PROPENSITY,)),
        ("followup_rate", np.float64, (4,)),
        ("home_visit_share", np.float64, (4,)),
        ("nursing_hours_day", np.float64, (4,)),
        ("physio_rate", np.float64, (4,)),
        ("psychology_rate", np.float64, (4,)),
        ("social_rate", np.float64, (4,)),
        ("direct_specialist_rate", np.float64, (4,)),
        ("emergency_rate", np.float64, (4,)),
        ("limited_routine", np.float64),  # effective, after the information point
        ("limited_emergency", np.float64),
        ("recognition_delay", np.float64, (2,)),  # by literacy, effective
        # gatekeeper (5)
        ("gp_contacts_per_fte_day", np.float64),
        ("gp_contact_hours", np.float64),
        ("max_overtime", np.float64),
        ("unmet_wait_days", np.float64),
        ("ed_after_wait", np.float64),
        ("referral_p", np.float64, (4,)),
        ("referral_strain", np.float64),
        ("strict_gatekeeping", np.int64),
        ("gatekept_referral_p", np.float64),  # 1 - gatekept_resolution_share
        ("pooled_substitutable", np.float64),
        ("nurse_followup_hours", np.float64),
        ("nurse_followup_share", np.float64),
        # secondary care (6)
        ("specialist_capacity_day", np.float64),  # region-wide, same in every zone's record
        ("admission_rate", np.float64, (4,)),
        ("avoidable_rate", np.float64, (4,)),
        ("avoidable_disrupted", np.float64),
        ("avoidable_case_managed", np.float64),
        ("admission_after_emergency", np.float64),
        ("los_mean_need", np.float64, (4,)),
        ("discharge_switch", np.float64, (4,)),
        # switch moments (7)
        ("fall_rate_65", np.float64, (4,)),
        ("fall_rate_young", np.float64),
        ("fall_switch", np.float64, (4,)),
        ("fall_admission", np.float64),
        ("acute_rate", np.float64, (4,)),
        ("acute_admission", np.float64),
        ("coordination_hours", np.float64, (4,)),
        ("no_caregiver_work", np.float64),
        ("team_hours_day", np.float64, (3,)),
        ("coordination_share", np.float64, (3,)),  # GP, nurse, social worker
        ("care_plan_speedup", np.float64),
        ("strain_slowdown", np.float64),
        ("cm_work_hours_day", np.float64),
        ("cm_min_need", np.int64),
        ("cm_min_hours", np.float64),
        ("went_wrong_days", np.float64),
        ("report_p", np.float64),
        ("care_plan_share", np.float64),
        # caregivers
        ("caregiver_share", np.float64),
        ("burden_rise", np.float64, (4,)),
        ("burden_relief", np.float64),
        ("burden_disrupted", np.float64),
        ("overload", np.float64),
        ("cg_illness", np.float64),
        ("cg_illness_slope", np.float64),
        ("cg_breakdown", np.float64),
        ("cg_death", np.float64),
        ("cg_illness_days", np.float64),
        ("cg_breakdown_days", np.float64),
        ("informal_hours_day", np.float64, (4,)),
        # case management (8)
        ("cm_enabled", np.int64),
        ("cm_rule", np.int64),
        ("cm_attached", np.int64),
        ("caseload_cap", np.float64),  # clients per FTE
        ("equity_weight", np.float64),
        ("cm_followup_hours_day", np.float64),
        # workforce (9)
        ("session_hours", np.float64, (S.N_DISCIPLINES,)),  # per contact of the discipline
        ("ema_alpha", np.float64),
        ("strain_rise", np.float64),
        ("strain_recovery", np.float64),
        ("comfortable", np.float64),
        ("strained_threshold", np.float64),
        ("sick_per_day", np.float64),
        ("sick_slope", np.float64),
        ("sick_days", np.float64),
        ("attrition_per_day", np.float64),
        ("attrition_slope", np.float64),
        ("gp_retirement_per_day", np.float64),
        ("gp_recruit_fte_per_day", np.float64),
        ("recruit_share_per_day", np.float64),
        ("initial_fte", np.float64, (S.N_DISCIPLINES,)),
        ("hours_per_fte_week", np.float64, (S.N_DISCIPLINES,)),
        # balancing loops and demography by design (issue 15)
        ("strain_full", np.float64),
        ("vacancy_fill_days", np.float64),
        ("gp_vacancy_fill_days", np.float64),
        ("deferral_per_wait_day", np.float64),
        ("deferral_max_share", np.float64),
        ("give_up_per_day", np.float64),
        ("practice_change_wait_days", np.float64),
        ("practice_change_per_day", np.float64),
        ("practice_list_cap_per_fte", np.float64),
        ("regression", np.float64, (5, 3)),  # monthly, need band x (1->0, 2->1, 3->2)
        ("band_share0", np.float64, (S.N_AGE_BANDS,)),  # initial age pyramid (shares)
        ("share65_initial", np.float64),  # its 65+ share
        *param_fields(),  # what the process modules declare beside their kernels (core/parts.py)
    ]
)

Tables = namedtuple("Tables", ["thr_total"])
"""``thr_total[z, sit, age_band, need, literacy, ses, propensity]``: uint32 threshold of the
probability that a patient of that class has an event today."""


def per_day(rate_per_year) -> np.ndarray | float:
    """Convert a yearly rate into a daily probability (constant hazard)."""
    r = np.asarray(rate_per_year, dtype=np.float64)
    out = -np.expm1(-r / DAYS_PER_YEAR)
    return float(out) if out.ndim == 0 else out


def propensity_multipliers(shape: float) -> np.ndarray:
    """Mean-one multipliers for the 16 propensity classes: gamma quantiles at class midpoints."""
    q = (np.arange(S.N_PROPENSITY) + 0.5) / S.N_PROPENSITY
    m = stats.gamma.ppf(q, a=shape, scale=1.0 / shape)
    return m / m.mean()


def mortality_by_band(a: float, b: float) -> np.ndarray:
    """Daily death probability per 5-year band from Gompertz yearly q(age) = exp(a + b age)."""
    out = np.empty(S.N_AGE_BANDS)
    for band in range(S.N_AGE_BANDS):
        ages = band * 5 + np.arange(5) + 0.5
        q = np.minimum(np.exp(a + b * ages), 0.6)
        out[band] = np.mean(-np.log1p(-q)) / DAYS_PER_YEAR
    return out


def limited_literacy_probabilities(share: float, pref_share: float, odds_ratio: float):
    """P(limited | standard), P(limited | preferential) with the given overall share and OR."""
    if share <= 0.0:
        return 0.0, 0.0
    if share >= 1.0:
        return 1.0, 1.0
    lo, hi = 1e-9, 1 - 1e-9
    for _ in range(100):
        p0 = 0.5 * (lo + hi)
        odds1 = odds_ratio * p0 / (1 - p0)
        p1 = odds1 / (1 + odds1)
        if (1 - pref_share) * p0 + pref_share * p1 > share:
            hi = p0
        else:
            lo = p0
    p0 = 0.5 * (lo + hi)
    odds1 = odds_ratio * p0 / (1 - p0)
    return p0, odds1 / (1 + odds1)


def need_band_of_age_band(edges) -> np.ndarray:
    """Map each 5-year band (by its starting age) to one of the five need-model bands."""
    starts = np.arange(S.N_AGE_BANDS) * 5
    return np.searchsorted(np.asarray(edges, dtype=float), starts, side="right").astype(np.int64)


def compile_zone(config: Config, policy: PolicyConfig, n_zone: int) -> np.void:
    """The record of one zone (without the region-wide specialist capacity)."""
    par = config.parameters
    sc = config.scenario
    r = np.zeros(1, PRM_DTYPE)[0]
    dem, need, care = par.demography, par.need, par.care
    gk, sec, sw, cg = par.gatekeeper, par.secondary, par.switching, par.caregivers
    cm, wf = par.case_management, par.workforce

    r["share65_start"] = sc.share_65plus_start
    r["share65_end"] = sc.share_65plus_end
    r["horizon_days"] = max(sc.years * DAYS_PER_YEAR, 1.0)
    r["growth_per_day"] = np.log1p(sc.population_growth_per_year) / DAYS_PER_YEAR
    r["mortality_band"] = mortality_by_band(dem.mortality_gompertz_a, dem.mortality_gompertz_b)
    r["mortality_need"] = dem.mortality_need_multiplier
    r["mortality_disrupted"] = dem.mortality_disrupted_multiplier
    r["mortality_preferential"] = dem.mortality_preferential_multiplier
    r["preferential_share"] = dem.preferential_ses_share
    p0, p1 = limited_literacy_probabilities(
        dem.limited_literacy_share,
        dem.preferential_ses_share,
        dem.limited_literacy_odds_ratio_preferential,
    )
    r["limited_p_standard"], r["limited_p_preferential"] = p0, p1

    r["need_band_of_age_band"] = need_band_of_age_band(need.age_band_edges)
    r["progression"] = np.stack(
        [
            per_day(need.progression_0_1),
            per_day(need.progression_1_2),
            per_day(need.progression_2_3),
        ],
        axis=1,
    )
    r["prevalence"] = np.stack(
        [
            need.prevalence_chronic,
            need.prevalence_complex_given_chronic,
            need.prevalence_very_high_given_complex,
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
    r["home_visit_share"] = care.home_visit_share_by_need
    r["nursing_hours_day"] = np.asarray(care.nursing_hours_per_week) / 7.0
    r["physio_rate"] = np.asarray(care.physio_sessions_per_year) / DAYS_PER_YEAR
    r["psychology_rate"] = np.asarray(care.psychology_sessions_per_year) / DAYS_PER_YEAR
    r["social_rate"] = np.asarray(care.social_work_contacts_per_year) / DAYS_PER_YEAR
    r["direct_specialist_rate"] = np.asarray(care.direct_specialist_per_year) / DAYS_PER_YEAR
    r["emergency_rate"] = np.asarray(care.emergency_per_year) / DAYS_PER_YEAR
    # The information point closes part of the health-literacy gap (MODEL.md process 4).
    gap = 1.0 - (policy.information_point_gap_reduction if policy.information_point else 0.0)
    r["limited_routine"] = 1.0 - (1.0 - care.limited_literacy_routine_multiplier) * gap
    r["limited_emergency"] = 1.0 + (care.limited_literacy_emergency_multiplier - 1.0) * gap
    # The point's effect on recognition runs through its use (core/switching.py recognised).
    r["recognition_delay"] = (
        care.recognition_delay_days,
        care.recognition_delay_days + care.limited_literacy_recognition_delay_days,
    )

    r["gp_contacts_per_fte_day"] = gk.gp_contacts_per_fte_per_year / DAYS_PER_YEAR
    r["gp_contact_hours"] = wf.gp_contact_minutes / 60.0
    r["max_overtime"] = gk.max_overtime_share
    r["unmet_wait_days"] = gk.unmet_wait_days
    r["ed_after_wait"] = gk.emergency_after_wait_per_day
    r["referral_p"] = gk.referral_probability_by_need
    r["referral_strain"] = gk.referral_strain_effect
    r["strict_gatekeeping"] = 1 if policy.gatekeeping == "strict" else 0
    r["gatekept_referral_p"] = 1.0 - gk.gatekept_resolution_share
    r["pooled_substitutable"] = gk.pooled_substitutable_share
    r["nurse_followup_hours"] = gk.nurse_followup_minutes / 60.0
    r["nurse_followup_share"] = policy.nurse_followup_share

    r["admission_rate"] = np.asarray(sec.admission_per_year) / DAYS_PER_YEAR
    r["avoidable_rate"] = np.asarray(sec.avoidable_admission_per_year) / DAYS_PER_YEAR
    r["avoidable_disrupted"] = sec.avoidable_disrupted_multiplier
    r["avoidable_case_managed"] = sec.avoidable_case_managed_multiplier
    r["admission_after_emergency"] = sec.admission_after_emergency
    # Mean stay by need, normalised so that admissions (weighted towards higher need) average
    # about length_of_stay_days; the calibration checks the result.
    rel = 1.0 + sec.length_of_stay_need_slope * (np.arange(4) - 0.9)
    r["los_mean_need"] = sec.length_of_stay_days * np.maximum(rel, 0.2)
    r["discharge_switch"] = sec.discharge_switch_probability

    r["fall_rate_65"] = np.asarray(sw.fall_per_year_65plus) / DAYS_PER_YEAR
    r["fall_rate_young"] = sw.fall_per_year_under65 / DAYS_PER_YEAR
    r["fall_switch"] = sw.fall_switch_probability
    r["fall_admission"] = sw.fall_admission_probability
    r["acute_rate"] = np.asarray(sw.acute_deterioration_per_year) / DAYS_PER_YEAR
    r["acute_admission"] = sw.acute_admission_probability
    r["coordination_hours"] = sw.coordination_hours_by_need
    r["no_caregiver_work"] = sw.no_caregiver_work_multiplier
    r["team_hours_day"] = sw.team_hours_per_day
    r["coordination_share"] = np.asarray(sw.coordination_share) / max(
        sum(sw.coordination_share), 1e-12
    )
    r["care_plan_speedup"] = sw.care_plan_speedup
    r["strain_slowdown"] = sw.strain_slowdown
    r["cm_work_hours_day"] = sw.cm_work_hours_per_day
    r["cm_min_need"] = sw.cm_eligible_min_need
    r["cm_min_hours"] = sw.cm_eligible_min_hours
    r["went_wrong_days"] = sw.went_wrong_days
    r["report_p"] = sw.report_probability  # with the point: core/demand.py PARAMS
    r["care_plan_share"] = policy.care_plan_share

    r["caregiver_share"] = cg.caregiver_share
    r["burden_rise"] = cg.burden_rise_per_day
    r["burden_relief"] = cg.burden_relief_per_day
    r["burden_disrupted"] = cg.burden_disrupted_rise_per_day
    r["overload"] = cg.overload_threshold
    r["cg_illness"] = per_day(cg.illness_per_year)
    r["cg_illness_slope"] = cg.illness_burden_slope
    r["cg_breakdown"] = per_day(cg.breakdown_per_year_at_full_burden)
    r["cg_death"] = per_day(cg.death_per_year)
    r["cg_illness_days"] = cg.illness_days
    r["cg_breakdown_days"] = cg.breakdown_days
    r["informal_hours_day"] = np.asarray(par.costs.informal_care_hours_per_week) / 7.0

    r["cm_enabled"] = (
        1 if (policy.allocation_rule != "none" and policy.case_manager_fte_per_100k > 0) else 0
    )
    r["cm_rule"] = S.RULE_CODES[policy.allocation_rule]
    r["cm_attached"] = 1 if policy.cm_organisation == "practice_attached" else 0
    r["caseload_cap"] = policy.caseload_cap
    r["equity_weight"] = policy.equity_weight
    r["cm_followup_hours_day"] = cm.followup_hours_per_week / 7.0

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
    r["ema_alpha"] = 1.0 / wf.utilisation_smoothing_days
    r["strain_rise"] = wf.strain_rise_per_day
    r["strain_recovery"] = wf.strain_recovery_per_day
    r["comfortable"] = wf.comfortable_utilisation
    r["strained_threshold"] = wf.strained_threshold
    r["sick_per_day"] = per_day(wf.sick_leave_per_year)
    r["sick_slope"] = wf.sick_leave_strain_slope
    r["sick_days"] = wf.sick_leave_days
    r["attrition_per_day"] = per_day(wf.attrition_per_year)
    r["attrition_slope"] = wf.attrition_strain_slope
    r["gp_retirement_per_day"] = per_day(sc.gp_retirement_per_year)
    r["gp_recruit_fte_per_day"] = (
        sc.recruitment_fte_per_100k_per_year * n_zone / 1e5 / DAYS_PER_YEAR
    )
    r["recruit_share_per_day"] = wf.recruitment_per_year / DAYS_PER_YEAR
    hours = np.full(S.N_DISCIPLINES, wf.hours_per_fte_per_week)
    hours[S.GP] = wf.gp_hours_per_fte_per_week
    hours[S.CASE_MANAGER] = cm.hours_per_fte_per_week
    r["hours_per_fte_week"] = hours
    r["strain_full"] = max(wf.strain_full_utilisation, wf.comfortable_utilisation + 1e-6)
    r["vacancy_fill_days"] = wf.vacancy_fill_days
    r["gp_vacancy_fill_days"] = wf.gp_vacancy_fill_days
    r["deferral_per_wait_day"] = gk.deferral_per_wait_day
    r["deferral_max_share"] = gk.deferral_max_share
    r["give_up_per_day"] = gk.give_up_per_day
    r["practice_change_wait_days"] = gk.practice_change_wait_days
    r["practice_change_per_day"] = gk.practice_change_per_day
    r["practice_list_cap_per_fte"] = gk.practice_list_cap_per_fte
    # Need regression is drawn once a month (demography.migration): monthly probabilities.
    month = RECOUNT_DAYS / DAYS_PER_YEAR
    r["regression"] = np.stack(
        [
            -np.expm1(-np.asarray(need.regression_1_0) * month),
            -np.expm1(-np.asarray(need.regression_2_1) * month),
            -np.expm1(-np.asarray(need.regression_3_2) * month),
        ],
        axis=1,
    )
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
