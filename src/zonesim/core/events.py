"""The daily patient pass: one random draw per patient-day picks that patient's event, if any.

Every patient-level process with a daily hazard (falls, need progression, acute deterioration,
death, admissions, care demand) is a competing event. For each class of patient (care situation,
5-year age band, need, literacy, SES, propensity) the probabilities of the events add up to a
total; one uniform per patient-day is compared with that total (a uint32 threshold from a small
table): almost always nothing happens and the patient costs a hash and a comparison (the fast
path). Otherwise the same uniform, scaled, picks the event.

Common random numbers: the exogenous events (fall, need progression, acute deterioration) come
first in the order and their probabilities do not depend on the policy, so a patient alive under
two policies meets them on the same days under both. Demand that no policy changes comes next,
then demand the information point changes, and last the events whose probability depends on the
care situation (death, admissions), which any policy may change: a policy shifts the fewest
draws that way.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import mortality_by_band
from .demand import allied_contact, chronic_followup, direct_specialist
from .demography import die
from .gatekeeper import emergency_visit, request_gp, urgent_gp_contact
from .hospital import admit
from .need import care_gap_events, need_progression
from .state import (
    AGE_BAND_DAYS,
    CASE_MANAGED,
    DAYS_PER_YEAR,
    DECEASED,
    DISRUPTED,
    EV_ACUTE,
    EV_ADMISSION,
    EV_AVOIDABLE_ADMISSION,
    EV_CHRONIC_FOLLOWUP,
    EV_DEATH,
    EV_EMERGENCY,
    EV_FALL,
    EV_GP_ROUTINE,
    EV_NEED_PROGRESSION,
    EV_PHYSIO,
    EV_PSYCHOLOGY,
    EV_SOCIAL_WORK,
    EV_SPECIALIST_DIRECT,
    IN_HOSPITAL,
    N_AGE_BANDS,
    N_EVENTS,
    N_PROPENSITY,
    N_SIT_CLASSES,
    PHYSIO,
    PSYCHOLOGIST,
    SOCIAL_WORKER,
)
from .streams import PURPOSE_DAILY, draw_u32, uniform
from .switching import TRIGGER_ACUTE, TRIGGER_FALL, trigger_switch

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_FALL_ADMISSION = 2  # a fall leads to an admission
PURPOSE_FALL_SWITCH = 3  # a fall (not admitted) is a switch moment
PURPOSE_ACUTE_ADMISSION = 31  # an acute deterioration leads to an admission
PURPOSES = {
    "fall_admission": PURPOSE_FALL_ADMISSION,
    "fall_switch": PURPOSE_FALL_SWITCH,
    "acute_admission": PURPOSE_ACUTE_ADMISSION,
}


# Parameters of this process (core/parts.py: fields of the parameter record, each compiled
# from the configuration and the zone's policy; the kernels read ``p.<name>``).
def _literacy_gap(policy):
    """The share of the health-literacy gap left: the information point closes part of it
    (MODEL.md process 4)."""
    return 1.0 - (policy.information_point_gap_reduction if policy.information_point else 0.0)


PARAMS = (
    # effective multipliers of limited literacy, after the information point
    (
        "limited_routine",
        np.float64,
        None,
        lambda config, policy: (
            1.0
            - (1.0 - config.parameters.care.limited_literacy_routine_multiplier)
            * _literacy_gap(policy)
        ),
    ),
    (
        "limited_emergency",
        np.float64,
        None,
        lambda config, policy: (
            1.0
            + (config.parameters.care.limited_literacy_emergency_multiplier - 1.0)
            * _literacy_gap(policy)
        ),
    ),
    # daily hazard by 5-year band
    (
        "mortality_band",
        np.float64,
        (N_AGE_BANDS,),
        lambda config, policy: mortality_by_band(
            config.parameters.demography.mortality_gompertz_a,
            config.parameters.demography.mortality_gompertz_b,
        ),
    ),
    (
        "mortality_need",
        np.float64,
        (4,),
        lambda config, policy: config.parameters.demography.mortality_need_multiplier,
    ),
    (
        "mortality_disrupted",
        np.float64,
        None,
        lambda config, policy: config.parameters.demography.mortality_disrupted_multiplier,
    ),
    (
        "mortality_preferential",
        np.float64,
        None,
        lambda config, policy: config.parameters.demography.mortality_preferential_multiplier,
    ),
    (
        "physio_rate",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.care.physio_sessions_per_year) / DAYS_PER_YEAR
        ),
    ),
    (
        "psychology_rate",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.care.psychology_sessions_per_year) / DAYS_PER_YEAR
        ),
    ),
    (
        "social_rate",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.care.social_work_contacts_per_year) / DAYS_PER_YEAR
        ),
    ),
    (
        "direct_specialist_rate",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.care.direct_specialist_per_year) / DAYS_PER_YEAR
        ),
    ),
    (
        "emergency_rate",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.care.emergency_per_year) / DAYS_PER_YEAR
        ),
    ),
    (
        "admission_rate",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.secondary.admission_per_year) / DAYS_PER_YEAR
        ),
    ),
    (
        "avoidable_disrupted",
        np.float64,
        None,
        lambda config, policy: config.parameters.secondary.avoidable_disrupted_multiplier,
    ),
    (
        "avoidable_case_managed",
        np.float64,
        None,
        lambda config, policy: config.parameters.secondary.avoidable_case_managed_multiplier,
    ),
    (
        "fall_rate_65",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.switching.fall_per_year_65plus) / DAYS_PER_YEAR
        ),
    ),
    (
        "fall_rate_young",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.fall_per_year_under65 / DAYS_PER_YEAR,
    ),
    (
        "fall_switch",
        np.float64,
        (4,),
        lambda config, policy: config.parameters.switching.fall_switch_probability,
    ),
    (
        "fall_admission",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.fall_admission_probability,
    ),
    (
        "acute_rate",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.switching.acute_deterioration_per_year) / DAYS_PER_YEAR
        ),
    ),
    (
        "acute_admission",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.acute_admission_probability,
    ),
)

# What the patient pass counts itself (core/parts.py).
ACCUMULATORS = (
    ("falls", np.float64, None),
    ("falls_65plus", np.float64, None),
)

MAX_DAILY_PROBABILITY = 0.95
TWO32 = 4294967296.0
FIRST_65PLUS_BAND = 13  # 5-year band 13 starts at age 65


@njit(cache=True, _nrt=False)
def event_probabilities(p, sit, band, need, lit, ses, prop, out):
    """Fill ``out[k]`` with today's probability of event k for a patient of this class and
    return their sum (at most MAX_DAILY_PROBABILITY)."""
    nb = p.need_band_of_age_band[band]
    # Exogenous events first (policy-independent: common random numbers).
    out[EV_FALL] = p.fall_rate_65[need] if band >= FIRST_65PLUS_BAND else p.fall_rate_young
    if need < 3:
        prog = p.progression[nb, need]
        if ses:
            prog *= p.preferential_need
        out[EV_NEED_PROGRESSION] = prog
    else:
        out[EV_NEED_PROGRESSION] = 0.0
    out[EV_ACUTE] = p.acute_rate[need]
    if sit == IN_HOSPITAL:
        # In hospital only the exogenous events and in-hospital death can happen.
        for k in range(EV_CHRONIC_FOLLOWUP, N_EVENTS):
            out[k] = 0.0
        out[EV_DEATH] = p.in_hospital_death[band, need]
    else:
        # Demand no policy changes.
        out[EV_CHRONIC_FOLLOWUP] = p.followup_rate[need]
        out[EV_PHYSIO] = p.physio_rate[need]
        out[EV_PSYCHOLOGY] = p.psychology_rate[need]
        out[EV_SOCIAL_WORK] = p.social_rate[need]
        # Care seeking (process 4): the information point narrows the literacy gap.
        routine = p.limited_routine if lit else 1.0
        out[EV_GP_ROUTINE] = p.gp_rate[need] * p.propensity[prop] * routine
        out[EV_SPECIALIST_DIRECT] = p.direct_specialist_rate[need] * routine
        out[EV_EMERGENCY] = p.emergency_rate[need] * (p.limited_emergency if lit else 1.0)
        # Last: what depends on the care situation, which any policy may change.
        m = p.mortality_band[band] * p.mortality_need[need]
        if ses:
            m *= p.mortality_preferential
        if sit == DISRUPTED:
            m *= p.mortality_disrupted
        out[EV_DEATH] = m
        out[EV_ADMISSION] = p.admission_rate[need]
        a = p.avoidable_rate[need]
        if sit == DISRUPTED:
            a *= p.avoidable_disrupted
        elif sit == CASE_MANAGED:
            a *= p.avoidable_case_managed
        out[EV_AVOIDABLE_ADMISSION] = a
    total = 0.0
    for k in range(N_EVENTS):
        total += out[k]
    if total > MAX_DAILY_PROBABILITY:
        scale = MAX_DAILY_PROBABILITY / total
        for k in range(N_EVENTS):
            out[k] *= scale
        total = MAX_DAILY_PROBABILITY
    return total


@njit(cache=True)
def build_threshold_table(prm):
    """``thr[z, sit, band, need, lit, ses, prop]``: P(any event today) as a uint32 threshold."""
    nz = prm.shape[0]
    thr = np.zeros((nz, N_SIT_CLASSES, N_AGE_BANDS, 4, 2, 2, N_PROPENSITY), dtype=np.uint32)
    out = np.zeros(N_EVENTS)
    for z in range(nz):
        p = prm[z]
        for sit in range(N_SIT_CLASSES):
            for band in range(N_AGE_BANDS):
                for need in range(4):
                    for lit in range(2):
                        for ses in range(2):
                            for prop in range(N_PROPENSITY):
                                t = event_probabilities(p, sit, band, need, lit, ses, prop, out)
                                thr[z, sit, band, need, lit, ses, prop] = np.uint32(t * TWO32)
    return thr


@njit(cache=True, _nrt=False, inline="always")
def on_fall(pat, cg, zones, accs, episodes, req, p, z, i, day, key, band):
    """A fall: counted; outside hospital it may lead to admission or be a switch moment."""
    acc = accs[z]
    acc.falls += 1.0
    pat.last_fall_day[i] = np.int16(min(day, 32767))
    if band >= FIRST_65PLUS_BAND:
        acc.falls_65plus += 1.0
    if pat.situation[i] == IN_HOSPITAL:
        return
    if uniform(key, i, day, PURPOSE_FALL_ADMISSION) < p.fall_admission:
        admit(zones, req, p, z, i, day, key, False)
        return
    if uniform(key, i, day, PURPOSE_FALL_SWITCH) < p.fall_switch[pat.need[i]]:
        trigger_switch(pat, cg, zones, accs, episodes, p, z, i, day, key, TRIGGER_FALL)


@njit(cache=True, _nrt=False, inline="always")
def on_acute(pat, cg, prov, prac, zones, accs, episodes, req, p, z, i, day, key):
    """An acute deterioration: a same-day GP contact, then admission or a switch moment."""
    if pat.situation[i] == IN_HOSPITAL:
        return
    urgent_gp_contact(pat, prov, prac, zones, accs, req, p, z, i, day, key)
    if uniform(key, i, day, PURPOSE_ACUTE_ADMISSION) < p.acute_admission:
        admit(zones, req, p, z, i, day, key, False)
    elif pat.need[i] >= 1:
        trigger_switch(pat, cg, zones, accs, episodes, p, z, i, day, key, TRIGGER_ACUTE)


@njit(cache=True, _nrt=False, inline="always")
def pick_event(p, pat, i, u, band, probs):
    """The event patient i's draw ``u`` fell on today, or -1 (rounding at the very top of the
    total: no event)."""
    event_probabilities(
        p,
        pat.situation[i],
        band,
        pat.need[i],
        pat.literacy[i],
        pat.ses[i],
        pat.propensity[i],
        probs,
    )
    x = (np.float64(u) + 0.5) / TWO32
    for e in range(N_EVENTS):
        x -= probs[e]
        if x < 0.0:
            return e
    return -1


# The discipline of each allied-care event, EV_PHYSIO .. EV_SOCIAL_WORK in order.
ALLIED_DISCIPLINES = (PHYSIO, PSYCHOLOGIST, SOCIAL_WORKER)
assert EV_PSYCHOLOGY == EV_PHYSIO + 1 and EV_SOCIAL_WORK == EV_PHYSIO + 2


@njit(cache=True, _nrt=False, inline="always")
def carry_out(
    pat, cg, prov, prac, gpq, zones, accs, episodes, cmq, req, p, z, i, day, key, k, band
):
    """The slow path: carry out event ``k`` of patient i, the daily draw's or a care gap's. The
    one place the patient pass calls each process kernel."""
    if k == EV_FALL:
        on_fall(pat, cg, zones, accs, episodes, req, p, z, i, day, key, band)
    elif k == EV_NEED_PROGRESSION:
        need_progression(pat, cg, zones, accs, p, z, i, day, key)
    elif k == EV_ACUTE:
        on_acute(pat, cg, prov, prac, zones, accs, episodes, req, p, z, i, day, key)
    elif k == EV_DEATH:
        die(pat, cg, prov, prac, gpq, zones, accs, episodes, cmq, req, p, z, i, day)
    elif k == EV_ADMISSION:
        admit(zones, req, p, z, i, day, key, False)
    elif k == EV_AVOIDABLE_ADMISSION:
        admit(zones, req, p, z, i, day, key, True)
    elif k == EV_GP_ROUTINE:
        request_gp(pat, prov, prac, gpq, zones, accs, p, z, i, day, key)
    elif k == EV_CHRONIC_FOLLOWUP:
        chronic_followup(pat, prov, prac, gpq, zones, accs, p, z, i, day, key)
    elif k == EV_SPECIALIST_DIRECT:
        direct_specialist(pat, prov, prac, gpq, zones, accs, req, p, z, i, day, key)
    elif k == EV_EMERGENCY:
        emergency_visit(zones, accs, req, p, z, i, day, key, False)
    elif EV_PHYSIO <= k <= EV_SOCIAL_WORK:
        allied_contact(pat, zones, accs, p, z, i, day, key, ALLIED_DISCIPLINES[k - EV_PHYSIO])


@njit(cache=True, _nrt=False)
def patient_events(
    pat, cg, prov, prac, gpq, zones, accs, episodes, cmq, req, p, thr, z, day, key, probs
):
    """Processes 1-4 for every living patient of zone z on one day (fast path + slow path)."""
    zr = zones[z]
    t = thr[z]
    for i in range(zr.first_patient, zr.next_free):
        sit = pat.situation[i]
        if sit >= DECEASED:
            continue
        band = min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1)
        u = draw_u32(key, i, day, PURPOSE_DAILY)
        if u < t[sit, band, pat.need[i], pat.literacy[i], pat.ses[i], pat.propensity[i]]:
            k = pick_event(p, pat, i, u, band, probs)
            if k >= 0:
                carry_out(
                    pat,
                    cg,
                    prov,
                    prac,
                    gpq,
                    zones,
                    accs,
                    episodes,
                    cmq,
                    req,
                    p,
                    z,
                    i,
                    day,
                    key,
                    k,
                    band,
                )
        # Care gaps (process 2, core/need.py): their excess hazards draw on a purpose of their
        # own, after the daily event, so the daily draw is the same under every policy.
        if pat.care_gaps[i]:
            k = care_gap_events(pat, zones, accs, p, z, i, day, key, band)
            if k >= 0:
                carry_out(
                    pat,
                    cg,
                    prov,
                    prac,
                    gpq,
                    zones,
                    accs,
                    episodes,
                    cmq,
                    req,
                    p,
                    z,
                    i,
                    day,
                    key,
                    k,
                    band,
                )
