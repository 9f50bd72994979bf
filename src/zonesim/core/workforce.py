"""Process 9, workforce: utilisation = demand / capacity; strain relaxes towards the level the
smoothed load sustains (zero at normal load); strain raises sick leave (capacity lost for a
while) and attrition (the reinforcing loop of the care paradox); recruitment answers vacancies
with a lag, within a labour market per year (the balancing loop).

Capacity is fixed at the start of each day from the providers then active; demand is booked by
the day's processes; what a discipline could not serve today lowers tomorrow's served fraction.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .case_management import caseload_capacity
from .common import day16, per_day
from .practices import count_without_gp, gp_departs
from .state import (
    CASE_MANAGER,
    DAYS_PER_YEAR,
    DECEASED,
    GP,
    N_DISCIPLINES,
    NURSE,
    PV_ACTIVE,
    PV_LEFT,
    PV_SICK,
    PV_VACANT,
)
from .streams import exponential, uniform

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_PROVIDER_LEAVE = 25  # a provider's departure (retirement, attrition); apart from sick leave
PURPOSE_PROVIDER = 9  # a provider's sick leave
PURPOSE_PROVIDER_DURATION = 10
PURPOSES = {
    "provider_leave": PURPOSE_PROVIDER_LEAVE,
    "provider": PURPOSE_PROVIDER,
    "provider_duration": PURPOSE_PROVIDER_DURATION,
}

MIN_VACANCY_FTE = 0.05  # smaller gaps between establishment and staff are not advertised

# Parameters this process adds (core/parts.py): the GP establishment follows the GP demand the
# need mix implies. ``gp_demand_ref`` (the implied demand at the start) is set from the state
# by core.params.compile (it needs the zone's initial need mix).
PARAMS = (
    (
        "nursing_hours_day",
        np.float64,
        (4,),
        lambda config, policy: np.asarray(config.parameters.care.nursing_hours_per_week) / 7.0,
    ),
    (
        "ema_alpha",
        np.float64,
        None,
        lambda config, policy: 1.0 / config.parameters.workforce.utilisation_smoothing_days,
    ),
    (
        "strain_rise",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.strain_rise_per_day,
    ),
    (
        "strain_recovery",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.strain_recovery_per_day,
    ),
    (
        "comfortable",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.comfortable_utilisation,
    ),
    (
        "strained_threshold",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.strained_threshold,
    ),
    (
        "sick_per_day",
        np.float64,
        None,
        lambda config, policy: per_day(config.parameters.workforce.sick_leave_per_year),
    ),
    (
        "sick_slope",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.sick_leave_strain_slope,
    ),
    (
        "sick_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.sick_leave_days,
    ),
    (
        "attrition_per_day",
        np.float64,
        None,
        lambda config, policy: per_day(config.parameters.workforce.attrition_per_year),
    ),
    (
        "attrition_slope",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.attrition_strain_slope,
    ),
    (
        "gp_retirement_per_day",
        np.float64,
        None,
        lambda config, policy: per_day(config.scenario.gp_retirement_per_year),
    ),
    (
        "recruit_share_per_day",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.recruitment_per_year / DAYS_PER_YEAR,
    ),
    (
        "strain_full",
        np.float64,
        None,
        lambda config, policy: max(
            config.parameters.workforce.strain_full_utilisation,
            config.parameters.workforce.comfortable_utilisation + 1e-6,
        ),
    ),
    (
        "vacancy_fill_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.vacancy_fill_days,
    ),
    (
        "gp_vacancy_fill_days",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.gp_vacancy_fill_days,
    ),
    (
        "gp_establishment_elasticity",
        np.float64,
        None,
        lambda config, policy: config.parameters.workforce.gp_establishment_demand_elasticity,
    ),
    ("gp_demand_ref", np.float64, None, lambda config, policy: 0.0),
)

# What the workforce counts (core/parts.py); the hours of capacity, worked and overtime
# are central (state._ACC_FIELDS): the gatekeeper adds the GPs', this module the others'.
ACCUMULATORS = (
    ("fte_days", np.float64, (N_DISCIPLINES,)),
    ("demand_hours", np.float64, (N_DISCIPLINES,)),
    ("strained_fte_days", np.float64, (N_DISCIPLINES,)),
    ("sick_leave_days", np.float64, (N_DISCIPLINES,)),
    ("attrition_fte", np.float64, (N_DISCIPLINES,)),
    ("recruited_fte", np.float64, (N_DISCIPLINES,)),
    ("cm_fte_days", np.float64, None),
    ("pooled_fte_days", np.float64, None),
)


@njit(cache=True, _nrt=False)
def implied_gp_demand(need_count, p):
    """GP contacts per day the zone's need mix implies: routine contacts plus the chronic
    follow-ups the GP does (those not shifted to the nurse), per need level."""
    total = 0.0
    for n in range(4):
        total += need_count[n] * (
            p.gp_rate[n] + p.followup_rate[n] * (1.0 - p.nurse_followup_share)
        )
    return total


@njit(cache=True, _nrt=False)
def gp_establishment(zones, p, z):
    """The GP FTE recruitment aims at: the initial FTE, scaled by the GP demand the zone's need
    mix implies now against the start (``gp_establishment_elasticity``; 0: fixed). A slowly
    drifting need mix (e.g. more chronic patients) otherwise pushes a fixed establishment
    towards full capacity, where waits grow far faster than the load."""
    target = p.initial_fte[GP]
    if p.gp_demand_ref > 0.0 and p.gp_establishment_elasticity != 0.0:
        now = implied_gp_demand(zones[z].need_count, p)
        if now > 0.0:
            target *= (now / p.gp_demand_ref) ** p.gp_establishment_elasticity
    return target


@njit(cache=True, _nrt=False)
def start_of_day(prov, zones, p, z):
    """Today's capacity per discipline from active providers; continuous nursing demand."""
    zr = zones[z]
    for d in range(N_DISCIPLINES):
        zr.capacity_hours[d] = 0.0
        zr.demand_hours[d] = 0.0
    for j in range(zr.first_provider, zr.end_provider):
        if prov.state[j] == PV_ACTIVE:
            zr.capacity_hours[prov.discipline[j]] += np.float64(prov.hours_per_week[j]) / 7.0
    # GP capacity is in contacts (see gatekeeper); keep hours consistent for reporting.
    nursing = 0.0
    for n in range(4):
        nursing += zr.need_count[n] * p.nursing_hours_day[n]
    zr.demand_hours[NURSE] += nursing


@njit(cache=True, _nrt=False)
def _recruit(pat, prov, prac, zones, p, z, d, day, size):
    """Fill one vacant (or left) slot of discipline d in zone z with ``size`` FTE; return the
    FTE hired (0 if no slot is free)."""
    zr = zones[z]
    best = -1
    best_need = -1.0
    if d == GP:
        # The practice with the most patients per working GP FTE that has a free slot.
        for k in range(zr.first_practice, zr.end_practice):
            free = -1
            fte = 0.0
            for s in range(prac.gp_slots[k]):
                j = prac.gp_start[k] + s
                if prov.state[j] == PV_ACTIVE or prov.state[j] == PV_SICK:
                    fte += np.float64(prov.fte[j])
                elif free < 0:
                    free = j
            if free >= 0:
                need = prac.list_size[k] / (fte + 0.5)
                if need > best_need:
                    best_need = need
                    best = free
    else:
        for j in range(zr.first_provider, zr.end_provider):
            if prov.discipline[j] == d and (prov.state[j] == PV_VACANT or prov.state[j] == PV_LEFT):
                best = j
                break
    if best < 0:
        return 0.0
    prov.state[best] = PV_ACTIVE
    prov.fte[best] = np.float32(size)
    prov.strain[best] = 0.0
    prov.utilisation_ema[best] = np.float32(p.comfortable)
    prov.caseload[best] = 0
    prov.until[best] = day16(day)
    prov.hours_per_week[best] = np.float32(prov.fte[best] * p.hours_per_fte_week[d])
    if d == GP:
        # A GP joining a practice takes over the patients left without a usual GP there.
        k = prov.practice[best]
        alone = True
        for s in range(prac.gp_slots[k]):
            j = prac.gp_start[k] + s
            if j != best and (prov.state[j] == PV_ACTIVE or prov.state[j] == PV_SICK):
                alone = False
        if alone:
            for i in range(zr.first_patient, zr.next_free):
                if pat.practice[i] == k and pat.situation[i] < DECEASED:
                    pat.usual_gp[i] = best
    return np.float64(prov.fte[best])


@njit(cache=True, _nrt=False)
def recruitment(pat, prov, prac, zones, accs, p, z, day):
    """Recruitment answers vacancies, per discipline: the vacant FTE (the establishment, i.e.
    the initial FTE, less those at work or on sick leave) is filled at vacancy / fill time per
    day (a first-order lag), within the labour market's yearly limit, in fractional FTE (a post
    of 0.1 FTE is refilled as 0.1 FTE). The limit is a yearly quota: ``market_used`` counts the
    FTE hired, running down at the quota's daily rate, and a hire must fit in a year's quota (or
    wait for ``market_used`` to reach zero when one person is more than a year's quota), so a
    small zone can fill a single vacancy as fast as a large one. Deterministic: no draw."""
    zr = zones[z]
    acc = accs[z]
    for d in range(N_DISCIPLINES):
        target = p.initial_fte[d]
        if d == GP:
            target = gp_establishment(zones, p, z)
            quota = p.gp_recruit_fte_per_day  # FTE per day
            fill = p.gp_vacancy_fill_days
        else:
            quota = p.recruit_share_per_day * target
            fill = p.vacancy_fill_days
        zr.market_used[d] = max(0.0, zr.market_used[d] - quota)
        if target <= 0.0:
            zr.recruit_budget[d] = 0.0
            continue
        current = 0.0
        for j in range(zr.first_provider, zr.end_provider):
            if prov.discipline[j] == d and (prov.state[j] == PV_ACTIVE or prov.state[j] == PV_SICK):
                current += np.float64(prov.fte[j])
        vacancy = target - current
        if vacancy < MIN_VACANCY_FTE:
            zr.recruit_budget[d] = 0.0
            continue
        zr.recruit_budget[d] = min(1.0, zr.recruit_budget[d] + vacancy / fill)
        year = quota * DAYS_PER_YEAR
        while vacancy >= MIN_VACANCY_FTE:
            size = min(1.0, vacancy)
            if zr.recruit_budget[d] < size - 1e-12:
                break
            if zr.market_used[d] + size > max(year, size) + 1e-12:
                break  # the labour market has no one this year yet
            got = _recruit(pat, prov, prac, zones, p, z, d, day, size)
            if got <= 0.0:
                break  # no free slot: the offer waits
            zr.recruit_budget[d] = max(0.0, zr.recruit_budget[d] - got)
            zr.market_used[d] += got
            acc.recruited_fte[d] += got
            vacancy -= got


@njit(cache=True, _nrt=False)
def workforce(pat, prov, prac, gpq, zones, accs, p, z, day, key, work):
    """Utilisation, strain, sick leave, departures and recruitment of zone z's providers."""
    zr = zones[z]
    acc = accs[z]
    util = work[5]  # scratch (at least N_DISCIPLINES long)
    for d in range(N_DISCIPLINES):
        util[d] = 0.0
    for d in range(N_DISCIPLINES):
        cap = zr.capacity_hours[d]
        dem = zr.demand_hours[d]
        if d == GP:
            # Booked in gatekeeper, per practice, in contact hours.
            zr.served_fraction[d] = 1.0
            continue
        acc.demand_hours[d] += dem
        acc.capacity_hours[d] += cap
        worked = min(dem, cap * (1.0 + p.max_overtime))
        acc.worked_hours[d] += worked
        acc.overtime_hours[d] += max(0.0, worked - cap)
        if cap > 0.0:
            util[d] = dem / cap
            zr.served_fraction[d] = min(1.0, cap * (1.0 + p.max_overtime) / dem) if dem > 0 else 1.0
        else:
            util[d] = 0.0
            zr.served_fraction[d] = 0.0
    acc.demand_hours[GP] += zr.demand_hours[GP]
    span = max(1e-9, p.strain_full - p.comfortable)
    for j in range(zr.first_provider, zr.end_provider):
        s = prov.state[j]
        if s == PV_VACANT or s == PV_LEFT:
            continue
        d = prov.discipline[j]
        fte = np.float64(prov.fte[j])
        acc.fte_days[d] += fte
        if d == CASE_MANAGER:
            acc.cm_fte_days += fte
        elif d >= 6:
            acc.pooled_fte_days += fte
        strain = np.float64(prov.strain[j])
        # Departure first, with its own draw (at work or on sick leave alike), so that who
        # leaves when does not depend on sick leave: common random numbers hold for years.
        excess = p.attrition_per_day * p.attrition_slope * strain * strain
        if d == GP:
            p_leave = p.gp_retirement_per_day + excess
        else:
            p_leave = p.attrition_per_day + excess
        if uniform(key, j, day, PURPOSE_PROVIDER_LEAVE) < p_leave:
            prov.state[j] = PV_LEFT
            acc.attrition_fte[d] += fte
            if d == GP:
                gp_departs(pat, prov, prac, gpq, zones, accs, p, z, j, day)
            continue
        if s == PV_SICK:
            acc.sick_leave_days[d] += fte
            prov.sick_days[j] += 1.0
            if day >= prov.until[j]:
                prov.state[j] = PV_ACTIVE
            continue
        if d == GP:
            daily = fte * p.gp_contacts_per_fte_day * p.session_hours[GP]
            u = np.float64(prov.booked_hours[j]) / daily if daily > 0 else 0.0
            prov.booked_hours[j] = 0.0
        elif d == CASE_MANAGER:
            held = caseload_capacity(p.caseload_cap, fte, p.cm_hours_caseload)
            u = prov.caseload[j] / max(1e-9, held)
        else:
            u = util[d]
        ema0 = np.float64(prov.utilisation_ema[j])
        ema = ema0 + p.ema_alpha * (u - ema0)
        prov.utilisation_ema[j] = np.float32(ema)
        # Strain relaxes towards the level the load sustains: zero up to the comfortable
        # utilisation (normal load), one at strain_full; an equilibrium at every load.
        eq = min(1.0, max(0.0, (ema - p.comfortable) / span))
        if eq > strain:
            strain += p.strain_rise * (eq - strain)
        else:
            strain += p.strain_recovery * (eq - strain)
        strain = min(1.0, max(0.0, strain))
        prov.strain[j] = np.float32(strain)
        if strain > p.strained_threshold:
            acc.strained_fte_days[d] += fte
        p_sick = p.sick_per_day * (1.0 + p.sick_slope * strain)
        if uniform(key, j, day, PURPOSE_PROVIDER) < p_sick:
            prov.state[j] = PV_SICK
            dur = exponential(key, j, day, PURPOSE_PROVIDER_DURATION, p.sick_days)
            prov.until[j] = day16(day + 1 + np.int64(dur))
    recruitment(pat, prov, prac, zones, accs, p, z, day)
    count_without_gp(prov, prac, zones, accs, z)
