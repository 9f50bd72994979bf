"""Practices and their lists: the balancing loops that move patients (issue 15).

* A GP who leaves hands the list to the colleagues of the practice (each patient whose usual GP
  left gets a working colleague as usual GP).
* A practice whose last GP leaves closes: its patients register with another practice of the
  zone (their own municipality first) that still takes patients; one that finds none stays
  registered where no GP works and is counted each day (``without_gp_days``).
* A patient who has waited long for a routine contact may re-register with a practice of the
  zone with a shorter expected wait (core/gatekeeper.py draws that decision).

A practice takes new patients while its list per working GP FTE is below
``practice_list_cap_per_fte``. Everything here is deterministic (the decisions to move are drawn
by the callers, each with its own purpose), and zone-local.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import bump_u16, day16, first_unmet_today, group_index
from .state import DECEASED, F_GP_WAITING, IN_HOSPITAL, PV_ACTIVE, PV_SICK

NO_GP_WAIT = 1.0e6  # the expected wait (days) at a practice where no GP works
# A practice in the patient's own municipality is preferred unless its list per GP FTE is this
# share longer than the shortest elsewhere in the zone.
MUNICIPALITY_PREFERENCE = 0.15

# What the practices' balancing loops count (core/parts.py).
ACCUMULATORS = (
    ("queue_overflow", np.float64, None),  # a routine request found its practice's queue full
    ("practice_closures", np.float64, None),  # practices that lost their last GP
    ("list_moves", np.float64, None),  # patients moved to a colleague or another practice
    ("without_gp_days", np.float64, None),  # person-days registered where no GP works
)


@njit(cache=True, _nrt=False)
def working_fte(prov, prac, k):
    """FTE of practice k's GPs at work or on sick leave (its establishment in use)."""
    fte = 0.0
    for s in range(prac.gp_slots[k]):
        j = prac.gp_start[k] + s
        if prov.state[j] == PV_ACTIVE or prov.state[j] == PV_SICK:
            fte += np.float64(prov.fte[j])
    return fte


@njit(cache=True, _nrt=False)
def expected_wait(prov, prac, p, k):
    """Days practice k's routine queue would take at today's capacity of its active GPs."""
    cap = 0.0
    for s in range(prac.gp_slots[k]):
        j = prac.gp_start[k] + s
        if prov.state[j] == PV_ACTIVE:
            cap += np.float64(prov.fte[j]) * p.gp_contacts_per_fte_day
    if cap <= 0.0:
        return NO_GP_WAIT
    return prac.queue_len[k] / cap


@njit(cache=True, _nrt=False)
def accepting_practice(prov, prac, zones, p, z, municipality, exclude):
    """The practice of zone z that takes new patients (a working GP, list per working GP FTE
    below ``practice_list_cap_per_fte``) with the fewest patients per working GP FTE, those of
    ``municipality`` counted as if their lists were MUNICIPALITY_PREFERENCE shorter; -1 if none.
    (Lists, not today's queues, spread a closing practice's patients over its neighbours.)"""
    zr = zones[z]
    best = -1
    best_score = 0.0
    for k in range(zr.first_practice, zr.end_practice):
        if k == exclude:
            continue
        fte = working_fte(prov, prac, k)
        if fte <= 0.0 or prac.list_size[k] >= p.practice_list_cap_per_fte * fte:
            continue
        score = prac.list_size[k] / fte
        if prac.municipality[k] == municipality:
            score *= 1.0 - MUNICIPALITY_PREFERENCE
        if best < 0 or score < best_score:
            best = k
            best_score = score
    return best


@njit(cache=True, _nrt=False)
def _colleague(prov, prac, k, nth):
    """The ``nth`` (cyclically) working GP of practice k, or -1 if none works there."""
    n = 0
    for s in range(prac.gp_slots[k]):
        j = prac.gp_start[k] + s
        if prov.state[j] == PV_ACTIVE or prov.state[j] == PV_SICK:
            n += 1
    if n == 0:
        return -1
    want = nth % n
    for s in range(prac.gp_slots[k]):
        j = prac.gp_start[k] + s
        if prov.state[j] == PV_ACTIVE or prov.state[j] == PV_SICK:
            if want == 0:
                return j
            want -= 1
    return -1


@njit(cache=True, _nrt=False)
def register(pat, prov, prac, i, k):
    """Patient i registers with practice k (list sizes, usual GP); the caller handles queues."""
    prac.list_size[pat.practice[i]] -= 1
    pat.practice[i] = np.int16(k)
    prac.list_size[k] += 1
    pat.usual_gp[i] = _colleague(prov, prac, k, i)
    if pat.usual_gp[i] < 0:
        pat.usual_gp[i] = prac.gp_start[k]


@njit(cache=True, _nrt=False)
def enqueue_gp(pat, prac, gpq, accs, z, i, k, day):
    """Patient i joins practice k's routine queue (dated today)."""
    cap = prac.queue_cap[k]
    n = prac.queue_len[k]
    if n >= cap:
        # No place: never dropped silently; a day of unmet need (issue 16, REVIEW item 9).
        acc = accs[z]
        acc.queue_overflow += 1.0
        acc.gp_no_place += 1.0
        if first_unmet_today(pat, i, day):  # each patient-day counted once
            g = group_index(pat, i)
            acc.unmet_no_place[g] += 1.0
            acc.unmet_need_days[g] += 1.0
            bump_u16(pat.unmet_need_days, i)
        pat.flags[i] &= 255 ^ F_GP_WAITING
        return
    pos = prac.queue_start[k] + ((prac.queue_head[k] + n) & (cap - 1))
    gpq.pid[pos] = i
    gpq.day[pos] = day16(day)
    prac.queue_len[k] = n + 1
    pat.flags[i] |= F_GP_WAITING


@njit(cache=True, _nrt=False)
def leave_queue(pat, prac, gpq, i, k):
    """Patient i's entry in practice k's routine queue becomes a hole (skipped when served)."""
    mask = prac.queue_cap[k] - 1
    for t in range(prac.queue_len[k]):
        pos = prac.queue_start[k] + ((prac.queue_head[k] + t) & mask)
        if gpq.pid[pos] == i:
            gpq.pid[pos] = -1
    pat.flags[i] &= 255 ^ F_GP_WAITING


@njit(cache=True, _nrt=False)
def gp_departs(pat, prov, prac, gpq, zones, accs, p, z, j, day):
    """GP j has just left: the list moves to colleagues, or the practice closes and its
    patients register elsewhere in the zone (waiting ones join the new practice's queue)."""
    acc = accs[z]
    zr = zones[z]
    k = prov.practice[j]
    if k < 0:
        return
    closes = working_fte(prov, prac, k) <= 0.0
    if closes:
        acc.practice_closures += 1.0
    moved = 0
    for i in range(zr.first_patient, zr.next_free):
        if pat.situation[i] >= DECEASED or pat.practice[i] != k:
            continue
        if not closes:
            if pat.usual_gp[i] == j:
                pat.usual_gp[i] = _colleague(prov, prac, k, i)
                moved += 1
            continue
        k2 = accepting_practice(prov, prac, zones, p, z, pat.municipality[i], k)
        if k2 < 0:
            continue  # stays registered where no GP works: counted in without_gp_days
        waiting = pat.flags[i] & F_GP_WAITING
        if waiting:
            leave_queue(pat, prac, gpq, i, k)
        register(pat, prov, prac, i, k2)
        moved += 1
        if waiting:
            if pat.situation[i] < IN_HOSPITAL:
                enqueue_gp(
                    pat, prac, gpq, accs, z, i, k2, day
                )  # the request moves with the patient
            else:
                acc.gp_withdrawn += 1.0
    acc.list_moves += moved


@njit(cache=True, _nrt=False)
def count_without_gp(prov, prac, zones, accs, z):
    """Person-days of today registered with a practice where no GP works."""
    zr = zones[z]
    n = 0.0
    for k in range(zr.first_practice, zr.end_practice):
        if prac.list_size[k] > 0 and working_fte(prov, prac, k) <= 0.0:
            n += prac.list_size[k]
    accs[z].without_gp_days += n
