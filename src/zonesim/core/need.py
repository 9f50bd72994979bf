"""Process 2, need progression: a patient moves up one need level (hazards by age band, higher
with preferential SES; see core/events.py). A patient becoming care-dependent (need 2) may get
an informal caregiver and, under the policy, an integrated care plan.

Care changes health (issue 16): a patient with an open *care gap* (recent unmet need, a missed
chronic follow-up, untreated psychological need; tracked in ``pat.care_gaps``, core/common.py)
has, on top of the daily event of core/events.py, an excess hazard of need progression and of
an avoidable (ambulatory-care sensitive) admission, drawn with its own purpose so that the
daily draw of every patient stays the same under every policy (common random numbers); an
active gap may also lower utility (core/common.py ``target_utility``). Each pathway is one
parameter of ``parameters.need`` (all assumptions; docs/odd.md lists them): for each gap (unmet
need, missed follow-up, untreated psychological need) ``<gap>_progression_rr``,
``<gap>_avoidable_rr`` and ``<gap>_utility_loss``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (
    GAP_ACTIVE,
    GAP_FOLLOWUP,
    GAP_FOLLOWUP_PENDING,
    N_GAPS,
    gets_care_plan,
    open_gap,
    refresh_utility,
)
from .demography import add_caregiver
from .state import (
    DECEASED,
    EV_AVOIDABLE_ADMISSION,
    EV_NEED_PROGRESSION,
    F_CARE_PLAN,
    F_GP_WAITING,
    IN_HOSPITAL,
)
from .streams import PURPOSE_CARE_PLAN, uniform

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_NEW_CAREGIVER = 33  # a patient becoming complex gets an informal caregiver

PURPOSE_CARE_GAP = 2200  # the excess hazard of an open care gap (patient, day)
PURPOSES = {"new_caregiver": PURPOSE_NEW_CAREGIVER, "care_gap": PURPOSE_CARE_GAP}
GAP_NAMES = ("unmet_need", "missed_followup", "untreated_psych")


def _by_gap(attr):
    """Compile ``need.<gap>_<attr>`` of the three gaps into one array."""
    names = ("unmet_need", "missed_followup", "untreated_psych")

    def compile_(config, policy):
        need = config.parameters.need
        return np.array([getattr(need, f"{g}_{attr}") for g in names], dtype=np.float64)

    return compile_


def _excess(attr):
    base = _by_gap(attr)
    return lambda config, policy: base(config, policy) - 1.0


PARAMS = (
    ("gap_progression_excess", np.float64, (N_GAPS,), _excess("progression_rr")),
    ("gap_avoidable_excess", np.float64, (N_GAPS,), _excess("avoidable_rr")),
    ("gap_utility_loss", np.float64, (N_GAPS,), _by_gap("utility_loss")),
)
ACCUMULATORS = (
    # long-standing counts of this process (moved from state._ACC_FIELDS, issue 14)
    ("need_progressions", np.float64, None),
    ("care_gaps_opened", np.float64, (N_GAPS,)),  # gaps that arose (not renewals)
    ("care_gap_days", np.float64, (N_GAPS,)),  # patient-days outside hospital with the gap
    ("gap_progressions", np.float64, None),  # need progressions from the excess hazard
    ("gap_avoidable_admissions", np.float64, None),  # avoidable admissions from it
)


def metrics(w, person_years):
    """Care gaps and what they did, per 1,000 person-years."""
    per = 1000.0 / person_years if person_years else 0.0
    out = {
        f"care_gap_days_{g}_per_1000": per * float(w["care_gap_days"][k])
        for k, g in enumerate(GAP_NAMES)
    }
    out["gap_need_progressions_per_1000"] = per * float(w["gap_progressions"])
    out["gap_avoidable_admissions_per_1000"] = per * float(w["gap_avoidable_admissions"])
    return out


@njit(cache=True, _nrt=False, inline="always")
def need_progression(pat, cg, zones, accs, p, z, i, day, key):
    need = pat.need[i]
    if need >= 3:
        return
    zr = zones[z]
    zr.need_count[need] -= 1
    need += 1
    zr.need_count[need] += 1
    pat.need[i] = need
    accs[z].need_progressions += 1.0
    if need == 2:
        if pat.caregiver[i] < 0 and uniform(key, i, day, PURPOSE_NEW_CAREGIVER) < p.caregiver_share:
            add_caregiver(pat, cg, zones, accs, p, z, i, day)
        # The care-plan draw is the patient's own, whatever the day: a larger care_plan_share
        # adds care plans, never reshuffles them (common random numbers).
        if gets_care_plan(need, uniform(key, i, 0, PURPOSE_CARE_PLAN), p.care_plan_share):
            pat.flags[i] |= F_CARE_PLAN
    refresh_utility(pat, zones, p, z, i)


@njit(cache=True, _nrt=False)
def care_gap_events(pat, zones, accs, p, z, i, day, key, band):
    """Today's excess hazards of patient i's open care gaps (called from the daily patient
    pass for a patient with any gap bit set): one draw of its own purpose picks need
    progression, an avoidable admission or nothing. Returns the event to carry out
    (``EV_NEED_PROGRESSION``, ``EV_AVOIDABLE_ADMISSION``) or -1: the patient pass carries it
    out (events.carry_out), as it does the daily draw's."""
    gaps = np.int64(pat.care_gaps[i])
    if gaps & GAP_FOLLOWUP_PENDING and not (pat.flags[i] & F_GP_WAITING):
        # The follow-up left the GP queue without a contact (gave up, went to the emergency
        # department, was admitted): a missed follow-up.
        pat.care_gaps[i] = np.uint8(gaps & ~GAP_FOLLOWUP_PENDING)
        open_gap(pat, zones, accs, p, z, i, GAP_FOLLOWUP)
        gaps = np.int64(pat.care_gaps[i])
    if not (gaps & GAP_ACTIVE) or pat.situation[i] >= IN_HOSPITAL:
        return -1
    acc = accs[z]
    prog_x = 0.0
    adm_x = 0.0
    for k in range(N_GAPS):
        if (gaps >> (2 * k)) & 3:
            acc.care_gap_days[k] += 1.0
            prog_x += p.gap_progression_excess[k]
            adm_x += p.gap_avoidable_excess[k]
    need = pat.need[i]
    prog = 0.0
    if need < 3:
        prog = p.progression[p.need_band_of_age_band[band], need] * prog_x
        if pat.ses[i]:
            prog *= p.preferential_need
    adm = p.avoidable_rate[need] * adm_x
    if prog + adm <= 0.0:
        return -1
    u = uniform(key, i, day, PURPOSE_CARE_GAP)
    if u < prog:
        acc.gap_progressions += 1.0
        return EV_NEED_PROGRESSION
    if u < prog + adm:
        acc.gap_avoidable_admissions += 1.0
        return EV_AVOIDABLE_ADMISSION
    return -1


@njit(cache=True, _nrt=False)
def age_care_gaps(pat, zones, p, z):
    """Monthly (after the recount): each active gap counter goes down by one; a gap whose
    counter reaches zero has closed (the patient's utility is refreshed)."""
    zr = zones[z]
    for i in range(zr.first_patient, zr.next_free):
        g = np.int64(pat.care_gaps[i])
        if not (g & GAP_ACTIVE):
            continue
        if pat.situation[i] >= DECEASED:
            pat.care_gaps[i] = 0
            continue
        new = g & ~GAP_ACTIVE
        closed = False
        for k in range(N_GAPS):
            c = (g >> (2 * k)) & 3
            if c > 0:
                c -= 1
                closed = closed or c == 0
            new |= c << (2 * k)
        pat.care_gaps[i] = np.uint8(new)
        if closed:
            refresh_utility(pat, zones, p, z, i)
