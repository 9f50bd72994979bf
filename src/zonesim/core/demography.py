"""Process 1, demography: mortality, renewal so the population follows the scenario, and the
monthly recount of the zone's aggregates (birthdays move people across age 65)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import DAYS_65, day16, gets_care_plan, group_index, refresh_utility
from .hospital import REQ_LEAVE, REQ_WITHDRAW, file_request
from .state import (
    AGE_BAND_DAYS,
    CG_ACTIVE,
    CG_DECEASED,
    DAYS_PER_AGE_YEAR,
    DECEASED,
    F_CARE_PLAN,
    F_CM_WAITING,
    F_EPISODE_LISTED,
    F_GP_WAITING,
    F_SPEC_WAITING,
    N_AGE_BANDS,
    N_PROPENSITY,
    PV_ACTIVE,
    STABLE,
)
from .streams import PURPOSE_CARE_PLAN, uniform

NEVER16 = np.int16(-32768)

# Purposes of an entrant's attribute draws (100-119 are reserved for entrants).
ENTRANT_AGE = 100
ENTRANT_SES = 101
ENTRANT_LITERACY = 102
ENTRANT_PROPENSITY = 103
ENTRANT_NEED1 = 104
ENTRANT_NEED2 = 105
ENTRANT_NEED3 = 106
ENTRANT_CAREGIVER = 107
ENTRANT_DONOR = 110  # 110-117: tries to find a living neighbour
PURPOSES = {  # this process's own random-stream purposes (checked unique: core/parts.py)
    "entrant_age": ENTRANT_AGE,
    "entrant_ses": ENTRANT_SES,
    "entrant_literacy": ENTRANT_LITERACY,
    "entrant_propensity": ENTRANT_PROPENSITY,
    "entrant_need1": ENTRANT_NEED1,
    "entrant_need2": ENTRANT_NEED2,
    "entrant_need3": ENTRANT_NEED3,
    "entrant_caregiver": ENTRANT_CAREGIVER,
    **{f"entrant_donor{t}": ENTRANT_DONOR + t for t in range(8)},
}


@njit(cache=True, _nrt=False)
def die(st, p, z, i, day):
    """Patient i dies today: remove it from every zone aggregate."""
    pat = st.pat
    zr = st.zone[z]
    g = group_index(pat, i)
    zr.alive -= 1
    zr.alive_group[g] -= 1
    zr.need_count[pat.need[i]] -= 1
    if day - pat.birth_day[i] >= DAYS_65:
        zr.alive_65plus -= 1
    zr.utility_sum[g] -= np.float64(pat.utility[i])
    pat.utility[i] = 0.0
    pat.situation[i] = DECEASED
    st.acc[z].deaths[g] += 1.0
    cm = pat.case_manager[i]
    if cm >= 0:
        st.prov.caseload[cm] -= 1
        pat.case_manager[i] = -1
    st.prac.list_size[pat.practice[i]] -= 1
    _forget(st, z, i)


@njit(cache=True, _nrt=False)
def _forget(st, z, i):
    """Remove every reference to patient i (queues, lists, caregiver), so that its slot can be
    reused by an entrant without anyone mistaking the newcomer for the deceased."""
    pat = st.pat
    fl = pat.flags[i]
    if fl & F_GP_WAITING:
        k = pat.practice[i]
        prac = st.prac
        mask = prac.queue_cap[k] - 1
        for t in range(prac.queue_len[k]):
            pos = prac.queue_start[k] + ((prac.queue_head[k] + t) & mask)
            if st.queue_pid[pos] == i:
                st.queue_pid[pos] = -1
    if fl & F_SPEC_WAITING:
        file_request(st, z, i, REQ_WITHDRAW)  # off the shared specialist list
    if fl & F_EPISODE_LISTED:
        zr = st.zone[z]
        for t in range(zr.episode_count):
            if st.episodes[z, t] == i:
                zr.episode_count -= 1
                st.episodes[z, t] = st.episodes[z, zr.episode_count]
                break
    if fl & F_CM_WAITING:
        zr = st.zone[z]
        for t in range(zr.cm_queue_len):
            if st.cmq_pid[z, t] == i:
                zr.cm_queue_len -= 1
                st.cmq_pid[z, t] = st.cmq_pid[z, zr.cm_queue_len]
                st.cmq_day[z, t] = st.cmq_day[z, zr.cm_queue_len]
                break
    file_request(st, z, i, REQ_LEAVE)  # off the shared hospital list
    c = pat.caregiver[i]
    if c >= 0:
        st.cg.state[c] = CG_DECEASED
        st.cg.patient[c] = -1
        pat.caregiver[i] = -1
    pat.flags[i] = 0


@njit(cache=True, _nrt=False)
def _reusable_slot(st, z):
    """A deceased slot of zone z for an entrant (when the free slots are used up), or -1."""
    zr = st.zone[z]
    span = zr.next_free - zr.first_patient
    if span <= 0:
        return -1
    for t in range(span):
        off = (zr.reuse_cursor + t) % span
        j = zr.first_patient + off
        if st.pat.situation[j] == DECEASED:
            zr.reuse_cursor = (off + 1) % span
            return j
    return -1


@njit(cache=True, _nrt=False)
def _reset_slot(pat, i):
    """Clear a reused slot's per-person fields (counters start afresh for the newcomer)."""
    pat.caregiver[i] = -1
    pat.case_manager[i] = -1
    pat.episode_start[i] = NEVER16
    pat.last_gp_day[i] = NEVER16
    pat.last_fall_day[i] = NEVER16
    pat.last_admission_day[i] = NEVER16
    pat.work_left[i] = 0.0
    pat.gp_contacts[i] = 0
    pat.gp_contacts_usual[i] = 0
    pat.specialist_visits[i] = 0
    pat.hospital_admissions[i] = 0
    pat.switch_moments[i] = 0
    pat.case_managed_days[i] = 0
    pat.unmet_need_days[i] = 0


@njit(cache=True, _nrt=False)
def add_caregiver(st, p, z, i, day):
    """Give patient i a new informal caregiver (a free caregiver slot of its zone)."""
    zr = st.zone[z]
    c = zr.next_free_caregiver
    if c >= zr.end_caregiver:
        st.acc[z].list_overflow += 1.0
        return
    zr.next_free_caregiver += 1
    cg = st.cg
    cg.patient[c] = i
    cg.burden[c] = 0.2
    cg.state[c] = CG_ACTIVE
    cg.until[c] = day16(day)
    st.pat.caregiver[i] = c


@njit(cache=True, _nrt=False)
def renewal(st, p, z, day, key):
    """Entrants (births, immigration) so the population follows the scenario's path: size grows
    at the scenario's rate and the 65+ share follows a straight line from start to end."""
    zr = st.zone[z]
    zr.population_target *= np.exp(p.growth_per_day)
    missing = np.int64(zr.population_target + 0.5) - zr.alive
    if missing <= 0:
        return
    frac = min(day / p.horizon_days, 1.0)
    target65 = p.share65_start + (p.share65_end - p.share65_start) * frac
    pat = st.pat
    for _ in range(missing):
        i = zr.next_free
        if i < zr.end_patient:
            zr.next_free += 1
        else:
            i = _reusable_slot(st, z)
            if i < 0:
                st.acc[z].entrants_skipped += 1.0
                continue
            _reset_slot(pat, i)
        old = zr.alive > 0 and zr.alive_65plus < target65 * zr.alive
        if old:  # moving in at 65-85
            age_days = np.int64(
                DAYS_65 + uniform(key, i, day, ENTRANT_AGE) * 20 * DAYS_PER_AGE_YEAR
            )
        else:  # born today
            age_days = 0
        pat.birth_day[i] = np.int32(day - age_days)
        ses = 1 if uniform(key, i, day, ENTRANT_SES) < p.preferential_share else 0
        plim = p.limited_p_preferential if ses else p.limited_p_standard
        lit = 1 if uniform(key, i, day, ENTRANT_LITERACY) < plim else 0
        pat.ses[i] = ses
        pat.literacy[i] = lit
        u = uniform(key, i, day, ENTRANT_PROPENSITY)
        pat.propensity[i] = np.uint8(min(int(u * N_PROPENSITY), N_PROPENSITY - 1))
        band = min(age_days // AGE_BAND_DAYS, N_AGE_BANDS - 1)
        nb = p.need_band_of_age_band[band]
        mult = p.preferential_need if ses else 1.0
        need = 0
        if uniform(key, i, day, ENTRANT_NEED1) < min(0.95, p.prevalence[nb, 0] * mult):
            need = 1
            if uniform(key, i, day, ENTRANT_NEED2) < p.prevalence[nb, 1]:
                need = 2
                if uniform(key, i, day, ENTRANT_NEED3) < p.prevalence[nb, 2]:
                    need = 3
        pat.need[i] = need
        # Practice and municipality: those of a random living inhabitant of the zone, so
        # entrants join practices in proportion to their lists.
        span = zr.next_free - 1 - zr.first_patient
        donor = -1
        for t in range(8):
            cand = zr.first_patient + np.int64(uniform(key, i, day, ENTRANT_DONOR + t) * span)
            if pat.situation[cand] < DECEASED:
                donor = cand
                break
        if donor < 0:
            donor = zr.first_patient
        k = pat.practice[donor]
        pat.practice[i] = k
        pat.municipality[i] = pat.municipality[donor]
        gp = st.prac.gp_start[k]
        for s in range(st.prac.gp_slots[k]):
            if st.prov.state[st.prac.gp_start[k] + s] == PV_ACTIVE:
                gp = st.prac.gp_start[k] + s
                break
        pat.usual_gp[i] = gp
        st.prac.list_size[k] += 1
        pat.situation[i] = STABLE
        pat.flags[i] = 0
        if gets_care_plan(need, uniform(key, i, 0, PURPOSE_CARE_PLAN), p.care_plan_share):
            pat.flags[i] = F_CARE_PLAN
        pat.utility[i] = 0.0
        g = group_index(pat, i)
        zr.alive += 1
        zr.alive_group[g] += 1
        zr.need_count[need] += 1
        if age_days >= DAYS_65:
            zr.alive_65plus += 1
        refresh_utility(st, p, z, i)
        if need >= 2 and uniform(key, i, day, ENTRANT_CAREGIVER) < p.caregiver_share:
            add_caregiver(st, p, z, i, day)
        st.acc[z].entrants += 1.0


@njit(cache=True, _nrt=False)
def recount(st, p, z, day):
    """Recompute the zone's aggregates from the arrays (monthly: birthdays, float drift)."""
    zr = st.zone[z]
    pat = st.pat
    alive = 0
    a65 = 0
    for g in range(4):
        zr.alive_group[g] = 0
        zr.utility_sum[g] = 0.0
    for n in range(4):
        zr.need_count[n] = 0
    for i in range(zr.first_patient, zr.next_free):
        if pat.situation[i] >= DECEASED:
            continue
        alive += 1
        g = group_index(pat, i)
        zr.alive_group[g] += 1
        zr.utility_sum[g] += np.float64(pat.utility[i])
        zr.need_count[pat.need[i]] += 1
        if day - pat.birth_day[i] >= DAYS_65:
            a65 += 1
    zr.alive = alive
    zr.alive_65plus = a65
