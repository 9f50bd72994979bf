"""Process 2, need progression: a patient moves up one need level (hazards by age band, higher
with preferential SES; see core/events.py). A patient becoming care-dependent (need 2) may get
an informal caregiver and, under the policy, an integrated care plan."""

from __future__ import annotations

from numba import njit

from .common import gets_care_plan, refresh_utility
from .demography import add_caregiver
from .state import F_CARE_PLAN
from .streams import PURPOSE_CARE_PLAN, PURPOSE_NEW_CAREGIVER, uniform


@njit(cache=True, _nrt=False, inline="always")
def need_progression(st, p, z, i, day, key):
    pat = st.pat
    need = pat.need[i]
    if need >= 3:
        return
    zr = st.zone[z]
    zr.need_count[need] -= 1
    need += 1
    zr.need_count[need] += 1
    pat.need[i] = need
    st.acc[z].need_progressions += 1.0
    if need == 2:
        if pat.caregiver[i] < 0 and uniform(key, i, day, PURPOSE_NEW_CAREGIVER) < p.caregiver_share:
            add_caregiver(st, p, z, i, day)
        # The care-plan draw is the patient's own, whatever the day: a larger care_plan_share
        # adds care plans, never reshuffles them (common random numbers).
        if gets_care_plan(need, uniform(key, i, 0, PURPOSE_CARE_PLAN), p.care_plan_share):
            pat.flags[i] |= F_CARE_PLAN
    refresh_utility(st, p, z, i)
