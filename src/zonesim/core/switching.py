"""Process 7, switch moments: a sudden change after which care at home must be re-arranged.

A switch moment opens an *episode*: the situation becomes disrupted and needs re-arrangement work
(coordination hours, more for complex needs and without an informal caregiver). After a
recognition delay (longer with limited health literacy) the regular care team works on it at its
coordination speed (faster in multidisciplinary practices and with a care plan, slower under
strain); complex cases are referred to case management (process 8), whose case manager adds
hours until the new equilibrium, then follows the client up before handing back. Informal
caregivers, whose illness, breakdown or death is itself a switch moment, live here too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (
    PURPOSE_INFO_CONTACT,
    bump_u16,
    day16,
    first_unmet_today,
    group_index,
    knows_point,
    per_day,
    refresh_utility,
)
from .state import (
    CASE_MANAGED,
    CASE_MANAGER,
    CG_ACTIVE,
    CG_BROKEN,
    CG_DECEASED,
    CG_ILL,
    DECEASED,
    DISRUPTED,
    F_CARE_PLAN,
    F_CM_CHECKED,
    F_CM_WAITING,
    F_EPISODE_LISTED,
    F_UNRESOLVED,
    GP,
    HIST_DAYS,
    IN_HOSPITAL,
    N_GROUPS,
    NURSE,
    PV_ACTIVE,
    PV_LEFT,
    SOCIAL_WORKER,
    STABLE,
)
from .streams import exponential, uniform

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_WORK = 5  # re-arrangement hours of a switch moment (+ 64 x trigger)
PURPOSE_REPORT = 21  # a situation gone wrong is reported
PURPOSE_CAREGIVER_TRAIT = 22  # a caregiver's own resilience (constant over time)
PURPOSE_CAREGIVER = 7  # caregiver death
PURPOSE_CAREGIVER_ILLNESS = 34  # caregiver illness (apart from death and breakdown)
PURPOSE_CAREGIVER_BREAKDOWN = 35  # caregiver breakdown
PURPOSE_CAREGIVER_DURATION = 8
PURPOSES = {
    "work": PURPOSE_WORK,
    "report": PURPOSE_REPORT,
    "caregiver_trait": PURPOSE_CAREGIVER_TRAIT,
    "caregiver": PURPOSE_CAREGIVER,
    "caregiver_illness": PURPOSE_CAREGIVER_ILLNESS,
    "caregiver_breakdown": PURPOSE_CAREGIVER_BREAKDOWN,
    "caregiver_duration": PURPOSE_CAREGIVER_DURATION,
}


# Parameters of this process (core/parts.py: fields of the parameter record, each compiled
# from the configuration and the zone's policy; the kernels read ``p.<name>``).
PARAMS = (
    # by literacy, effective
    (
        "recognition_delay",
        np.float64,
        (2,),
        lambda config, policy: (
            config.parameters.care.recognition_delay_days,
            config.parameters.care.recognition_delay_days
            + config.parameters.care.limited_literacy_recognition_delay_days,
        ),
    ),
    (
        "coordination_hours",
        np.float64,
        (4,),
        lambda config, policy: config.parameters.switching.coordination_hours_by_need,
    ),
    (
        "no_caregiver_work",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.no_caregiver_work_multiplier,
    ),
    (
        "team_hours_day",
        np.float64,
        (3,),
        lambda config, policy: config.parameters.switching.team_hours_per_day,
    ),
    # GP, nurse, social worker
    (
        "coordination_share",
        np.float64,
        (3,),
        lambda config, policy: (
            np.asarray(config.parameters.switching.coordination_share)
            / max(sum(config.parameters.switching.coordination_share), 1e-12)
        ),
    ),
    (
        "care_plan_speedup",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.care_plan_speedup,
    ),
    (
        "strain_slowdown",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.strain_slowdown,
    ),
    (
        "cm_work_hours_day",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.cm_work_hours_per_day,
    ),
    (
        "cm_min_need",
        np.int64,
        None,
        lambda config, policy: config.parameters.switching.cm_eligible_min_need,
    ),
    (
        "cm_min_hours",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.cm_eligible_min_hours,
    ),
    (
        "went_wrong_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.went_wrong_days,
    ),
    (
        "report_p",
        np.float64,
        None,
        lambda config, policy: config.parameters.switching.report_probability,
    ),
    (
        "burden_rise",
        np.float64,
        (4,),
        lambda config, policy: config.parameters.caregivers.burden_rise_per_day,
    ),
    (
        "burden_relief",
        np.float64,
        None,
        lambda config, policy: config.parameters.caregivers.burden_relief_per_day,
    ),
    (
        "burden_disrupted",
        np.float64,
        None,
        lambda config, policy: config.parameters.caregivers.burden_disrupted_rise_per_day,
    ),
    (
        "overload",
        np.float64,
        None,
        lambda config, policy: config.parameters.caregivers.overload_threshold,
    ),
    (
        "cg_illness",
        np.float64,
        None,
        lambda config, policy: per_day(config.parameters.caregivers.illness_per_year),
    ),
    (
        "cg_illness_slope",
        np.float64,
        None,
        lambda config, policy: config.parameters.caregivers.illness_burden_slope,
    ),
    (
        "cg_breakdown",
        np.float64,
        None,
        lambda config, policy: per_day(
            config.parameters.caregivers.breakdown_per_year_at_full_burden
        ),
    ),
    (
        "cg_death",
        np.float64,
        None,
        lambda config, policy: per_day(config.parameters.caregivers.death_per_year),
    ),
    (
        "cg_illness_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.caregivers.illness_days,
    ),
    (
        "cg_breakdown_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.caregivers.breakdown_days,
    ),
    (
        "informal_hours_day",
        np.float64,
        (4,),
        lambda config, policy: (
            np.asarray(config.parameters.costs.informal_care_hours_per_week) / 7.0
        ),
    ),
    (
        "cm_followup_hours_day",
        np.float64,
        None,
        lambda config, policy: config.parameters.case_management.followup_hours_per_week / 7.0,
    ),
)

# Switch-moment triggers (acc.switch_by_trigger)
TRIGGER_CAREGIVER = 0  # caregiver illness or breakdown
TRIGGER_DISCHARGE = 1
TRIGGER_FALL = 2
TRIGGER_ACUTE = 3
TRIGGER_CAREGIVER_DEATH = 4
TRIGGER_NAMES = (
    "caregiver_illness_or_breakdown",
    "hospital_discharge",
    "fall",
    "acute_deterioration",
    "caregiver_death",
)


@njit(cache=True, _nrt=False)
def trigger_switch(pat, cg, zones, accs, episodes, p, z, i, day, key, trigger):
    """A switch moment for patient i: open (or add to) its episode."""
    s = pat.situation[i]
    if s >= DECEASED:
        return
    g = group_index(pat, i)
    bump_u16(pat.switch_moments, i)
    acc = accs[z]
    acc.switch_moments[g] += 1.0
    acc.switch_by_trigger[trigger] += 1.0
    need = pat.need[i]
    work = p.coordination_hours[need] * (0.5 + uniform(key, i, day, PURPOSE_WORK + 64 * trigger))
    c = pat.caregiver[i]
    if c < 0 or cg.state[c] != CG_ACTIVE:
        work *= p.no_caregiver_work
    fl = pat.flags[i]
    if fl & F_UNRESOLVED:
        pat.work_left[i] += np.float32(work)  # a switch moment inside an open episode
        return
    pat.flags[i] = (fl | F_UNRESOLVED) & (255 ^ F_CM_CHECKED)
    pat.episode_start[i] = day16(day)
    pat.work_left[i] = np.float32(work)
    if s == STABLE:
        pat.situation[i] = DISRUPTED
    if not (fl & F_EPISODE_LISTED):
        zr = zones[z]
        n = zr.episode_count
        if n < episodes.shape[1]:
            episodes[z, n] = i
            zr.episode_count = n + 1
            pat.flags[i] |= F_EPISODE_LISTED
        else:
            acc.list_overflow += 1.0
    refresh_utility(pat, zones, p, z, i)


@njit(cache=True, _nrt=False, inline="always")
def practice_strain(prov, prac, k):
    """Mean strain of the practice's active GPs (0 if none)."""
    total = 0.0
    n = 0
    for s in range(prac.gp_slots[k]):
        j = prac.gp_start[k] + s
        if prov.state[j] == PV_ACTIVE:
            total += np.float64(prov.strain[j])
            n += 1
    return total / n if n > 0 else 1.0


@njit(cache=True, _nrt=False)
def _remove_episode(pat, zones, episodes, z, j):
    zr = zones[z]
    n = zr.episode_count - 1
    i = episodes[z, j]
    episodes[z, j] = episodes[z, n]
    zr.episode_count = n
    pat.flags[i] &= 255 ^ F_EPISODE_LISTED


@njit(cache=True, _nrt=False)
def _release_case_manager(pat, prov, i):
    cm = pat.case_manager[i]
    if cm >= 0:
        prov.caseload[cm] -= 1
        pat.case_manager[i] = -1


@njit(cache=True, _nrt=False, inline="always")
def _recognised(pat, p, i, day, key):
    """The open switch moment of patient i has been recognised, so the team can work on it: the
    recognition delay of its literacy group has passed, or it was recognised earlier
    (F_CM_CHECKED is set on the first recognised day), or today a patient with limited
    literacy who knows the information point, past the usual delay, contacts the point (its
    own draw, so both callers of a day get the same answer): the point narrows the literacy gap
    by use (issue 16)."""
    elapsed = day - pat.episode_start[i]
    lit = pat.literacy[i]
    if elapsed >= p.recognition_delay[lit] or pat.flags[i] & F_CM_CHECKED:
        return True
    if lit == 0 or elapsed < p.recognition_delay[0] or not knows_point(p, key, i):
        return False
    return uniform(key, i, day, PURPOSE_INFO_CONTACT) < p.info_point_contact


@njit(cache=True, _nrt=False, inline="always")
def _team_rate(pat, prov, prac, p, i):
    """Coordination hours per day the regular team would give patient i's open switch moment
    (before the team's capacity is shared out)."""
    k = pat.practice[i]
    rate = p.team_hours_day[prac.kind[k]]
    if pat.flags[i] & F_CARE_PLAN:
        rate *= p.care_plan_speedup
    return rate * (1.0 - p.strain_slowdown * practice_strain(prov, prac, k))


@njit(cache=True, _nrt=False)
def _book_coordination(pat, prov, prac, zones, episodes, p, z, day, key):
    """The day's coordination asked of the regular team and of each case manager, before any of
    it is given: returns the team's hours asked (all disciplines); each case manager's hours
    asked go to its ``booked_hours``. Mirrors the conditions of :func:`switch_moments`, so what
    is asked here is what that kernel would give with capacity to spare."""
    zr = zones[z]
    for j in range(zr.first_provider, zr.end_provider):
        if prov.discipline[j] == CASE_MANAGER:
            prov.booked_hours[j] = 0.0
    team = 0.0
    for j in range(zr.episode_count):
        i = episodes[z, j]
        s = pat.situation[i]
        if s == DECEASED or s == IN_HOSPITAL:
            continue
        cm = pat.case_manager[i]
        active_cm = cm >= 0 and prov.state[cm] == PV_ACTIVE
        if not (pat.flags[i] & F_UNRESOLVED):
            if active_cm:
                prov.booked_hours[cm] += np.float32(p.cm_followup_hours_day)
            continue
        if not _recognised(pat, p, i, day, key):
            continue
        team += _team_rate(pat, prov, prac, p, i)
        if active_cm and day < pat.cm_until[i]:
            prov.booked_hours[cm] += np.float32(p.cm_work_hours_day)
    return team


@njit(cache=True, _nrt=False, inline="always")
def _cm_share(prov, cm):
    """Share of what its clients ask that case manager cm can give today (its hours today over
    the hours booked; 0 on sick leave)."""
    asked = np.float64(prov.booked_hours[cm])
    if prov.state[cm] != PV_ACTIVE or asked <= 0.0:
        return 0.0
    return min(1.0, np.float64(prov.hours_per_week[cm]) / 7.0 / asked)


@njit(cache=True, _nrt=False)
def _count_cm_hours(prov, zones, accs, z):
    """Case managers' hours available, asked and given today (given <= available)."""
    zr = zones[z]
    acc = accs[z]
    for j in range(zr.first_provider, zr.end_provider):
        if prov.discipline[j] != CASE_MANAGER or prov.state[j] != PV_ACTIVE:
            continue
        asked = np.float64(prov.booked_hours[j])
        acc.cm_hours_available += np.float64(prov.hours_per_week[j]) / 7.0
        acc.cm_hours_asked += asked
        acc.cm_hours_given += asked * _cm_share(prov, j)


@njit(cache=True, _nrt=False, inline="always")
def _discipline_share(zr, p, d, asked):
    """Share of the coordination asked of discipline d (nurses, social workers) that the zone's
    hours can give today: what today's other work (home nursing, follow-up, social work) leaves
    of the hours at work, overtime included."""
    if asked <= 0.0:
        return 1.0
    left = zr.capacity_hours[d] * (1.0 + p.max_overtime) - zr.demand_hours[d]
    return min(1.0, max(0.0, left) / asked)


@njit(cache=True, _nrt=False)
def _hand_back(pat, prov, accs, z, i):
    """The case manager hands coordination back to the regular team."""
    _release_case_manager(pat, prov, i)
    accs[z].cm_handbacks += 1.0


@njit(cache=True, _nrt=False)
def switch_moments(pat, prov, prac, zones, accs, episodes, cmq, p, z, day, key):
    """Advance every open episode of zone z by one day (re-arrangement work, case-management
    referral, resolution, follow-up and hand-back).

    The regular team's coordination is a shared capacity: the nurse and social-worker parts of
    the hours asked are given in the share the zone's hours allow today, so a shortage slows
    re-arrangement; a case manager's hours are shared among its clients the same way."""
    acc = accs[z]
    zr = zones[z]
    team_asked = _book_coordination(pat, prov, prac, zones, episodes, p, z, day, key)
    _count_cm_hours(prov, zones, accs, z)
    share_nurse = _discipline_share(zr, p, NURSE, p.coordination_share[1] * team_asked)
    share_social = _discipline_share(zr, p, SOCIAL_WORKER, p.coordination_share[2] * team_asked)
    # The team's speed: the GP part in full (booked on the practice's GP load), the nurse and
    # social-worker parts in the share their hours allow.
    team_speed = (
        p.coordination_share[0]
        + p.coordination_share[1] * share_nurse
        + p.coordination_share[2] * share_social
    )
    acc.coordination_hours_asked += team_asked
    j = 0
    while j < zr.episode_count:
        i = episodes[z, j]
        s = pat.situation[i]
        if s == DECEASED:
            pat.flags[i] &= 255 ^ (F_UNRESOLVED | F_CM_WAITING | F_CM_CHECKED)
            _remove_episode(pat, zones, episodes, z, j)
            continue
        if s == IN_HOSPITAL:  # re-arrangement resumes after discharge
            j += 1
            continue
        cm = pat.case_manager[i]
        if cm >= 0 and prov.state[cm] == PV_LEFT:  # the case manager left the zone
            _release_case_manager(pat, prov, i)
            cm = -1
            if pat.flags[i] & F_UNRESOLVED:
                pat.situation[i] = DISRUPTED
            else:
                pat.situation[i] = STABLE
                _remove_episode(pat, zones, episodes, z, j)
                continue
        g = group_index(pat, i)
        if cm >= 0:
            bump_u16(pat.case_managed_days, i)
            acc.case_managed_days += 1.0
        fl = pat.flags[i]
        if not (fl & F_UNRESOLVED):
            # Case-managed follow-up after the new equilibrium; episode_start holds its end.
            if cm >= 0:
                zr.demand_hours[CASE_MANAGER] += p.cm_followup_hours_day * _cm_share(prov, cm)
            if day >= pat.episode_start[i]:
                _hand_back(pat, prov, accs, z, i)
                pat.situation[i] = STABLE
                pat.episode_start[i] = np.int16(-32768)
                _remove_episode(pat, zones, episodes, z, j)
                continue
            j += 1
            continue
        if cm >= 0 and day >= pat.cm_until[i]:
            # The episode's time is up before the new equilibrium: back to the regular team.
            _hand_back(pat, prov, accs, z, i)
            cm = -1
            pat.situation[i] = DISRUPTED
        # An open switch moment: every day without a new equilibrium is a day of unmet need
        # (counted here unless an earlier process counted the patient's day already).
        if first_unmet_today(pat, i, day):
            bump_u16(pat.unmet_need_days, i)
            acc.unmet_need_days[g] += 1.0
            acc.unmet_switch_days[g] += 1.0
        if not _recognised(pat, p, i, day, key):
            j += 1
            continue
        if not (fl & F_CM_CHECKED):
            pat.flags[i] |= F_CM_CHECKED
            if day - pat.episode_start[i] < p.recognition_delay[pat.literacy[i]]:
                acc.info_point_recognitions += 1.0  # recognised early through the point
            if (
                p.cm_enabled
                and cm < 0
                and pat.need[i] >= p.cm_min_need
                and pat.work_left[i] >= p.cm_min_hours
            ):
                n = zr.cm_queue_len
                if n < cmq.pid.shape[1]:
                    cmq.pid[z, n] = i
                    cmq.day[z, n] = day16(day)
                    zr.cm_queue_len = n + 1
                    pat.flags[i] |= F_CM_WAITING
                    acc.switch_to_cm += 1.0
                else:
                    acc.list_overflow += 1.0
        k = pat.practice[i]
        asked = _team_rate(pat, prov, prac, p, i)
        rate = asked * team_speed
        # The team's coordination hours are shared by GPs, nurses and social workers.
        prac.load_today[k] += np.float32(p.coordination_share[0] * asked / p.session_hours[GP])
        zr.demand_hours[NURSE] += p.coordination_share[1] * asked * share_nurse
        zr.demand_hours[SOCIAL_WORKER] += p.coordination_share[2] * asked * share_social
        acc.coordination_hours += rate
        if cm >= 0 and prov.state[cm] == PV_ACTIVE:
            given = p.cm_work_hours_day * _cm_share(prov, cm)
            rate += given
            zr.demand_hours[CASE_MANAGER] += given
        left = np.float64(pat.work_left[i]) - rate
        pat.work_left[i] = np.float32(max(left, 0.0))
        if left > 0.0:
            j += 1
            continue
        # A new equilibrium.
        days = day - pat.episode_start[i] + 1
        acc.switch_resolved[g] += 1.0
        acc.switch_days_sum[g] += days
        acc.switch_hist[g, min(days, HIST_DAYS - 1)] += 1.0
        rp = p.report_p_point if knows_point(p, key, i) else p.report_p
        if days > p.went_wrong_days and uniform(key, i, day, PURPOSE_REPORT) < rp:
            acc.reports += 1.0
        pat.flags[i] &= 255 ^ (F_UNRESOLVED | F_CM_WAITING | F_CM_CHECKED)
        if cm >= 0:
            # Case-managed follow-up until the episode's hand-back day (at least one day).
            pat.episode_start[i] = max(pat.cm_until[i], day16(day + 1))
            pat.situation[i] = CASE_MANAGED
            refresh_utility(pat, zones, p, z, i)
            j += 1
            continue
        pat.situation[i] = STABLE
        pat.episode_start[i] = np.int16(-32768)
        refresh_utility(pat, zones, p, z, i)
        _remove_episode(pat, zones, episodes, z, j)


@njit(cache=True, _nrt=False)
def caregivers(pat, cg, zones, accs, episodes, p, z, day, key):
    """Informal caregivers of zone z: burden dynamics; illness, breakdown and death, each a
    switch moment for the person cared for."""
    acc = accs[z]
    zr = zones[z]
    relief_nursing = min(1.0, zr.served_fraction[NURSE])
    for c in range(zr.first_caregiver, zr.next_free_caregiver):
        state = cg.state[c]
        if state == CG_DECEASED:
            continue
        i = cg.patient[c]
        if i < 0 or pat.situation[i] == DECEASED:
            cg.state[c] = CG_DECEASED
            continue
        if state != CG_ACTIVE:
            if day >= cg.until[c]:
                if state == CG_BROKEN:
                    cg.burden[c] = np.float32(0.5 * cg.burden[c])
                cg.state[c] = CG_ACTIVE
            continue
        acc.caregiver_days += 1.0
        need = pat.need[i]
        b = np.float64(cg.burden[c])
        rise = p.burden_rise[need]
        if pat.flags[i] & F_UNRESOLVED:
            rise += p.burden_disrupted
        # Each caregiver's own resilience (constant over time) spreads the burden.
        relief = p.burden_relief * (0.5 + uniform(key, i, 0, PURPOSE_CAREGIVER_TRAIT))
        relief *= relief_nursing
        if pat.situation[i] == CASE_MANAGED:
            relief *= 1.5
        b = b + rise * (1.0 - b) - relief * b
        b = min(1.0, max(0.0, b))
        cg.burden[c] = np.float32(b)
        if b > p.overload:
            acc.caregiver_overloaded_days += 1.0
        acc.informal_care_hours += p.informal_hours_day[need]
        # The draw is keyed by the patient, not the caregiver slot: common random numbers.
        # Death, illness and breakdown are three decisions, each with its own draw: the
        # cut-points of illness and breakdown move with the burden (so with the policy), and a
        # shared draw would let them reshuffle the other outcomes.
        p_ill = p.cg_illness * (1.0 + p.cg_illness_slope * b * b)
        p_break = p.cg_breakdown * max(0.0, (b - p.overload) / max(1e-9, 1.0 - p.overload))
        if uniform(key, i, day, PURPOSE_CAREGIVER) < p.cg_death:
            cg.state[c] = CG_DECEASED
            pat.caregiver[i] = -1
            acc.caregiver_deaths += 1.0
            trigger_switch(
                pat, cg, zones, accs, episodes, p, z, i, day, key, TRIGGER_CAREGIVER_DEATH
            )
        elif uniform(key, i, day, PURPOSE_CAREGIVER_ILLNESS) < p_ill:
            cg.state[c] = CG_ILL
            dur = exponential(key, i, day, PURPOSE_CAREGIVER_DURATION, p.cg_illness_days)
            cg.until[c] = day16(day + 1 + np.int64(dur))
            acc.caregiver_illness += 1.0
            trigger_switch(pat, cg, zones, accs, episodes, p, z, i, day, key, TRIGGER_CAREGIVER)
        elif uniform(key, i, day, PURPOSE_CAREGIVER_BREAKDOWN) < p_break:
            cg.state[c] = CG_BROKEN
            dur = exponential(key, i, day, PURPOSE_CAREGIVER_DURATION, p.cg_breakdown_days)
            cg.until[c] = day16(day + 1 + np.int64(dur))
            acc.caregiver_breakdown += 1.0
            trigger_switch(pat, cg, zones, accs, episodes, p, z, i, day, key, TRIGGER_CAREGIVER)


# What this process adds (core/parts.py): the regular team's hours asked, and the switch-episode
# component of the unmet-need days (interfaces: the total ``unmet_need_days`` counts each
# patient-day once; ``unmet_switch_days`` is the part counted here).
ACCUMULATORS = (
    # long-standing counts of this process (moved from state._ACC_FIELDS, issue 14)
    ("switch_moments", np.float64, (N_GROUPS,)),
    ("switch_by_trigger", np.float64, (5,)),  # see TRIGGER_NAMES
    ("switch_resolved", np.float64, (N_GROUPS,)),
    ("switch_days_sum", np.float64, (N_GROUPS,)),
    ("switch_hist", np.float64, (N_GROUPS, HIST_DAYS)),  # days to the new equilibrium
    ("switch_to_cm", np.float64, None),  # episodes referred to case management
    ("case_managed_days", np.float64, None),
    ("reports", np.float64, None),  # reports to the information and reporting point
    ("caregiver_days", np.float64, None),
    ("caregiver_overloaded_days", np.float64, None),
    ("caregiver_illness", np.float64, None),
    ("caregiver_breakdown", np.float64, None),
    ("caregiver_deaths", np.float64, None),
    ("informal_care_hours", np.float64, None),
    ("coordination_hours", np.float64, None),  # the team's hours given
    # the team's hours asked (those given: coordination_hours)
    ("coordination_hours_asked", np.float64, None),
    ("unmet_switch_days", np.float64, (4,)),  # by equity group
)


def metrics(w, person_years):
    """The share of the regular team's coordination asked that its hours could give. (The
    switch-episode days of unmet need are reported with the other components of unmet need, in
    the scorecard's experience section: zonesim.metrics.UNMET_COMPONENTS.)"""
    asked = float(w["coordination_hours_asked"])
    return {
        "coordination_given_share": float(w["coordination_hours"]) / asked if asked > 0 else 1.0,
    }
