"""Processes 3 and 4, care demand and care seeking: what a patient's daily event asks of the care
system. Routine and chronic contacts go to the GP (or, under task agreements, to a nurse);
self-initiated specialist demand goes straight to the waiting list under direct access and to
the GP under strict gatekeeping; allied care (physiotherapy, psychology, social work) is served
while its discipline has capacity. Limited health literacy shifts use from routine to unplanned
care through the event rates themselves (see core/events.py)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (
    GAP_FOLLOWUP,
    GAP_FOLLOWUP_BITS,
    GAP_FOLLOWUP_PENDING,
    GAP_PSYCH,
    GAP_PSYCH_BITS,
    GAP_UNMET,
    PURPOSE_INFO_CONTACT,
    PURPOSE_INFO_REACH,
    bump_u16,
    close_gaps,
    first_unmet_today,
    group_index,
    open_gap,
)
from .gatekeeper import request_gp
from .hospital import specialist_request
from .state import F_GP_WAITING, F_SPEC_INTENT, N_GROUPS, NURSE, PHYSIO, PSYCHOLOGIST, SOCIAL_WORKER
from .streams import uniform

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_NURSE_FOLLOWUP = 32  # a chronic follow-up goes to the nurse
PURPOSE_RATIONING = 13  # rationed care (served or not)


@njit(cache=True, _nrt=False, inline="always")
def chronic_followup(pat, prov, prac, gpq, zones, accs, p, z, i, day, key):
    """A chronic follow-up: by a nurse under the task agreements, otherwise by the GP."""
    zr = zones[z]
    if (
        zr.capacity_hours[NURSE] > 0.0
        and uniform(key, i, day, PURPOSE_NURSE_FOLLOWUP) < p.nurse_followup_share
    ):
        zr.demand_hours[NURSE] += p.nurse_followup_hours
        accs[z].nurse_followups += 1.0
        close_gaps(pat, zones, p, z, i, GAP_FOLLOWUP_BITS)
    else:
        # The follow-up rides on the patient's GP request; one that finds no place in the queue
        # (deferred, queue full) is missed now, one that leaves the queue unseen is missed
        # then (core/need.py care_gap_events), one that is seen closes the gap (gatekeeper).
        pat.care_gaps[i] = np.uint8(np.int64(pat.care_gaps[i]) | GAP_FOLLOWUP_PENDING)
        request_gp(pat, prov, prac, gpq, zones, accs, p, z, i, day, key)
        if not (pat.flags[i] & F_GP_WAITING):
            pat.care_gaps[i] = np.uint8(np.int64(pat.care_gaps[i]) & ~GAP_FOLLOWUP_PENDING)
            open_gap(pat, zones, accs, p, z, i, GAP_FOLLOWUP)


@njit(cache=True, _nrt=False, inline="always")
def direct_specialist(pat, prov, prac, gpq, zones, accs, req, p, z, i, day, key):
    """Self-initiated specialist demand: direct access, or through the GP when strict."""
    if p.strict_gatekeeping:
        pat.flags[i] |= F_SPEC_INTENT
        request_gp(pat, prov, prac, gpq, zones, accs, p, z, i, day, key)
    else:
        accs[z].specialist_self_referrals += 1.0
        specialist_request(zones, req, p, z, i, day, key)


@njit(cache=True, _nrt=False, inline="always")
def allied_contact(pat, zones, accs, p, z, i, day, key, discipline):
    """A physiotherapy, psychology or social work contact, rationed by yesterday's capacity."""
    zr = zones[z]
    acc = accs[z]
    zr.demand_hours[discipline] += p.session_hours[discipline]
    if uniform(key, i, day, PURPOSE_RATIONING) < zr.served_fraction[discipline]:
        if discipline == PHYSIO:
            acc.physio_sessions += 1.0
        elif discipline == PSYCHOLOGIST:
            acc.psychology_sessions += 1.0
            close_gaps(pat, zones, p, z, i, GAP_PSYCH_BITS)
        elif discipline == SOCIAL_WORKER:
            acc.social_work_contacts += 1.0
    else:
        acc.rationed_contacts += 1.0
        if first_unmet_today(pat, i, day):  # each patient-day counted once
            g = group_index(pat, i)
            bump_u16(pat.unmet_need_days, i)
            acc.unmet_need_days[g] += 1.0
            acc.unmet_rationed_days[g] += 1.0
        open_gap(pat, zones, accs, p, z, i, GAP_PSYCH if discipline == PSYCHOLOGIST else GAP_UNMET)


# The information and reporting point (process 4; used in core/switching.py ``recognised`` and
# at reporting): who knows it (common.knows_point: a patient's own draw under the policy's
# reach) reports a disrupted situation early and reports one that went wrong more often.
PURPOSES = {
    "nurse_followup": PURPOSE_NURSE_FOLLOWUP,
    "rationing": PURPOSE_RATIONING,
    "info_reach": PURPOSE_INFO_REACH,
    "info_contact": PURPOSE_INFO_CONTACT,
}


def _point(value):
    def compile_(config, policy):
        return value(config, policy) if policy.information_point else 0.0

    return compile_


PARAMS = (
    (
        "nurse_followup_hours",
        np.float64,
        None,
        lambda config, policy: config.parameters.gatekeeper.nurse_followup_minutes / 60.0,
    ),
    ("info_point_reach", np.float64, None, _point(lambda c, p: p.information_point_reach)),
    (
        "info_point_contact",
        np.float64,
        None,
        _point(lambda c, p: p.information_point_contact_per_day),
    ),
    (
        "report_p_point",
        np.float64,
        None,
        lambda c, p: c.parameters.switching.report_probability_with_point,
    ),
)
ACCUMULATORS = (
    # long-standing counts of this process (moved from state._ACC_FIELDS, issue 14)
    # a rationed allied contact: a component of unmet_need_days (zonesim.metrics.UNMET_COMPONENTS)
    ("unmet_rationed_days", np.float64, (N_GROUPS,)),
    ("specialist_self_referrals", np.float64, None),  # direct access requests
    ("nurse_followups", np.float64, None),
    ("physio_sessions", np.float64, None),
    ("psychology_sessions", np.float64, None),
    ("social_work_contacts", np.float64, None),
    ("rationed_contacts", np.float64, None),  # allied contacts not served (capacity)
    ("info_point_recognitions", np.float64, None),
)


def metrics(w, person_years):
    """Switch moments the point got recognised early, per 1,000 person-years."""
    per = 1000.0 / person_years if person_years else 0.0
    return {"info_point_recognitions_per_1000": per * float(w["info_point_recognitions"])}
