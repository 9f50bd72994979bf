"""Process 5, the GP as gatekeeper.

Each practice has a daily contact capacity from its active GPs. Urgent contacts and the team's
coordination work are booked first; routine requests wait in the practice's FIFO queue and are
served while capacity (plus bounded overtime) lasts. Waiting has consequences: each day past the
threshold is a day of unmet need, and some who wait go to the emergency department instead.
At every contact the GP treats or refers: more under strain, less where a pooled specialist can
take the case in primary care; under strict gatekeeping the GP resolves part of what patients
would have taken to a specialist themselves.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (
    GAP_FOLLOWUP_BITS,
    GAP_FOLLOWUP_PENDING,
    GAP_UNMET,
    GAP_UNMET_BITS,
    bump_u16,
    close_gaps,
    day16,
    first_unmet_today,
    group_index,
    open_gap,
)
from .hospital import admit, specialist_request
from .practices import accepting_practice, enqueue_gp, expected_wait, register
from .state import (
    DECEASED,
    F_GP_WAITING,
    F_SPEC_INTENT,
    GP,
    IN_HOSPITAL,
    N_GROUPS,
    POOLED_DIABETES,
    POOLED_PSYCHOLOGIST,
    PV_ACTIVE,
)
from .streams import uniform

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_DEFER = 26  # a routine GP request deferred because of the expected wait
PURPOSE_HOME_VISIT = 24
PURPOSE_REFERRAL = 17  # referral at a routine GP contact
PURPOSE_REFERRAL_URGENT = 1017  # referral at an urgent (same-day) contact
PURPOSE_POOLED = 18  # a pooled specialist takes the referral
PURPOSE_POOLED_KIND = 1018  # which pooled kind takes a substituted referral
PURPOSE_QUEUE = 6  # a waiting patient goes to the emergency department
PURPOSE_GIVE_UP = 27  # a waiting patient abandons the routine request
PURPOSE_PRACTICE_CHANGE = 28  # a waiting patient re-registers with another practice
PURPOSE_EMERGENCY = 19  # admission after an emergency visit
PURPOSES = {
    "defer": PURPOSE_DEFER,
    "home_visit": PURPOSE_HOME_VISIT,
    "referral": PURPOSE_REFERRAL,
    "referral_urgent": PURPOSE_REFERRAL_URGENT,
    "pooled": PURPOSE_POOLED,
    "pooled_kind": PURPOSE_POOLED_KIND,
    "queue": PURPOSE_QUEUE,
    "give_up": PURPOSE_GIVE_UP,
    "practice_change": PURPOSE_PRACTICE_CHANGE,
    "emergency": PURPOSE_EMERGENCY,
}


# Parameters of this process (core/parts.py: fields of the parameter record, each compiled
# from the configuration and the zone's policy; the kernels read ``p.<name>``).
PARAMS = (
    (
        "practice_list_cap_per_fte",  # read by practices.accepting_practice
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.practice_list_cap_per_fte,
    ),
    (
        "home_visit_share",
        np.float64,
        (4,),
        lambda config, policy: config.parameters.care.home_visit_share_by_need,
    ),
    (
        "unmet_wait_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.unmet_wait_days,
    ),
    (
        "ed_after_wait",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.emergency_after_wait_per_day,
    ),
    (
        "referral_p",
        np.float64,
        (4,),
        lambda config, policy: config.parameters.gatekeeper.referral_probability_by_need,
    ),
    (
        "referral_strain",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.referral_strain_effect,
    ),
    # 1 - gatekept_resolution_share
    (
        "gatekept_referral_p",
        np.float64,
        None,
        lambda config, policy: 1.0 - config.parameters.gatekeeper.gatekept_resolution_share,
    ),
    (
        "pooled_substitutable",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.pooled_substitutable_share,
    ),
    (
        "admission_after_emergency",
        np.float64,
        None,
        lambda config, policy: config.parameters.secondary.admission_after_emergency,
    ),
    (
        "deferral_per_wait_day",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.deferral_per_wait_day,
    ),
    (
        "deferral_max_share",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.deferral_max_share,
    ),
    (
        "give_up_per_day",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.give_up_per_day,
    ),
    (
        "practice_change_wait_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.practice_change_wait_days,
    ),
    (
        "practice_change_per_day",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.practice_change_per_day,
    ),
)


@njit(cache=True, _nrt=False, inline="always")
def emergency_visit(zones, accs, req, p, z, i, day, key, after_wait):
    """An emergency department visit; after a long GP wait a resulting admission is avoidable."""
    accs[z].emergency_visits += 1.0
    if after_wait:
        accs[z].gp_dropped += 1.0
    if uniform(key, i, day, PURPOSE_EMERGENCY) < p.admission_after_emergency:
        admit(zones, req, p, z, i, day, key, after_wait)


@njit(cache=True, _nrt=False, inline="always")
def request_gp(pat, prov, prac, gpq, zones, accs, p, z, i, day, key):
    """A routine GP request joins the practice's queue (one open request per patient), unless
    the patient defers it: demand answers access (the longer the practice's expected wait
    beyond ``unmet_wait_days``, the more requests wait for another day; the need asks again
    through the patient's own later events)."""
    if pat.flags[i] & F_GP_WAITING:
        return
    accs[z].gp_requests += 1.0
    k = pat.practice[i]
    wait = expected_wait(prov, prac, p, k)
    if wait > p.unmet_wait_days:
        p_defer = min(p.deferral_max_share, p.deferral_per_wait_day * (wait - p.unmet_wait_days))
        if uniform(key, i, day, PURPOSE_DEFER) < p_defer:
            accs[z].gp_deferred += 1.0
            pat.flags[i] &= 255 ^ F_SPEC_INTENT
            return
    # GP demand (utilisation = demand / capacity, MODEL.md process 9): the contacts asked for
    # today, whether or not there is room today (hours worked are booked apart, in gatekeeper).
    zones[z].demand_hours[GP] += p.session_hours[GP]
    enqueue_gp(pat, prac, gpq, accs, z, i, k, day)


@njit(cache=True, _nrt=False)
def refer(zones, accs, req, p, z, i, day, key):
    """A GP referral: taken by a pooled specialist where one is available, else to the
    specialist waiting list."""
    zr = zones[z]
    pooled_cap = 0.0
    for d in range(POOLED_DIABETES, POOLED_PSYCHOLOGIST + 1):
        pooled_cap += zr.capacity_hours[d]
    if pooled_cap > 0.0:
        avail = 0.0
        for d in range(POOLED_DIABETES, POOLED_PSYCHOLOGIST + 1):
            avail += zr.capacity_hours[d] / pooled_cap * zr.served_fraction[d]
        u = uniform(key, i, day, PURPOSE_POOLED)
        if u < p.pooled_substitutable * avail:
            # Book the hour on one pooled kind, chosen in proportion to its capacity.
            v = uniform(key, i, day, PURPOSE_POOLED_KIND) * pooled_cap
            for d in range(POOLED_DIABETES, POOLED_PSYCHOLOGIST + 1):
                v -= zr.capacity_hours[d]
                if v <= 0.0 or d == POOLED_PSYCHOLOGIST:
                    zr.demand_hours[d] += p.session_hours[d]
                    break
            accs[z].pooled_substitutions += 1.0
            return
    accs[z].referrals += 1.0
    specialist_request(zones, req, p, z, i, day, key)


@njit(cache=True, _nrt=False, inline="always")
def gp_contact(pat, prov, zones, accs, req, p, z, i, day, key, wait, urgent, strain):
    """Patient i sees a GP of its practice today: continuity, home visit, treat or refer."""
    acc = accs[z]
    g = group_index(pat, i)
    bump_u16(pat.gp_contacts, i)
    pat.last_gp_day[i] = day16(day)
    acc.gp_contacts[g] += 1.0
    # A GP contact closes the care gaps it answers: unmet need and a chronic follow-up.
    close_gaps(pat, zones, p, z, i, GAP_UNMET_BITS | GAP_FOLLOWUP_BITS | GAP_FOLLOWUP_PENDING)
    gp = pat.usual_gp[i]
    if gp >= 0 and prov.state[gp] == PV_ACTIVE:
        bump_u16(pat.gp_contacts_usual, i)
    need = pat.need[i]
    if uniform(key, i, day, PURPOSE_HOME_VISIT) < p.home_visit_share[need]:
        acc.gp_home_visits += 1.0
    if urgent:
        acc.gp_urgent_contacts += 1.0
    else:
        acc.gp_wait_days += wait
        acc.gp_served_routine += 1.0
    pr = p.referral_p[need] * (1.0 + p.referral_strain * strain)
    if pat.flags[i] & F_SPEC_INTENT:
        pat.flags[i] &= 255 ^ F_SPEC_INTENT
        pr = max(pr, p.gatekept_referral_p)
    if uniform(key, i, day, PURPOSE_REFERRAL_URGENT if urgent else PURPOSE_REFERRAL) < pr:
        refer(zones, accs, req, p, z, i, day, key)


@njit(cache=True, _nrt=False, inline="always")
def _practice_capacity(prov, prac, p, k):
    """Contacts the practice's active GPs can give today, and their mean strain."""
    cap = 0.0
    strain = 0.0
    fte = 0.0
    for s in range(prac.gp_slots[k]):
        j = prac.gp_start[k] + s
        if prov.state[j] == PV_ACTIVE:
            f = np.float64(prov.fte[j])
            cap += f * p.gp_contacts_per_fte_day
            strain += np.float64(prov.strain[j]) * f
            fte += f
    return cap, (strain / fte if fte > 0 else 1.0), fte


@njit(cache=True, _nrt=False, inline="always")
def urgent_gp_contact(pat, prov, prac, zones, accs, req, p, z, i, day, key):
    """A same-day GP contact (acute deterioration): served whatever the queue."""
    k = pat.practice[i]
    prac.load_today[k] += 1.0
    _cap, strain, _fte = _practice_capacity(prov, prac, p, k)
    gp_contact(pat, prov, zones, accs, req, p, z, i, day, key, 0, True, strain)


@njit(cache=True, _nrt=False)
def _serve_queue(pat, prov, prac, gpq, zones, accs, req, p, z, k, day, key, room, strain):
    """Serve practice k's routine queue, oldest first, for at most ``room`` contacts given by
    GPs of mean strain ``strain``; return how many were served."""
    served = 0
    mask = prac.queue_cap[k] - 1
    base = prac.queue_start[k]
    while prac.queue_len[k] > 0 and served + 1 <= room:
        pos = base + (prac.queue_head[k] & mask)
        i = gpq.pid[pos]
        d = gpq.day[pos]
        prac.queue_head[k] = (prac.queue_head[k] + 1) & mask
        prac.queue_len[k] -= 1
        if i < 0:
            continue
        pat.flags[i] &= 255 ^ F_GP_WAITING
        if pat.situation[i] >= IN_HOSPITAL:
            accs[z].gp_withdrawn += 1.0  # admitted meanwhile: the hospital sees to it
            continue
        gp_contact(pat, prov, zones, accs, req, p, z, i, day, key, day - d, False, strain)
        served += 1
    return served


@njit(cache=True, _nrt=False)
def gatekeeper(pat, prov, prac, gpq, zones, accs, req, p, z, day, key, work):
    """Serve every practice's routine queue of zone z for one day; book GP workload.

    Each practice first serves its own queue within its capacity (plus bounded overtime). A
    practice with no GP available today (sick leave, a departure not yet replaced) is then
    covered by the zone's other practices, from their spare capacity: its patients are seen,
    but not by their usual GP.
    """
    acc = accs[z]
    zr = zones[z]
    hours = p.session_hours[GP]
    lo = zr.first_practice
    n = zr.end_practice - lo
    # Scratch rows (work has at least 5 rows of the zone's practice count); every entry below
    # is written before it is read.
    caps = work[0]
    strains = work[1]
    ftes = work[2]
    limits = work[3]
    used = work[4]
    for c in range(n):
        k = lo + c
        cap, strain, fte = _practice_capacity(prov, prac, p, k)
        caps[c] = cap
        strains[c] = strain
        ftes[c] = fte
        limits[c] = cap * (1.0 + p.max_overtime)
        used[c] = np.float64(prac.load_today[k])
        used[c] += _serve_queue(
            pat, prov, prac, gpq, zones, accs, req, p, z, k, day, key, limits[c] - used[c], strain
        )
    # Cover for practices without an available GP.
    for c in range(n):
        k = lo + c
        if caps[c] > 0.0:
            continue
        while prac.queue_len[k] > 0:
            best = -1
            best_spare = 1.0
            for b in range(n):
                spare = limits[b] - used[b]
                if spare >= best_spare and caps[b] > 0.0:
                    best = b
                    best_spare = spare
            if best < 0:
                break
            got = _serve_queue(
                pat,
                prov,
                prac,
                gpq,
                zones,
                accs,
                req,
                p,
                z,
                k,
                day,
                key,
                limits[best] - used[best],
                strains[best],
            )
            used[best] += got
            if got == 0:
                break
    for c in range(n):
        k = lo + c
        cap = caps[c]
        total = used[c]
        fte = ftes[c]
        # Demand: what was booked before the queue (urgent contacts, coordination) plus the
        # routine requests made today (added in request_gp); worked: what was served.
        zr.demand_hours[GP] += np.float64(prac.load_today[k]) * hours
        acc.capacity_hours[GP] += cap * hours
        acc.worked_hours[GP] += total * hours
        over = max(0.0, total - cap) * hours
        acc.overtime_hours[GP] += over
        # Workload of each active GP in proportion to FTE (drives strain in workforce).
        for s in range(prac.gp_slots[k]):
            j = prac.gp_start[k] + s
            if prov.state[j] == PV_ACTIVE and fte > 0:
                share = np.float64(prov.fte[j]) / fte
                prov.booked_hours[j] = np.float32(total * hours * share)
                prov.overtime_hours[j] += np.float32(over * share)
        prac.load_today[k] = 0.0
        # Those still waiting: unmet need past the threshold; some go to the emergency room.
        mask = prac.queue_cap[k] - 1
        base = prac.queue_start[k]
        for t in range(prac.queue_len[k]):
            pos = base + ((prac.queue_head[k] + t) & mask)
            i = gpq.pid[pos]
            if i < 0:
                continue
            if pat.situation[i] == DECEASED:
                gpq.pid[pos] = -1
                pat.flags[i] &= 255 ^ F_GP_WAITING
                acc.gp_withdrawn += 1.0
                continue
            if day - gpq.day[pos] <= p.unmet_wait_days:
                break  # the queue is in arrival order: everyone behind waited less
            if first_unmet_today(pat, i, day):  # each patient-day counted once
                g = group_index(pat, i)
                bump_u16(pat.unmet_need_days, i)
                acc.unmet_need_days[g] += 1.0
                acc.unmet_gp_access_days[g] += 1.0
            open_gap(pat, zones, accs, p, z, i, GAP_UNMET)
            # Demand answers waiting: each a decision with its own draw, each counted as what
            # it is (emergency use, giving up, another practice).
            if uniform(key, i, day, PURPOSE_QUEUE) < p.ed_after_wait:
                gpq.pid[pos] = -1
                pat.flags[i] &= 255 ^ F_GP_WAITING
                if pat.situation[i] < IN_HOSPITAL:
                    emergency_visit(zones, accs, req, p, z, i, day, key, True)
                else:
                    acc.gp_withdrawn += 1.0  # admitted meanwhile
            elif uniform(key, i, day, PURPOSE_GIVE_UP) < p.give_up_per_day:
                gpq.pid[pos] = -1
                pat.flags[i] &= 255 ^ (F_GP_WAITING | F_SPEC_INTENT)
                acc.gp_gave_up += 1.0
            elif (
                day - gpq.day[pos] > p.practice_change_wait_days
                and uniform(key, i, day, PURPOSE_PRACTICE_CHANGE) < p.practice_change_per_day
            ):
                k2 = accepting_practice(prov, prac, zones, p, z, pat.municipality[i], k)
                if k2 >= 0 and expected_wait(prov, prac, p, k2) < expected_wait(prov, prac, p, k):
                    gpq.pid[pos] = -1
                    pat.flags[i] &= 255 ^ F_GP_WAITING
                    register(pat, prov, prac, i, k2)
                    acc.practice_changes += 1.0
                    if pat.situation[i] < IN_HOSPITAL:
                        enqueue_gp(
                            pat, prac, gpq, accs, z, i, k2, day
                        )  # the request moves with the patient
                    else:
                        acc.gp_withdrawn += 1.0


# What this process adds (core/parts.py). The routine GP requests balance exactly (a test holds
# it): every request made (``gp_requests``) is deferred (``gp_deferred``), found no place
# (``gp_no_place``: the practice's queue full), is served (``gp_served_routine``), went to the
# emergency department after waiting (``gp_dropped``), was given up (``gp_gave_up``), was
# withdrawn (``gp_withdrawn``: the patient died or was admitted meanwhile), or is still waiting
# (a practice change or closure moves a request, it does not end it).
ACCUMULATORS = (
    # long-standing counts of this process (moved from state._ACC_FIELDS, issue 14)
    ("gp_contacts", np.float64, (N_GROUPS,)),
    ("gp_home_visits", np.float64, None),
    ("gp_urgent_contacts", np.float64, None),
    ("gp_wait_days", np.float64, None),  # summed over served routine requests
    ("gp_served_routine", np.float64, None),
    ("gp_dropped", np.float64, None),  # routine requests that turned into emergency visits
    ("referrals", np.float64, None),  # GP referrals to the specialist waiting list
    ("pooled_substitutions", np.float64, None),
    ("emergency_visits", np.float64, None),
    ("gp_deferred", np.float64, None),  # routine GP requests not made today (long expected wait)
    ("gp_gave_up", np.float64, None),  # routine GP requests abandoned while waiting
    ("practice_changes", np.float64, None),  # patients re-registering with another practice
    ("gp_requests", np.float64, None),
    ("gp_no_place", np.float64, None),
    ("gp_withdrawn", np.float64, None),
    # components of unmet_need_days (zonesim.metrics.UNMET_COMPONENTS), by equity group
    ("unmet_gp_access_days", np.float64, (4,)),  # waiting for a routine contact past the threshold
)


def metrics(w, person_years):
    """Routine GP requests, those that found no place and those withdrawn, per 1,000
    person-years (the unmet-need components are in the scorecard's experience section)."""
    per1000 = 1000.0 / person_years if person_years else 0.0
    return {
        "gp_requests_per_1000": float(w["gp_requests"]) * per1000,
        "gp_requests_no_place_per_1000": float(w["gp_no_place"]) * per1000,
        "gp_requests_withdrawn_per_1000": float(w["gp_withdrawn"]) * per1000,
    }
