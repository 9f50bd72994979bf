"""Calibration: the default scenario against published figures, in three kinds.

Each :class:`Target` names a metric, the published value, the tolerance we hold ourselves to, its
source and its **kind**:

- ``input``: the figure is also the source of a parameter (the 65+ share, the GP FTE, the length
  of stay ...). The model reproduces it because it was told it; it is shown as a check that the
  input arrives, never counted as validation;
- ``fit``: a figure that assumption parameters were tuned to reach (GP contacts, the referral
  share, the admission share, caregiver overload ...): agreement shows the fit holds, not that
  the model is right;
- ``holdout``: a published figure that no parameter was set from or tuned to (mortality,
  hospital bed-days, emergency visits, doctor consultations, GP attrition, sick leave, GP
  waits, informal care hours ...): the model's evidence. A hold-out may miss; a miss is
  reported with its reason (``Target.miss``), never hidden.

Inputs and fitting targets must pass (:attr:`Target.must_pass`): the test suite fails when one
leaves its tolerance. Hold-outs are reported as they fall. :func:`calibrate` runs the built-in
default zone (after a warm-up, so queues and episodes are in their steady state) and reports
simulated against target; ``zonesim calibrate`` prints the kinds apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import config as C

INPUT, FIT, HOLDOUT = "input", "fit", "holdout"
KINDS = (INPUT, FIT, HOLDOUT)
KIND_TITLES = {
    INPUT: "Inputs (the figure also sets a parameter: a check that it arrives, not validation)",
    FIT: "Fitting targets (assumption parameters were tuned to reach them)",
    HOLDOUT: "Hold-out targets (never used to set or tune a parameter: the model's evidence)",
}
SENSES = ("=", ">=", "<=")

# Sources of the hold-out targets (figures the parameters do not use).
SRC_MORTALITY = (
    "Statbel, mortality rates per region 2000-2019 (Flemish Region, crude death rate 9.5 per "
    "1,000 in 2019)"
)
SRC_BEDDAYS = (
    "healthybelgium.be, HSPA indicator S-11 (curative care bed-days per capita, Belgium: 1.1 in "
    "2010, 0.9 in 2021)"
)
SRC_EMERGENCY = (
    "FOD Volksgezondheid, MZG spoedgevallendienst report 2010-2018 (3,688,850 emergency "
    "department stays in Belgium in 2018, ~324 per 1,000 of 11.4 million inhabitants); "
    "healthybelgium.be (Flanders uses emergency departments less than the other regions)"
)
SRC_CONSULTATIONS = (
    "OECD Health at a Glance / Health Statistics (in-person doctor consultations, GPs and "
    "specialists, Belgium: 7.3 per person in 2019, 6.7 in 2011 and 2021)"
)
SRC_GP_OUTFLOW = (
    "ICHO projection (about 1,900 Flemish GPs stop in 2023-24 to 2031-32, ~210 a year; "
    "Artsenkrant) over 8,246 active Flemish GPs (PlanKad Artsen 2004-2016): ~2.6 per 100 a year"
)
SRC_SICK_LEAVE = (
    "Vernet, sick-leave percentage of the Dutch care and welfare sector (6.1% in Q2 2020, "
    "7.8% in 2024): 22-28 calendar days per FTE-year"
)
SRC_GP_WAIT = (
    "Dutch GP access norm (8 in 10 patients seen within 2 working days, at most 3) and the "
    "Kieskompas/ANP survey of December 2024 (just over half get a routine GP appointment "
    "within 3 days)"
)
SRC_INFORMAL_HOURS = (
    "CBS, RIVM and GGD, Gezondheidsmonitor 2016 (Dutch informal caregivers give on average "
    "11 hours a week)"
)


@dataclass(frozen=True)
class Target:
    """A published figure the default zone is compared with.

    ``value`` and ``tolerance`` in the metric's unit; ``sense`` ``=`` means
    ``|simulated - value| <= tolerance``, ``>=`` means ``simulated >= value - tolerance`` (a
    published lower bound) and ``<=`` ``simulated <= value + tolerance``. ``parameters``: for an
    input, the parameters set from the same source; for a fitting target, those tuned to reach
    it. ``miss``: for a hold-out that misses, why (shown next to the miss).
    """

    metric: str
    value: float
    tolerance: float
    source: str
    note: str = ""
    kind: str = FIT
    sense: str = "="
    parameters: tuple[str, ...] = ()
    miss: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Target {self.metric}: kind {self.kind!r} not in {KINDS}")
        if self.sense not in SENSES:
            raise ValueError(f"Target {self.metric}: sense {self.sense!r} not in {SENSES}")

    @property
    def must_pass(self) -> bool:
        """Inputs and fitting targets must be met; hold-outs are reported as they fall."""
        return self.kind != HOLDOUT

    def check(self, simulated: float) -> bool:
        if not np.isfinite(simulated):
            return False
        if self.sense == ">=":
            return simulated >= self.value - self.tolerance
        if self.sense == "<=":
            return simulated <= self.value + self.tolerance
        return abs(simulated - self.value) <= self.tolerance

    def describe(self) -> str:
        """The target as read: ``5.1 ± 0.4``, ``>= 0.6``, ``<= 3``."""
        return describe_target(self.value, self.tolerance, self.sense)


def fmt_value(x: float) -> str:
    """A value in about three significant digits (thousands with separators)."""
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def describe_target(value: float, tolerance: float, sense: str) -> str:
    """``5.1 ± 0.4`` for a two-sided target, ``>= 0.6`` / ``<= 3`` for a published bound."""
    if sense == "=":
        return f"{fmt_value(value)} ± {fmt_value(tolerance)}"
    bound = value - tolerance if sense == ">=" else value + tolerance
    return f"{sense} {fmt_value(bound)}"


P = "parameters."
TARGETS: tuple[Target, ...] = (
    # --- inputs: the figure is also a parameter's source (REVIEW item 14) -----------------------
    Target(
        "limited_health_literacy_share",
        0.29,
        0.02,
        C.SRC_HL,
        kind=INPUT,
        parameters=(P + "demography.limited_literacy_share",),
    ),
    Target(
        "share_65plus",
        0.21,
        0.01,
        C.SRC_65,
        kind=INPUT,
        parameters=("scenario.share_65plus_start",),
    ),
    Target(
        "gp_fte_per_100k",
        74.0,
        4.0,
        C.SRC_GP_FTE,
        kind=INPUT,
        parameters=(P + "gatekeeper.gp_fte_per_100k",),
    ),
    Target(
        "mean_length_of_stay_days",
        6.4,
        0.6,
        C.SRC_HOSP,
        kind=INPUT,
        parameters=(P + "secondary.length_of_stay_days",),
    ),
    Target(
        "caseload_per_cm_fte",
        57.5,
        17.5,
        C.SRC_AHRQ,
        "caseload 40-75 per case manager; the cap (50) is set from the same range",
        kind=INPUT,
        parameters=("policy.caseload_cap",),
    ),
    Target(
        "chronic_share_15plus",
        0.29,
        0.04,
        C.SRC_CHRONIC,
        kind=INPUT,
        parameters=(P + "need.prevalence_chronic",),
    ),
    Target(
        "falls_65plus_share",
        0.33,
        0.04,
        C.SRC_FALLS,
        kind=INPUT,
        parameters=(P + "switching.fall_per_year_65plus",),
    ),
    Target(
        "chronic_share_65plus",
        0.60,
        0.0,
        C.SRC_CHRONIC,
        "multimorbidity in over 60% of people aged 65+, so at least 60% have a chronic need "
        "(need >= 1); the initial prevalence per age band comes from the same source",
        kind=INPUT,
        sense=">=",
        parameters=(P + "need.prevalence_chronic",),
    ),
    Target(
        "caregiver_share_of_dependent",
        0.76,
        0.06,
        C.SRC_CAREGIVER,
        "share of care-dependent patients (need >= 2) with an active caregiver now; the model "
        "gives at most one, and reads the 76% with exactly one registered caregiver as the "
        "share with one",
        kind=INPUT,
        parameters=(P + "caregivers.caregiver_share",),
    ),
    Target(
        "cm_episode_months",
        15.0,
        9.0,
        C.SRC_AHRQ,
        "episodes of 6-24 months: case-managed days over allocations (Little's law, steady "
        "state); the episode length (uniform on 6-24 months) is set from the same range",
        kind=INPUT,
        parameters=(P + "switching.cm_episode_months",),
    ),
    # --- fitting targets: assumption parameters were tuned to reach them ------------------------
    Target(
        "specialist_wait_over_14d_share",
        0.48,
        0.10,
        C.SRC_SPECIALIST,
        "an outcome of the region's waiting list (demand, slots, extra sessions, leaving); "
        "the slots per capita were fitted to it",
        kind=FIT,
        parameters=(P + "secondary.specialist_slots_per_1000_per_year",),
    ),
    Target(
        "gp_contacts_per_capita",
        5.1,
        0.4,
        C.SRC_GP_CONTACTS,
        kind=FIT,
        parameters=(P + "care.gp_contacts_per_year",),
    ),
    Target(
        "gp_contact_any_share",
        0.86,
        0.04,
        C.SRC_GP_CONTACTS,
        kind=FIT,
        parameters=(P + "care.propensity_shape",),
    ),
    Target(
        "referral_share_of_gp_contacts",
        0.07,
        0.02,
        C.SRC_NIVEL,
        "the GP's referral behaviour per contact",
        kind=FIT,
        parameters=(P + "gatekeeper.referral_probability_by_need",),
    ),
    Target(
        "specialist_self_initiated_share",
        0.63,
        0.06,
        C.SRC_SPECIALIST,
        kind=FIT,
        parameters=(P + "care.direct_specialist_per_year",),
    ),
    Target(
        "hospital_admission_share",
        0.11,
        0.015,
        C.SRC_HOSP,
        kind=FIT,
        parameters=(P + "secondary.admission_per_year",),
    ),
    Target(
        "cm_referrals_share_of_chronic",
        0.03,
        0.02,
        C.SRC_KAISER,
        "chronic patients referred to case management per year (1-5%)",
        kind=FIT,
        parameters=(P + "switching",),
    ),
    Target(
        "caregiver_overloaded_share",
        0.09,
        0.04,
        C.SRC_CAREGIVER,
        kind=FIT,
        parameters=(P + "caregivers.burden_rise_per_day", P + "caregivers.burden_relief_per_day"),
    ),
    Target(
        "cost_gp_per_capita_eur",
        175.0,
        30.0,
        C.SRC_RIZIV,
        "about 5.1 contacts at 32-46 euro: follows from the fitted contacts and the tariffs "
        "(inputs), so it is no independent evidence",
        kind=FIT,
        parameters=(P + "care.gp_contacts_per_year",),
    ),
    # --- hold-outs: no parameter was set from or tuned to these ---------------------------------
    Target(
        "deaths_per_1000",
        9.5,
        1.5,
        SRC_MORTALITY,
        "the mortality hazards (Gompertz, need multipliers) are assumptions; the default zone's "
        "age structure (21% aged 65+) is close to Flanders'",
        kind=HOLDOUT,
    ),
    Target(
        "hospital_days_per_capita",
        0.9,
        0.2,
        SRC_BEDDAYS,
        "hospital days lived per inhabitant per year; admissions per admitted person are not "
        "fitted (only the share admitted and the mean stay are)",
        kind=HOLDOUT,
    ),
    Target(
        "emergency_visits_per_1000",
        324.0,
        100.0,
        SRC_EMERGENCY,
        "Belgium's rate, wide tolerance: Flanders uses emergency departments less",
        kind=HOLDOUT,
        miss="the model sends patients to the emergency department only when a routine GP "
        "request fails or at an acute switch moment; injuries and self-referral for other "
        "reasons (76% of Belgian emergency visits come without a GP referral, HIS 2013) are "
        "outside the model, so its emergency use, and cost, are low",
    ),
    Target(
        "doctor_consultations_per_capita",
        7.3,
        1.0,
        SRC_CONSULTATIONS,
        "GP contacts + specialist visits per inhabitant (OECD definition: generalists and "
        "specialists, in person); GP contacts are fitted, specialist volume is not",
        kind=HOLDOUT,
        miss="specialist volume is low (well below the ~2.2 visits per inhabitant a year the "
        "figure implies): the model counts a first visit after a referral or direct request and a "
        "few follow-ups, not the long-running outpatient follow-up of chronic patients, so "
        "the specialist cost line is low too",
    ),
    Target(
        "referrals_per_1000",
        327.0,
        80.0,
        C.SRC_NIVEL,
        "Dutch figure under strict gatekeeping; weak evidence, as it is near the product of two "
        "fitted figures (contacts per inhabitant x referral share)",
        kind=HOLDOUT,
    ),
    Target(
        "gp_attrition_per_100_fte",
        2.6,
        1.5,
        SRC_GP_OUTFLOW,
        "GPs who stop, per 100 a year (headcount, not FTE)",
        kind=HOLDOUT,
        miss="the attrition hazard is an assumption, set high because half of the GPs are "
        "55+, and strain adds to it; against the published outflow it is far too high "
        "(several times the published rate), which feeds the reinforcing loop of the care "
        "paradox: a candidate for the fit of the dynamics",
    ),
    Target(
        "sick_leave_days_per_fte",
        25.0,
        6.0,
        SRC_SICK_LEAVE,
        "calendar days of sick leave per FTE-year, all disciplines; the source covers employees "
        "of Dutch care organisations",
        kind=HOLDOUT,
        miss="the sick-leave hazard (0.25 a year at zero strain, 21 days) is an assumption, "
        "about a third of the Dutch care sector's rate; that rate is for employees (nurses, "
        "carers) and includes long-term leave, while most Flemish GPs are self-employed: no "
        "Belgian figure for primary-care providers was found",
    ),
    Target(
        "gp_wait_days_mean",
        3.0,
        0.0,
        SRC_GP_WAIT,
        "mean days from a routine request to the GP contact: at most the 3-day norm",
        kind=HOLDOUT,
        sense="<=",
    ),
    Target(
        "informal_care_hours_per_caregiver_week",
        11.0,
        4.0,
        SRC_INFORMAL_HOURS,
        "hours a week per active caregiver (the hours per need level are assumptions, and they "
        "are what the societal perspective values); the model's caregivers care for "
        "care-dependent patients only, the survey's for anyone",
        kind=HOLDOUT,
    ),
)

WARMUP_DAYS = C.WARMUP_DAYS  # the one default, kept here for existing imports


def targets_of(kind: str) -> tuple[Target, ...]:
    """The targets of one kind (``input``, ``fit`` or ``holdout``)."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    return tuple(t for t in TARGETS if t.kind == kind)


def calibration_metrics(model) -> dict[str, float]:
    """The scorecard of ``model`` since its measurement start, with the few measures only the
    calibration needs (computed here from the same accumulators and arrays)."""
    from .core import state as S
    from .metrics import acc_window, flatten

    card = flatten(model.scorecard())
    w = acc_window(model.state.acc, model.acc_start)
    py = card.get("person_years", float("nan"))
    out = dict(card)
    out["hospital_days_per_capita"] = float(w["hospital_days"]) / py if py > 0 else np.nan
    out["doctor_consultations_per_capita"] = card.get("gp_contacts_per_capita", np.nan) + card.get(
        "specialist_visits_per_capita", np.nan
    )
    cg_days = float(w["caregiver_days"])
    out["informal_care_hours_per_caregiver_week"] = (
        float(w["informal_care_hours"]) / cg_days * 7.0 if cg_days > 0 else np.nan
    )
    alloc = float(w["cm_allocations"])
    out["cm_episode_months"] = (
        float(w["case_managed_days"]) / alloc / (S.DAYS_PER_YEAR / 12.0) if alloc > 0 else np.nan
    )
    # Stocks now, over the zone's patients alive.
    pat, day = model.state.pat, int(model.state.day[0])
    alive = pat.situation < S.DECEASED
    old = alive & (day - pat.birth_day.astype(np.int64) >= 23741)  # 65 years, as metrics.py
    out["chronic_share_65plus"] = float((old & (pat.need >= 1)).sum() / max(1, old.sum()))
    dependent = alive & (pat.need >= 2)
    has_cg = pat.caregiver >= 0
    cg_ok = np.zeros(dependent.shape, dtype=bool)
    idx = np.flatnonzero(dependent & has_cg)
    cg_ok[idx] = model.state.cg.state[pat.caregiver[idx]] == S.CG_ACTIVE
    out["caregiver_share_of_dependent"] = float(cg_ok.sum() / max(1, dependent.sum()))
    return out


def simulate_targets(
    config=None,
    *,
    seed: int = 2020,
    years: float = 1.0,
    population: int | None = None,
    warmup_days: int = WARMUP_DAYS,
) -> dict[str, float]:
    """One run of the default zone (status quo, after the warm-up): ``{metric: simulated}`` for
    every metric of :data:`TARGETS` (NaN where the run has none). A pure function of its
    arguments: :mod:`zonesim.fit` sends it to worker processes."""
    from .core.state import DAYS_PER_YEAR
    from .model import ZoneModel

    model = ZoneModel(
        config,
        policy="status_quo",
        rng=seed,
        population=population,
        years=years,
        warmup_days=warmup_days,
        agents=False,
    )
    model.run_for(round(years * DAYS_PER_YEAR))
    card = calibration_metrics(model)
    return {t.metric: float(card.get(t.metric, float("nan"))) for t in TARGETS}


def target_rows(simulated: dict[str, float], targets=TARGETS) -> list[dict]:
    """One row per target (see :func:`calibrate`) from ``{metric: simulated}``."""
    rows = []
    for t in targets:
        sim = float(simulated.get(t.metric, float("nan")))
        ok = bool(t.check(sim))
        rows.append(
            {
                "metric": t.metric,
                "kind": t.kind,
                "target": t.value,
                "sense": t.sense,
                "tolerance": t.tolerance,
                "simulated": sim,
                "within": ok,
                "must_pass": t.must_pass,
                "source": t.source,
                "note": t.note,
                "miss": "" if ok else (t.miss or "no reason recorded yet"),
            }
        )
    return rows


def calibrate(
    config=None,
    *,
    seed: int = 2020,
    years: float = 1.0,
    population: int | None = None,
    progress: bool = False,
):
    """Run the default zone (status quo) and compare with :data:`TARGETS`.

    Returns a pandas DataFrame, one row per target in the order of :data:`TARGETS` (inputs,
    fitting targets, hold-outs): metric, kind, target (the published value), sense, tolerance,
    simulated, within, must_pass, source, note, miss (the recorded reason of a hold-out that
    misses; empty when it is within tolerance).
    """
    import pandas as pd

    sim = simulate_targets(config, seed=seed, years=years, population=population)
    return pd.DataFrame(target_rows(sim))
