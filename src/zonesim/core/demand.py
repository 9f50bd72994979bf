"""Processes 3 and 4, care demand and care seeking: what a patient's daily event asks of the care
system. Routine and chronic contacts go to the GP (or, under task agreements, to a nurse);
self-initiated specialist demand goes straight to the waiting list under direct access and to
the GP under strict gatekeeping; allied care (physiotherapy, psychology, social work) is served
while its discipline has capacity. Limited health literacy shifts use from routine to unplanned
care through the event rates themselves (see core/events.py)."""

from __future__ import annotations

from numba import njit

from .common import bump_u16, first_unmet_today, group_index
from .gatekeeper import request_gp
from .hospital import specialist_request
from .state import F_SPEC_INTENT, NURSE, PHYSIO, PSYCHOLOGIST, SOCIAL_WORKER
from .streams import PURPOSE_NURSE_FOLLOWUP, PURPOSE_RATIONING, uniform


@njit(cache=True, _nrt=False, inline="always")
def chronic_followup(st, p, z, i, day, key):
    """A chronic follow-up: by a nurse under the task agreements, otherwise by the GP."""
    zr = st.zone[z]
    if (
        zr.capacity_hours[NURSE] > 0.0
        and uniform(key, i, day, PURPOSE_NURSE_FOLLOWUP) < p.nurse_followup_share
    ):
        zr.demand_hours[NURSE] += p.nurse_followup_hours
        st.acc[z].nurse_followups += 1.0
    else:
        request_gp(st, p, z, i, day, key)


@njit(cache=True, _nrt=False, inline="always")
def direct_specialist(st, p, z, i, day, key):
    """Self-initiated specialist demand: direct access, or through the GP when strict."""
    if p.strict_gatekeeping:
        st.pat.flags[i] |= F_SPEC_INTENT
        request_gp(st, p, z, i, day, key)
    else:
        st.acc[z].specialist_self_referrals += 1.0
        specialist_request(st, p, z, i, day, key)


@njit(cache=True, _nrt=False, inline="always")
def allied_contact(st, p, z, i, day, key, discipline):
    """A physiotherapy, psychology or social work contact, rationed by yesterday's capacity."""
    zr = st.zone[z]
    acc = st.acc[z]
    zr.demand_hours[discipline] += p.session_hours[discipline]
    if uniform(key, i, day, PURPOSE_RATIONING) < zr.served_fraction[discipline]:
        if discipline == PHYSIO:
            acc.physio_sessions += 1.0
        elif discipline == PSYCHOLOGIST:
            acc.psychology_sessions += 1.0
        elif discipline == SOCIAL_WORKER:
            acc.social_work_contacts += 1.0
    else:
        acc.rationed_contacts += 1.0
        if first_unmet_today(st.pat, i, day):  # each patient-day counted once
            g = group_index(st.pat, i)
            bump_u16(st.pat.unmet_need_days, i)
            acc.unmet_need_days[g] += 1.0
            acc.unmet_rationed_days[g] += 1.0
