"""The Quadruple Aim and equity scorecard (MODEL.md section 5), time series and continuity.

Flows (contacts, admissions, QALYs, costs...) come from the kernel's accumulators over a window
(``acc_end - acc_start``), and so does the GP workforce (``gp_fte_per_100k``: the window's mean,
from the FTE-days employed). The other stocks and per-patient shares (continuity, who was admitted
in the last year, the 65+ share, mean strain) come from the state arrays at the end of the window
(the time of the call): :data:`END_OF_WINDOW` lists them, and tables say so. Rates are per capita
per year (person-years lived in the window), so runs of any length compare.

Equity groups: group = 2 * literacy + ses, literacy 0 adequate / 1 limited, ses 0 standard /
1 preferential. A gap is (limited - adequate) or (preferential - standard).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import parts
from .core import state as S
from .policies import information_point_cost_per_year

# Metrics read from the state at the end of the window (not window means): a comparison shows
# where the policies have brought them by then (docs/guide/concepts.md, "now:").
END_OF_WINDOW = (
    "continuity_upc",
    "caregiver_burden_mean",
    "strain_mean",
    "gp_contact_any_share",
    "hospital_admission_share",
    "falls_65plus_share",
    "limited_health_literacy_share",
    "chronic_share_15plus",
    "share_65plus",
    "case_managed_share",
    "caseload_per_cm_fte",
    "complex_share",
)
SECTIONS = ("population_health", "experience", "cost", "workforce", "equity", "activity")
COST_SECTORS = (
    "gp",
    "nursing",
    "physiotherapy",
    "psychology",
    "social_work",
    "specialist",
    "emergency",
    "hospital",
    "case_management",
    "pooled_staff",
    "governance",
)
LIMITED = (2, 3)
ADEQUATE = (0, 1)
PREFERENTIAL = (1, 3)
STANDARD = (0, 2)


def acc_window(acc_end: np.ndarray, acc_start: np.ndarray, zones=None) -> dict[str, np.ndarray]:
    """Accumulator differences over a window, summed over ``zones`` (all if None)."""
    idx = slice(None) if zones is None else np.atleast_1d(zones)
    out = {}
    for name in S.ACC_DTYPE.names:
        d = acc_end[name][idx] - acc_start[name][idx]
        out[name] = d.sum(axis=0)
    return out


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b > 0 else float("nan")


def _hist_quantile(hist: np.ndarray, q: float) -> float:
    """Quantile (in days) of the switch-to-equilibrium histogram (bins are whole days)."""
    total = hist.sum()
    if total <= 0:
        return float("nan")
    cum = np.cumsum(hist)
    return float(np.searchsorted(cum, q * total, side="left"))


def _group_rates(w: dict, groups) -> dict[str, float]:
    g = list(groups)
    py = w["person_days"][g].sum() / S.DAYS_PER_YEAR
    hist = w["switch_hist"][g].sum(axis=0)
    return {
        "qalys_per_capita": _div(w["qaly"][g].sum(), py),
        "unmet_need_days_per_1000": _div(w["unmet_need_days"][g].sum() * 1000.0, py),
        "switch_to_equilibrium_days_median": _hist_quantile(hist, 0.5),
        "avoidable_admissions_per_1000": _div(w["avoidable_admissions"][g].sum() * 1000.0, py),
    }


def costs_per_capita(
    w: dict, costs, policies, person_years: float, years: float, value_informal: bool
) -> dict[str, float]:
    """Euro per capita per year by sector (MODEL.md section 5, cost aim)."""
    gp_total = w["gp_contacts"].sum()
    home = w["gp_home_visits"]
    pol_cost = sum(
        p.governance_cost_per_year + information_point_cost_per_year(p) for p in policies
    )
    euros = {
        "gp": (gp_total - home) * costs.gp_consultation + home * costs.gp_home_visit,
        "nursing": w["worked_hours"][S.NURSE] * costs.nursing_hour,
        "physiotherapy": w["physio_sessions"] * costs.physio_session,
        "psychology": w["psychology_sessions"] * costs.psychology_session,
        "social_work": w["social_work_contacts"] * costs.social_work_contact,
        "specialist": w["specialist_visits"] * costs.specialist_visit,
        "emergency": w["emergency_visits"] * costs.emergency_visit,
        "hospital": w["hospital_days"] * costs.hospital_day,
        "case_management": w["cm_fte_days"] / S.DAYS_PER_YEAR * costs.case_manager_fte_year,
        "pooled_staff": w["pooled_fte_days"] / S.DAYS_PER_YEAR * costs.pooled_specialist_fte_year,
        "governance": pol_cost * years,
        **parts.costs(w, costs, policies, years),  # what the process modules declare
    }
    out = {f"cost_{k}_per_capita_eur": _div(v, person_years) for k, v in euros.items()}
    total = sum(euros.values())
    informal = w["informal_care_hours"] * costs.informal_care_hour
    out["cost_informal_care_per_capita_eur"] = _div(informal, person_years)
    # The hours themselves, for the societal perspective of zonesim.economics (which values
    # them at its own price, whatever value_informal_care says).
    out["informal_care_hours_per_capita"] = _div(w["informal_care_hours"], person_years)
    if value_informal:
        total += informal
    out["cost_per_capita_eur"] = _div(total, person_years)
    return out


def _state_metrics(state: S.State, zones, day: int) -> dict[str, float]:
    """Metrics read from the arrays now (stocks, per-patient shares over the last year)."""
    pat = state.pat
    mask = np.zeros(pat.situation.shape[0], dtype=bool)
    for z in zones:
        zr = state.zone[z]
        mask[int(zr["first_patient"]) : int(zr["next_free"])] = True
    alive = mask & (pat.situation < S.DECEASED)
    n = int(alive.sum())
    age_days = day - pat.birth_day.astype(np.int64)
    old = alive & (age_days >= int(65 * S.DAYS_PER_AGE_YEAR))
    adult = alive & (age_days >= int(15 * S.DAYS_PER_AGE_YEAR))
    out: dict[str, float] = {}
    out["share_65plus"] = _div(old.sum(), n)
    out["limited_health_literacy_share"] = _div((alive & (pat.literacy == 1)).sum(), n)
    out["chronic_share_15plus"] = _div((adult & (pat.need >= 1)).sum(), adult.sum())
    out["complex_share"] = _div((alive & (pat.need >= 2)).sum(), n)
    # Usual provider continuity: mean over patients with at least two GP contacts.
    contacts = pat.gp_contacts.astype(np.float64)
    two = alive & (contacts >= 2)
    upc = pat.gp_contacts_usual[two] / contacts[two]
    out["continuity_upc"] = float(upc.mean()) if upc.size else float("nan")
    # Shares over the last 365 days need a year of history.
    if day >= S.DAYS_PER_YEAR:
        since = day - S.DAYS_PER_YEAR
        out["gp_contact_any_share"] = _div((alive & (pat.last_gp_day >= since)).sum(), n)
        out["hospital_admission_share"] = _div((alive & (pat.last_admission_day >= since)).sum(), n)
        out["falls_65plus_share"] = _div((old & (pat.last_fall_day >= since)).sum(), old.sum())
    else:
        out["gp_contact_any_share"] = float("nan")
        out["hospital_admission_share"] = float("nan")
        out["falls_65plus_share"] = float("nan")
    chronic = alive & (pat.need >= 1)
    out["chronic_count"] = float(chronic.sum())
    out["case_managed_share_of_chronic"] = _div(
        (chronic & (pat.case_managed_days > 0)).sum(), chronic.sum()
    )
    # Caregivers and providers now.
    cg = state.cg
    active_cg = cg.state == S.CG_ACTIVE
    cg_mask = np.zeros(cg.state.shape[0], dtype=bool)
    prov_mask = np.zeros(state.prov.state.shape[0], dtype=bool)
    for z in zones:
        zr = state.zone[z]
        cg_mask[int(zr["first_caregiver"]) : int(zr["next_free_caregiver"])] = True
        prov_mask[int(zr["first_provider"]) : int(zr["end_provider"])] = True
    b = cg.burden[cg_mask & active_cg]
    out["caregiver_burden_mean"] = float(b.mean()) if b.size else float("nan")
    prov = state.prov
    working = prov_mask & ((prov.state == S.PV_ACTIVE) | (prov.state == S.PV_SICK))
    cms = working & (prov.discipline == S.CASE_MANAGER)
    cm_fte = float(prov.fte[cms].sum())
    out["caseload_per_cm_fte"] = _div(prov.caseload[cms].sum(), cm_fte)
    out["strain_mean"] = float(prov.strain[working].mean()) if working.any() else float("nan")
    return out


def compute_scorecard(
    w: dict, state: S.State, config, policies, zones, day: int, include_state: bool = True
) -> dict[str, dict[str, float]]:
    """The scorecard of a window ``w`` (see :func:`acc_window`)."""
    days = w["days"] / max(1, len(zones))
    years = days / S.DAYS_PER_YEAR
    py = w["person_days"].sum() / S.DAYS_PER_YEAR
    per1000 = lambda x: _div(x * 1000.0, py)  # noqa: E731
    hist = w["switch_hist"].sum(axis=0)
    resolved = hist.sum()
    st = _state_metrics(state, zones, day) if include_state else {}
    nan = float("nan")

    health = {
        "qalys_per_capita": _div(w["qaly"].sum(), py),
        "avoidable_admissions_per_1000": per1000(w["avoidable_admissions"].sum()),
        "deaths_per_1000": per1000(w["deaths"].sum()),
        "admissions_per_1000": per1000(w["admissions"].sum()),
    }
    experience = {
        "switch_to_equilibrium_days_median": _hist_quantile(hist, 0.5),
        "switch_to_equilibrium_days_p90": _hist_quantile(hist, 0.9),
        "switch_to_equilibrium_days_mean": _div(w["switch_days_sum"].sum(), resolved),
        "switch_resolved_14d_share": _div(hist[:15].sum(), resolved),
        "switch_moments_per_1000": per1000(w["switch_moments"].sum()),
        "gp_wait_days_mean": _div(w["gp_wait_days"], w["gp_served_routine"]),
        "unmet_need_days_per_1000": per1000(w["unmet_need_days"].sum()),
        "continuity_upc": st.get("continuity_upc", nan),
        "caregiver_overloaded_share": _div(w["caregiver_overloaded_days"], w["caregiver_days"]),
        "caregiver_burden_mean": st.get("caregiver_burden_mean", nan),
        "specialist_wait_over_14d_share": _div(
            w["specialist_wait_over_14"], w["specialist_visits"]
        ),
        # every eligible request's wait (those never allocated and those still waiting at the
        # window's end included: core/case_management.py), and the wait of those allocated
        "cm_wait_days_mean": _div(w["cm_queue_days"], w["switch_to_cm"]),
        "cm_wait_days_allocated_mean": _div(w["cm_wait_days"], w["cm_allocations"]),
        "rationed_contacts_per_1000": per1000(w["rationed_contacts"]),
        "reports_per_100k": _div(w["reports"] * 1e5, py),
        # the balancing loops of access, each counted as what it is (issue 15)
        "gp_requests_deferred_per_1000": per1000(w["gp_deferred"]),
        "gp_requests_given_up_per_1000": per1000(w["gp_gave_up"]),
        "patients_without_gp_per_1000": _div(w["without_gp_days"] * 1000.0, w["person_days"].sum()),
        "practice_changes_per_1000": per1000(w["practice_changes"]),
    }
    cost_params = config.parameters.costs
    cost = costs_per_capita(w, cost_params, policies, py, years, cost_params.value_informal_care)
    cost = {"cost_per_capita_eur": cost.pop("cost_per_capita_eur"), **cost}

    fte_years = w["fte_days"].sum() / S.DAYS_PER_YEAR
    workforce = {
        "utilisation_mean": _div(w["demand_hours"].sum(), w["capacity_hours"].sum()),
        "utilisation_gp": _div(w["demand_hours"][S.GP], w["capacity_hours"][S.GP]),
        "utilisation_nurse": _div(w["demand_hours"][S.NURSE], w["capacity_hours"][S.NURSE]),
        "utilisation_case_manager": _div(
            w["demand_hours"][S.CASE_MANAGER], w["capacity_hours"][S.CASE_MANAGER]
        ),
        "overtime_hours_per_fte": _div(w["overtime_hours"].sum(), fte_years),
        "strained_share": _div(w["strained_fte_days"].sum(), w["fte_days"].sum()),
        "sick_leave_days_per_fte": _div(w["sick_leave_days"].sum(), fte_years),
        "attrition_per_100_fte": _div(w["attrition_fte"].sum() * 100.0, fte_years),
        "gp_attrition_per_100_fte": _div(
            w["attrition_fte"][S.GP] * 100.0, w["fte_days"][S.GP] / S.DAYS_PER_YEAR
        ),
        # the window's mean GP workforce (FTE-days employed / person-days), not the end value:
        # vacancies refill, so an end value hides what a policy's years of strain cost
        "gp_fte_per_100k": _div(w["fte_days"][S.GP] * 1e5, w["person_days"].sum()),
        "strain_mean": st.get("strain_mean", nan),
        "gp_recruited_fte_per_100k": _div(w["recruited_fte"][S.GP] * 1e5, py),
        "recruited_fte_per_100k": _div(w["recruited_fte"].sum() * 1e5, py),
        "practice_closures_per_100k": _div(w["practice_closures"] * 1e5, py),
        "gp_list_moves_per_1000": per1000(w["list_moves"]),
    }
    lim, ade = _group_rates(w, LIMITED), _group_rates(w, ADEQUATE)
    pre, std = _group_rates(w, PREFERENTIAL), _group_rates(w, STANDARD)
    equity = {}
    for name in (
        "qalys_per_capita",
        "switch_to_equilibrium_days_median",
        "unmet_need_days_per_1000",
        "avoidable_admissions_per_1000",
    ):
        short = name.replace("_per_capita", "").replace("_per_1000", "")
        short = short.replace("switch_to_equilibrium_days_median", "switch_days")
        equity[f"{short}_gap_literacy"] = lim[name] - ade[name]
        equity[f"{short}_gap_ses"] = pre[name] - std[name]
    equity["unmet_need_ratio_literacy"] = _div(
        lim["unmet_need_days_per_1000"], ade["unmet_need_days_per_1000"]
    )
    equity["unmet_need_ratio_ses"] = _div(
        pre["unmet_need_days_per_1000"], std["unmet_need_days_per_1000"]
    )
    gp_contacts = w["gp_contacts"].sum()
    activity = {
        "gp_contacts_per_capita": _div(gp_contacts, py),
        "gp_contact_any_share": st.get("gp_contact_any_share", nan),
        "referrals_per_1000": per1000(w["referrals"]),
        "referral_share_of_gp_contacts": _div(w["referrals"], gp_contacts),
        "specialist_visits_per_capita": _div(w["specialist_visits"], py),
        "specialist_self_initiated_share": _div(
            w["specialist_self_referrals"], w["specialist_self_referrals"] + w["referrals"]
        ),
        "emergency_visits_per_1000": per1000(w["emergency_visits"]),
        "hospital_admission_share": st.get("hospital_admission_share", nan),
        "mean_length_of_stay_days": _div(w["los_days_planned"], w["admissions"].sum()),
        "falls_65plus_share": st.get("falls_65plus_share", nan),
        "limited_health_literacy_share": st.get("limited_health_literacy_share", nan),
        "chronic_share_15plus": st.get("chronic_share_15plus", nan),
        "share_65plus": st.get("share_65plus", nan),
        "case_managed_share": st.get("case_managed_share_of_chronic", nan),
        "cm_referrals_share_of_chronic": _div(
            w["switch_to_cm"] / max(years, 1e-9), st.get("chronic_count", nan)
        ),
        "caseload_per_cm_fte": st.get("caseload_per_cm_fte", nan),
        "pooled_substitutions_per_1000": per1000(w["pooled_substitutions"]),
        "nurse_followups_per_1000": per1000(w["nurse_followups"]),
        "entrants_per_1000": per1000(w["entrants"]),
        "emigrants_per_1000": per1000(w["emigrants"]),
        "need_regressions_per_1000": per1000(w["need_regressions"]),
        "complex_share": st.get("complex_share", nan),
        "years": years,
        "person_years": py,
        **parts.metrics(w, py),  # what the process modules declare
    }
    return {
        "population_health": health,
        "experience": experience,
        "cost": cost,
        "workforce": workforce,
        "equity": equity,
        "activity": activity,
    }


def _zones_of(model, zone) -> list[int]:
    n = model.state.n_zones
    return list(range(n)) if zone is None else [int(zone)]


def scorecard(model, zone: int | None = None) -> dict[str, dict[str, float]]:
    """The Quadruple Aim + equity scorecard of ``model`` since its measurement start."""
    zones = _zones_of(model, zone)
    w = acc_window(model.state.acc, model.acc_start, zones)
    policies = [model.policies[z] for z in zones]
    return compute_scorecard(w, model.state, model.config, policies, zones, int(model.state.day[0]))


def flatten(card: dict[str, dict[str, float]]) -> dict[str, float]:
    """``{metric: value}`` over all sections (metric names are unique across sections)."""
    out: dict[str, float] = {}
    for section in SECTIONS:
        out.update(card.get(section, {}))
    return out


def metric_sections() -> dict[str, str]:
    """Which section each metric belongs to."""
    from .config import Config

    # A tiny empty window gives every metric name (values are NaN).
    w = {name: np.zeros(S.ACC_DTYPE[name].shape) for name in S.ACC_DTYPE.names}
    card = compute_scorecard(w, None, Config(), [], [0], 0, include_state=False)
    return {m: sec for sec, metrics in card.items() for m in metrics}


def timeseries(model, zone: int | None = None):
    """Monthly flows of the scorecard as a pandas DataFrame (one row per month).

    Stock metrics that need the arrays at that time (continuity, shares over the last year) are
    left out; use :func:`scorecard` for them.
    """
    import pandas as pd

    zones = _zones_of(model, zone)
    policies = [model.policies[z] for z in zones]
    rows: list[dict[str, Any]] = []
    snaps = list(model.snapshots)
    base_day = int(getattr(model, "measure_start_day", 0))
    prev_day, prev = base_day, model.acc_start
    for day, acc in snaps:
        if day <= prev_day:
            continue
        w = acc_window(acc, prev, zones)
        card = compute_scorecard(
            w, model.state, model.config, policies, zones, day, include_state=False
        )
        row: dict[str, Any] = {"day": day, "month": len(rows) + 1}
        for metrics in card.values():
            for k, v in metrics.items():
                if not np.isnan(v):
                    row[k] = v
        rows.append(row)
        prev_day, prev = day, acc
    return pd.DataFrame(rows)
