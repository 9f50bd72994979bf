"""Process 6, secondary care (shared by the zones of a region): the specialist waiting list with a
daily capacity, hospital admissions, length of stay, and discharge, which for a patient with
complex needs is a switch moment.

The specialist waiting list is a queue of the region served in order of clinical due date:
a referral gets a triage target (exponential, mean ``specialist_triage_days``) and its due
date is the referral day plus that target; each day the region's slots go to the earliest due
dates on the list, whether or not they are due yet. The slots come from a per-capita rate of
the initial population (``specialist_slots_per_1000_per_year``), fixed whatever the policy, plus
extra sessions while the list is long (up to ``specialist_flex_max_share`` of the base slots).
Patients leave the list with a hazard that rises with their wait (giving up, or going
elsewhere). So the wait emerges from demand and capacity, and a long list settles rather than
growing without bound. The list is a binary min-heap keyed by ``due_day * 4096 + target``.

The two lists are shared by the zones of a region, and a zone's phase never writes them: an
admission, a specialist request, or a death that takes a patient off the lists is filed as a
*request* in the zone's own buffer (``State.req``, :func:`file_request`), and
:func:`apply_requests` carries out every zone's requests after the phase, zone by zone in zone
order and each zone's in the order filed, whatever the number of threads (as Starsim carries out
requested deaths in one step). Whether a list still has room is decided there, so when a list is
full the patients refused are those whose requests come last in that order. A patient files at
most one request of each kind per phase (one event a day; one GP contact or wait a day).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import bump_u16, day16, first_unmet_today, group_index, refresh_utility, zone_of
from .state import (
    CASE_MANAGED,
    DAYS_PER_YEAR,
    DECEASED,
    DISRUPTED,
    F_SPEC_WAITING,
    F_UNRESOLVED,
    IN_HOSPITAL,
    N_AGE_BANDS,
    N_GROUPS,
    STABLE,
)
from .streams import exponential, uniform
from .switching import TRIGGER_DISCHARGE, trigger_switch

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_SPECIALIST = 12  # specialist lead time
PURPOSE_SPECIALIST_ADMISSION = 1012  # admission after a specialist visit
PURPOSE_LOS = 4  # length of stay
PURPOSE_DISCHARGE = 20  # a discharge is a switch moment
# (issue 16a's range, 2100-2199)
PURPOSE_SPECIALIST_LEAVE = 2100  # does a waiting patient leave the list today?
PURPOSE_SPECIALIST_ELSEWHERE = 2101  # ... seen elsewhere, or giving up?
PURPOSES = {
    "specialist": PURPOSE_SPECIALIST,
    "specialist_admission": PURPOSE_SPECIALIST_ADMISSION,
    "los": PURPOSE_LOS,
    "discharge": PURPOSE_DISCHARGE,
    "specialist_leave": PURPOSE_SPECIALIST_LEAVE,
    "specialist_elsewhere": PURPOSE_SPECIALIST_ELSEWHERE,
}

_LEAD_BITS = 4096


# Request bits (State.req.what): what a zone's phase asks of the shared lists for a patient.
REQ_ADMIT = 1  # admit to hospital
REQ_AVOIDABLE = 2  # ... an avoidable (ambulatory-care sensitive) admission
REQ_SPECIALIST = 4  # join the specialist waiting list
REQ_WITHDRAW = 8  # died: withdraw its specialist request
REQ_LEAVE = 16  # died: leave the hospital list


@njit(cache=True, _nrt=False, inline="always")
def file_request(zones, req, z, i, bits):
    """Patient i of zone z asks for ``bits`` (REQ_*) on the shared lists; carried out by
    :func:`apply_requests` after the phase."""
    if req.what[i] == 0:
        n = req.n[z]
        req.pid[zones[z].first_patient + n] = i
        req.n[z] = n + 1
    req.what[i] |= bits


@njit(cache=True, _nrt=False)
def _no_place(pat, accs, z, i, day):
    """A request of patient i found its list full: counted as unmet need (a day of it), never
    dropped silently."""
    acc = accs[z]
    acc.list_overflow += 1.0
    if first_unmet_today(pat, i, day):  # the patient-day counts once (interfaces.md)
        g = group_index(pat, i)
        acc.unmet_no_place[g] += 1.0
        acc.unmet_need_days[g] += 1.0
        bump_u16(pat.unmet_need_days, i)


@njit(cache=True, _nrt=False)
def _hosp_append(hosp, i, until):
    """Append patient i (in hospital until day ``until``) to the hospital list (room checked by
    the caller)."""
    n = hosp.n[0]
    hosp.pid[n] = i
    hosp.until[n] = until
    hosp.n[0] = n + 1


@njit(cache=True, _nrt=False)
def _heap_push(spec, k, i):
    """Push patient i with key k onto the specialist heap (room checked by the caller)."""
    h = spec.due
    pid = spec.pid
    pos = spec.n[0]
    while pos > 0:  # sift up
        parent = (pos - 1) >> 1
        if h[parent] <= k:
            break
        h[pos] = h[parent]
        pid[pos] = pid[parent]
        pos = parent
    h[pos] = k
    pid[pos] = i
    spec.n[0] += 1


@njit(cache=True, _nrt=False)
def _withdraw_specialist(spec, i):
    """Withdraw patient i's request from the specialist heap (its key stays)."""
    for t in range(spec.n[0]):
        if spec.pid[t] == i:
            spec.pid[t] = -1


@njit(cache=True, _nrt=False)
def _leave_hospital_list(hosp, i):
    """Remove patient i from the hospital list (the last entry takes its place)."""
    for t in range(hosp.n[0]):
        if hosp.pid[t] == i:
            hosp.n[0] -= 1
            hosp.pid[t] = hosp.pid[hosp.n[0]]
            hosp.until[t] = hosp.until[hosp.n[0]]
            break


@njit(cache=True, _nrt=False, inline="always")
def admit(zones, req, p, z, i, day, key, avoidable):
    """Ask to admit patient i to hospital today (avoidable: an ambulatory-care sensitive
    admission); :func:`_admit` carries it out after the phase."""
    if req.what[i] & REQ_ADMIT:
        return
    file_request(zones, req, z, i, REQ_ADMIT | (REQ_AVOIDABLE if avoidable else 0))


@njit(cache=True, _nrt=False)
def _admit(pat, zones, accs, hosp, p, z, i, day, key, avoidable):
    """Admit patient i to hospital today, if the hospital list has room."""
    if pat.situation[i] >= IN_HOSPITAL:  # already in hospital, or deceased
        return
    n = hosp.n[0]
    acc = accs[z]
    if n >= hosp.pid.shape[0]:
        _no_place(pat, accs, z, i, day)
        return
    mean = p.los_mean_need[pat.need[i]]
    los = max(1, np.int64(exponential(key, i, day, PURPOSE_LOS, mean) + 0.5))
    _hosp_append(hosp, i, day16(day + los))
    pat.situation[i] = IN_HOSPITAL
    bump_u16(pat.hospital_admissions, i)
    pat.last_admission_day[i] = day16(day)
    g = group_index(pat, i)
    acc.admissions[g] += 1.0
    acc.los_days_planned += los
    if avoidable:
        acc.avoidable_admissions[g] += 1.0
    refresh_utility(pat, zones, p, z, i)


@njit(cache=True, _nrt=False)
def _discharge(pat, cg, zones, accs, episodes, p, z, i, day, key):
    if pat.case_manager[i] >= 0:
        pat.situation[i] = CASE_MANAGED
    elif pat.flags[i] & F_UNRESOLVED:
        pat.situation[i] = DISRUPTED
    else:
        pat.situation[i] = STABLE
    accs[z].discharges += 1.0
    refresh_utility(pat, zones, p, z, i)
    if uniform(key, i, day, PURPOSE_DISCHARGE) < p.discharge_switch[pat.need[i]]:
        trigger_switch(pat, cg, zones, accs, episodes, p, z, i, day, key, TRIGGER_DISCHARGE)


@njit(cache=True, _nrt=False, inline="always")
def specialist_request(zones, req, p, z, i, day, key):
    """Ask to put patient i on the specialist waiting list; :func:`_join_waiting_list` carries
    it out after the phase."""
    file_request(zones, req, z, i, REQ_SPECIALIST)


@njit(cache=True, _nrt=False)
def _join_waiting_list(pat, accs, spec, p, z, i, day, key):
    """Put patient i on the specialist waiting list (one open request per patient), if it has
    room."""
    if pat.flags[i] & F_SPEC_WAITING:
        return
    n = spec.n[0]
    if n >= spec.due.shape[0]:
        _no_place(pat, accs, z, i, day)
        return
    target = min(
        np.int64(exponential(key, i, day, PURPOSE_SPECIALIST, p.specialist_triage_days)),
        _LEAD_BITS - 1,
    )
    _heap_push(spec, np.int32((day + target) * _LEAD_BITS + target), i)
    pat.flags[i] |= F_SPEC_WAITING


@njit(cache=True, nogil=True, _nrt=False)
def apply_requests(pat, zones, accs, spec, hosp, req, prm, day, key):
    """Carry out the requests the zones filed during a phase: zone by zone in zone order, each
    zone's patients in the order they filed, so the shared lists change in an order that does
    not depend on how the zones were spread over threads. Empties the buffers."""
    for z in range(zones.shape[0]):
        base = zones[z].first_patient
        p = prm[z]
        for s in range(req.n[z]):
            i = req.pid[base + s]
            req.pid[base + s] = -1
            what = req.what[i]
            req.what[i] = 0
            if what & REQ_WITHDRAW:
                _withdraw_specialist(spec, i)
            if what & REQ_LEAVE:
                _leave_hospital_list(hosp, i)
            if what & REQ_SPECIALIST:
                _join_waiting_list(pat, accs, spec, p, z, i, day, key)
            if what & REQ_ADMIT:
                _admit(pat, zones, accs, hosp, p, z, i, day, key, (what & REQ_AVOIDABLE) != 0)
        req.n[z] = 0


@njit(cache=True, _nrt=False)
def _heap_pop(spec):
    """Take the root (earliest key) off the specialist heap: the last entry moves to the root
    and sinks (:func:`_sift_down`)."""
    h = spec.due
    pid = spec.pid
    n = spec.n[0] - 1
    top_k = h[0]
    top_i = pid[0]
    spec.n[0] = n
    if n > 0:
        h[0] = h[n]
        pid[0] = pid[n]
        _sift_down(h, pid, 0, n)
    return top_k, top_i


@njit(cache=True, _nrt=False)
def secondary_care(pat, cg, prac, zones, accs, spec, hosp, episodes, prm, day, key):
    """One day of the region's secondary care: hospital discharges and bed-days, then the
    specialist appointments the day's capacity allows."""
    # Hospital: discharges and bed-days.
    j = 0
    while j < hosp.n[0]:
        i = hosp.pid[j]
        z = zone_of(pat, prac, i)
        if pat.situation[i] == DECEASED or pat.situation[i] != IN_HOSPITAL:
            n = hosp.n[0] - 1
            hosp.pid[j] = hosp.pid[n]
            hosp.until[j] = hosp.until[n]
            hosp.n[0] = n
            continue
        accs[z].hospital_days += 1.0
        if day >= hosp.until[j]:
            n = hosp.n[0] - 1
            hosp.pid[j] = hosp.pid[n]
            hosp.until[j] = hosp.until[n]
            hosp.n[0] = n
            _discharge(pat, cg, zones, accs, episodes, prm[z], z, i, day, key)
            continue
        j += 1
    # Specialist list: patients leave, the list's length sets today's slots, then the slots
    # go to the earliest due dates.
    p0 = prm[0]  # the region's secondary care (the same in every zone's record)
    waiting = _leave_specialist_list(pat, prac, accs, spec, p0, day, key)
    base = p0.specialist_capacity_day
    slots = np.int64(np.floor((day + 1) * base)) - np.int64(np.floor(day * base))
    extra = 0
    if base > 0.0:
        span = max(p0.specialist_flex_full_days - p0.specialist_flex_start_days, 1e-9)
        f = min(max((waiting / base - p0.specialist_flex_start_days) / span, 0.0), 1.0)
        flex = base * p0.specialist_flex_max_share * f
        extra = np.int64(np.floor((day + 1) * flex)) - np.int64(np.floor(day * flex))
    slots += extra
    while slots > 0 and spec.n[0] > 0:
        k, i = _heap_pop(spec)
        if i < 0 or pat.situation[i] == DECEASED:  # withdrawn (the patient died)
            continue
        pat.flags[i] &= 255 ^ F_SPEC_WAITING
        z = zone_of(pat, prac, i)
        if pat.situation[i] == IN_HOSPITAL:  # seen during the stay instead
            continue
        slots -= 1
        target = k % _LEAD_BITS
        wait = day - (k // _LEAD_BITS - target)
        acc = accs[z]
        bump_u16(pat.specialist_visits, i)
        acc.specialist_visits += 1.0
        acc.specialist_wait_days += wait
        if wait > 14:
            acc.specialist_wait_over_14 += 1.0
        if slots < extra:
            acc.specialist_extra_visits += 1.0
        p = prm[z]
        if (
            uniform(key, i, day, PURPOSE_SPECIALIST_ADMISSION)
            < p.admission_after_specialist[pat.need[i]]
        ):
            _admit(
                pat, zones, accs, hosp, p, z, i, day, key, False
            )  # the region's own phase: no request


@njit(cache=True, _nrt=False)
def _leave_specialist_list(pat, prac, accs, spec, p, day, key):
    """Today's departures from the specialist list: a patient waiting w days leaves with
    probability ``specialist_leave_per_day * min(1, w / specialist_leave_full_days)``, seen
    elsewhere or giving up (each counted by equity group). Withdrawn entries go too; the heap
    is rebuilt from what stays. Returns the number still waiting (whose patient-days are
    counted by zone)."""
    h = spec.due
    pid = spec.pid
    n = spec.n[0]
    m = 0
    for t in range(n):
        i = pid[t]
        if i < 0 or pat.situation[i] == DECEASED:
            continue
        k = h[t]
        target = k % _LEAD_BITS
        wait = day - (k // _LEAD_BITS - target)
        hazard = p.specialist_leave_per_day * min(wait / p.specialist_leave_full_days, 1.0)
        if hazard > 0.0 and uniform(key, i, day, PURPOSE_SPECIALIST_LEAVE) < hazard:
            pat.flags[i] &= 255 ^ F_SPEC_WAITING
            z = zone_of(pat, prac, i)
            g = group_index(pat, i)
            if (
                uniform(key, i, day, PURPOSE_SPECIALIST_ELSEWHERE)
                < p.specialist_leave_elsewhere_share
            ):
                accs[z].specialist_went_elsewhere[g] += 1.0
            else:
                accs[z].specialist_gave_up[g] += 1.0
            continue
        accs[zone_of(pat, prac, i)].specialist_list_days += 1.0
        h[m] = k
        pid[m] = i
        m += 1
    if m < n:  # rebuild the heap from the entries that stay (Floyd's sift-down)
        spec.n[0] = m
        for root in range(m // 2 - 1, -1, -1):
            _sift_down(h, pid, root, m)
    return m


@njit(cache=True, _nrt=False)
def _sift_down(h, pid, pos, n):
    k = h[pos]
    i = pid[pos]
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and h[child + 1] < h[child]:
            child += 1
        if h[child] >= k:
            break
        h[pos] = h[child]
        pid[pos] = pid[child]
        pos = child
    h[pos] = k
    pid[pos] = i


# --- what process 6 adds to the model (core/parts.py) ------------------------------------------

_YOUNG_BANDS = 13  # 5-year bands 0-12: under 65
_OLD_BANDS = 16  # bands 16+: 80 and over


def _secondary(config):
    return config.parameters.secondary


def _in_hospital_death_table(config, policy):
    """Daily in-hospital death hazard by 5-year age band and need level."""
    dem = config.parameters.demography
    age = np.asarray(dem.in_hospital_mortality_age_multiplier, dtype=np.float64)
    need = np.asarray(dem.in_hospital_mortality_need_multiplier, dtype=np.float64)
    band = np.arange(N_AGE_BANDS)
    group = np.where(band < _YOUNG_BANDS, 0, np.where(band < _OLD_BANDS, 1, 2))
    return dem.in_hospital_mortality_per_day * age[group][:, None] * need[None, :]


def _los_mean_need(config, policy):
    """Mean stay by need, normalised so that admissions (weighted towards higher need) average
    about length_of_stay_days; the calibration checks the result."""
    sec = _secondary(config)
    rel = 1.0 + sec.length_of_stay_need_slope * (np.arange(4) - 0.9)
    return sec.length_of_stay_days * np.maximum(rel, 0.2)


def _sec(name):
    return lambda config, policy: getattr(_secondary(config), name)


PARAMS = (
    ("los_mean_need", np.float64, (4,), _los_mean_need),
    (
        "discharge_switch",
        np.float64,
        (4,),
        lambda config, policy: config.parameters.secondary.discharge_switch_probability,
    ),
    ("specialist_triage_days", np.float64, None, _sec("specialist_triage_days")),
    ("specialist_flex_max_share", np.float64, None, _sec("specialist_flex_max_share")),
    ("specialist_flex_start_days", np.float64, None, _sec("specialist_flex_start_days")),
    ("specialist_flex_full_days", np.float64, None, _sec("specialist_flex_full_days")),
    ("specialist_leave_per_day", np.float64, None, _sec("specialist_leave_per_day")),
    ("specialist_leave_full_days", np.float64, None, _sec("specialist_leave_full_days")),
    (
        "specialist_leave_elsewhere_share",
        np.float64,
        None,
        _sec("specialist_leave_elsewhere_share"),
    ),
    ("admission_after_specialist", np.float64, (4,), _sec("admission_after_specialist")),
    ("in_hospital_death", np.float64, (N_AGE_BANDS, 4), _in_hospital_death_table),
)

ACCUMULATORS = (
    # long-standing counts of this process (moved from state._ACC_FIELDS, issue 14)
    ("admissions", np.float64, (N_GROUPS,)),
    ("avoidable_admissions", np.float64, (N_GROUPS,)),
    ("hospital_days", np.float64, None),
    ("discharges", np.float64, None),
    ("los_days_planned", np.float64, None),  # length of stay drawn at admission
    ("specialist_visits", np.float64, None),
    ("specialist_wait_days", np.float64, None),
    ("specialist_wait_over_14", np.float64, None),
    ("specialist_went_elsewhere", np.float64, (4,)),  # left the list to be seen elsewhere
    ("specialist_gave_up", np.float64, (4,)),  # left the list without a visit
    ("specialist_list_days", np.float64, None),  # patient-days on the specialist list
    ("specialist_extra_visits", np.float64, None),  # visits in extra (flexed) sessions
)


def metrics(w, person_years):
    """The specialist list's outcomes per 1,000 person-years (and the extra sessions' share)."""
    per1000 = 1000.0 / person_years if person_years else 0.0
    visits = float(w["specialist_visits"])
    return {
        "specialist_gave_up_per_1000": float(np.sum(w["specialist_gave_up"])) * per1000,
        "specialist_went_elsewhere_per_1000": float(np.sum(w["specialist_went_elsewhere"]))
        * per1000,
        "specialist_waiting_per_1000": float(w["specialist_list_days"]) * per1000 / DAYS_PER_YEAR,
        "specialist_extra_session_share": float(w["specialist_extra_visits"]) / visits
        if visits
        else 0.0,
    }
