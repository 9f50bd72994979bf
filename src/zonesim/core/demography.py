"""Process 1, demography: mortality, renewal so the population follows the scenario, migration
by age so the age pyramid follows it too (demography by design), need that can improve, and the
monthly recount of the zone's aggregates (birthdays move people across age 65).

The scenario states the trajectory: the initial age pyramid, with its 65+ and under-65 parts
rescaled along a straight path from ``share_65plus_start`` to ``share_65plus_end`` (equal:
stationary). Once a month (:func:`migration`) each 5-year band is compared with its target:
inhabitants of a band above it move out (stable patients, drawn at random), and the bands
below it are what entrants fill (band 0 by births, the others by people moving in); deaths add
to their band's shortfall as they happen."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import (
    DAYS_65,
    day16,
    gets_care_plan,
    group_index,
    limited_literacy_probabilities,
    refresh_utility,
)
from .hospital import REQ_LEAVE, REQ_WITHDRAW, file_request
from .state import (
    AGE_BAND_DAYS,
    CG_ACTIVE,
    CG_DECEASED,
    DAYS_PER_YEAR,
    DECEASED,
    F_CARE_PLAN,
    F_CM_WAITING,
    F_EPISODE_LISTED,
    F_GP_WAITING,
    F_SPEC_WAITING,
    F_UNRESOLVED,
    N_AGE_BANDS,
    N_GROUPS,
    N_PROPENSITY,
    PV_ACTIVE,
    STABLE,
)
from .streams import PURPOSE_CARE_PLAN, uniform

# Random-stream purposes of this process, one per decision (their codes date from when the core
# listed them in core/streams.py; core/parts.py checks every code is used once).
PURPOSE_NEED_REGRESSION = 30  # need improves by one level (monthly)
PURPOSE_EMIGRATION = 29  # which inhabitant of an over-full age band moves out (zone-level probes)

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
ENTRY_SLOT = 2000  # where the r-th entrant of the day lands (keyed by zone and rank, not slot)
ENTRY_BAND = 2001  # the age band of the r-th entrant of the day (keyed by zone and rank)
ENTRY_PROBES = 256  # random probes for a free slot before scanning on from the last one
PURPOSES = {
    "need_regression": PURPOSE_NEED_REGRESSION,
    "emigration": PURPOSE_EMIGRATION,
    # this process's own random-stream purposes (checked unique: core/parts.py)
    "entrant_age": ENTRANT_AGE,
    "entrant_ses": ENTRANT_SES,
    "entrant_literacy": ENTRANT_LITERACY,
    "entrant_propensity": ENTRANT_PROPENSITY,
    "entrant_need1": ENTRANT_NEED1,
    "entrant_need2": ENTRANT_NEED2,
    "entrant_need3": ENTRANT_NEED3,
    "entrant_caregiver": ENTRANT_CAREGIVER,
    **{f"entrant_donor{t}": ENTRANT_DONOR + t for t in range(8)},
    "entry_slot": ENTRY_SLOT,
    "entry_band": ENTRY_BAND,
}


# Parameters of this process (core/parts.py: fields of the parameter record, each compiled
# from the configuration and the zone's policy; the kernels read ``p.<name>``).
def _limited_p(ses):
    """P(limited literacy | SES ``ses``) for entrants: the population's share and odds ratio."""

    def compile_(config, policy):
        dem = config.parameters.demography
        return limited_literacy_probabilities(
            dem.limited_literacy_share,
            dem.preferential_ses_share,
            dem.limited_literacy_odds_ratio_preferential,
        )[ses]

    return compile_


def _regression(config, policy):
    """Need regression is drawn once a month (:func:`migration`): monthly probabilities, need
    band x (1->0, 2->1, 3->2)."""
    need = config.parameters.need
    month = RECOUNT_EVERY / DAYS_PER_YEAR
    rates = (need.regression_1_0, need.regression_2_1, need.regression_3_2)
    return np.stack([-np.expm1(-np.asarray(r) * month) for r in rates], axis=1)


PARAMS = (
    ("limited_p_standard", np.float64, None, _limited_p(0)),
    ("limited_p_preferential", np.float64, None, _limited_p(1)),
    ("regression", np.float64, (5, 3), _regression),
    ("share65_start", np.float64, None, lambda config, policy: config.scenario.share_65plus_start),
    ("share65_end", np.float64, None, lambda config, policy: config.scenario.share_65plus_end),
    (
        "horizon_days",
        np.float64,
        None,
        lambda config, policy: max(config.scenario.years * DAYS_PER_YEAR, 1.0),
    ),
    (
        "growth_per_day",
        np.float64,
        None,
        lambda config, policy: np.log1p(config.scenario.population_growth_per_year) / DAYS_PER_YEAR,
    ),
    (
        "preferential_share",
        np.float64,
        None,
        lambda config, policy: config.parameters.demography.preferential_ses_share,
    ),
    # entrants: chronic, complex|chronic, v.high|complex
    (
        "prevalence",
        np.float64,
        (5, 3),
        lambda config, policy: np.stack(
            [
                config.parameters.need.prevalence_chronic,
                config.parameters.need.prevalence_complex_given_chronic,
                config.parameters.need.prevalence_very_high_given_complex,
            ],
            axis=1,
        ),
    ),
)

# What demography counts (core/parts.py): deaths (each counted in ``die``, whichever process
# ends the life), entrants and leavers.
ACCUMULATORS = (
    ("deaths", np.float64, (N_GROUPS,)),
    ("entrants", np.float64, None),
    ("entrants_skipped", np.float64, None),  # no free slot left (the model warns)
    ("emigrants", np.float64, None),
    ("need_regressions", np.float64, None),
)


RECOUNT_EVERY = 30  # days between exact recounts of the zone aggregates (core.day runs them)


@njit(cache=True, _nrt=False, inline="always")
def counted_65plus(day, birth_day):
    """Whether a patient born on ``birth_day`` is in the zone's ``alive_65plus`` on ``day``: the
    count is exact at each recount (every RECOUNT_EVERY days) and follows deaths and entrants in
    between, so a patient counts by its age at the last recount (one who turns 65 since is
    counted from the next one). Deaths and entrants use this, so the count never drifts below
    the truth (it went negative in a zone with no one aged 65+ at the start)."""
    last_recount = day - day % RECOUNT_EVERY
    return last_recount - birth_day >= DAYS_65


@njit(cache=True, _nrt=False)
def _leave_aggregates(pat, zones, z, i, day):
    """Patient i leaves the living population of zone z (death or emigration): out of every zone
    aggregate, utility 0, its slot marked free (DECEASED); returns its equity group."""
    zr = zones[z]
    g = group_index(pat, i)
    zr.alive -= 1
    zr.alive_group[g] -= 1
    zr.need_count[pat.need[i]] -= 1
    if counted_65plus(day, np.int64(pat.birth_day[i])):
        zr.alive_65plus -= 1
    zr.utility_sum[g] -= np.float64(pat.utility[i])
    pat.utility[i] = 0.0
    pat.situation[i] = DECEASED
    return g


@njit(cache=True, _nrt=False)
def die(pat, cg, prov, prac, gpq, zones, accs, episodes, cmq, req, p, z, i, day):
    """Patient i dies today: remove it from every zone aggregate."""
    zr = zones[z]
    g = _leave_aggregates(pat, zones, z, i, day)
    accs[z].deaths[g] += 1.0
    # Demography by design: the death leaves a gap in its age band for an entrant to fill.
    zr.band_deficit[min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1)] += (
        1.0
    )
    cm = pat.case_manager[i]
    if cm >= 0:
        prov.caseload[cm] -= 1
        pat.case_manager[i] = -1
    prac.list_size[pat.practice[i]] -= 1
    _forget(pat, cg, prac, gpq, zones, accs, episodes, cmq, req, z, i)


@njit(cache=True, _nrt=False)
def _forget(pat, cg, prac, gpq, zones, accs, episodes, cmq, req, z, i):
    """Remove every reference to patient i (queues, lists, caregiver), so that its slot can be
    reused by an entrant without anyone mistaking the newcomer for the deceased."""
    fl = pat.flags[i]
    if fl & F_GP_WAITING:
        accs[z].gp_withdrawn += 1.0  # the routine GP request ends with the patient
        k = pat.practice[i]
        mask = prac.queue_cap[k] - 1
        for t in range(prac.queue_len[k]):
            pos = prac.queue_start[k] + ((prac.queue_head[k] + t) & mask)
            if gpq.pid[pos] == i:
                gpq.pid[pos] = -1
    if fl & F_SPEC_WAITING:
        file_request(zones, req, z, i, REQ_WITHDRAW)  # off the shared specialist list
    if fl & F_EPISODE_LISTED:
        zr = zones[z]
        for t in range(zr.episode_count):
            if episodes[z, t] == i:
                zr.episode_count -= 1
                episodes[z, t] = episodes[z, zr.episode_count]
                break
    if fl & F_CM_WAITING:
        zr = zones[z]
        for t in range(zr.cm_queue_len):
            if cmq.pid[z, t] == i:
                zr.cm_queue_len -= 1
                cmq.pid[z, t] = cmq.pid[z, zr.cm_queue_len]
                cmq.day[z, t] = cmq.day[z, zr.cm_queue_len]
                break
    file_request(zones, req, z, i, REQ_LEAVE)  # off the shared hospital list
    c = pat.caregiver[i]
    if c >= 0:
        cg.state[c] = CG_DECEASED
        cg.patient[c] = -1
        pat.caregiver[i] = -1
    pat.flags[i] = 0


@njit(cache=True, _nrt=False)
def _entry_slot(pat, zones, z, day, key, rank):
    """The slot of zone z where today's ``rank``-th entrant lands, or -1 if none is free.

    A patient's draws are keyed by its slot, so two paired runs (same seed, two policies) keep
    their entrants paired only if the same entrant lands in the same slot. Filling slots in
    order (the next free one) would shift every later entrant by one as soon as the runs differ
    by one death. Instead the entrant probes slots at random, keyed by (zone, rank today, try)
    on the day: it takes the first never-used (EMPTY) or vacated (DECEASED) slot it finds, which
    is the same slot in both runs unless that very slot is taken in one of them."""
    zr = zones[z]
    lo = zr.first_patient
    span = zr.end_patient - lo
    if span <= 0:
        return -1
    c = lo
    for t in range(ENTRY_PROBES):
        entity = (np.int64(z) * 65536 + rank) * 1024 + t
        c = lo + np.int64(uniform(key, entity, day, ENTRY_SLOT) * span)
        if pat.situation[c] >= DECEASED:
            return c
    for t in range(span):  # few free slots left: the first free one after the last probe
        j = lo + (c - lo + t) % span
        if pat.situation[j] >= DECEASED:
            return j
    return -1


@njit(cache=True, _nrt=False)
def _entry_band(zones, z, day, key, rank):
    """The age band of today's ``rank``-th entrant: a band short of its target, drawn in
    proportion to its shortfall (demography by design: births fill the first band, migrants the
    others); born today when none is short. Drawn (keyed by zone and rank) rather than taking
    the band short the most: with one death more in one of two paired runs, a greedy choice
    would reorder every later entrant's band, a draw moves only the entrants near a cut-point."""
    zr = zones[z]
    total = 0.0
    for b in range(N_AGE_BANDS):
        total += max(zr.band_deficit[b], 0.0)
    if total <= 0.0:
        return 0
    v = uniform(key, np.int64(z) * 65536 + rank, day, ENTRY_BAND) * total
    last = 0
    for b in range(N_AGE_BANDS):
        w = max(zr.band_deficit[b], 0.0)
        if w > 0.0:
            last = b
            v -= w
            if v < 0.0:
                return b
    return last


@njit(cache=True, _nrt=False)
def _reset_slot(pat, i):
    """Clear a reused slot's per-person fields (counters start afresh for the newcomer)."""
    pat.caregiver[i] = -1
    pat.case_manager[i] = -1
    pat.cm_until[i] = NEVER16
    pat.last_unmet_day[i] = NEVER16
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
    pat.care_gaps[i] = 0


@njit(cache=True, _nrt=False)
def add_caregiver(pat, cg, zones, accs, p, z, i, day):
    """Give patient i a new informal caregiver (a free caregiver slot of its zone: a fresh one,
    else the first slot whose caregiver has gone, which nothing refers to any more)."""
    zr = zones[z]
    c = zr.next_free_caregiver
    if c < zr.end_caregiver:
        zr.next_free_caregiver += 1
    else:
        c = zr.first_caregiver
        while c < zr.end_caregiver and cg.state[c] != CG_DECEASED:
            c += 1
        if c >= zr.end_caregiver:  # every slot holds a living caregiver
            accs[z].list_overflow += 1.0
            return
    cg.patient[c] = i
    cg.burden[c] = 0.2
    cg.state[c] = CG_ACTIVE
    cg.until[c] = day16(day)
    pat.caregiver[i] = c


@njit(cache=True, _nrt=False)
def renewal(pat, cg, prov, prac, zones, accs, p, z, day, key):
    """Entrants (births, immigration) so the population follows the scenario's path: size grows
    at the scenario's rate and the 65+ share follows a straight line from start to end."""
    zr = zones[z]
    zr.population_target *= np.exp(p.growth_per_day)
    missing = np.int64(zr.population_target + 0.5) - zr.alive
    if missing <= 0:
        return
    for rank in range(missing):
        i = _entry_slot(pat, zones, z, day, key, rank)
        if i < 0:
            accs[z].entrants_skipped += 1.0
            continue
        if pat.situation[i] == DECEASED:
            _reset_slot(pat, i)
        if i >= zr.next_free:  # the used range grows to cover the slot (EMPTY ones are skipped)
            zr.next_free = i + 1
        band = _entry_band(zones, z, day, key, rank)
        zr.band_deficit[band] -= 1.0
        if band == 0:  # born today
            age_days = np.int64(0)
        else:  # moving in, at an age within the band
            age_days = np.int64((band + uniform(key, i, day, ENTRANT_AGE)) * AGE_BAND_DAYS)
        pat.birth_day[i] = np.int32(day - age_days)
        ses = 1 if uniform(key, i, day, ENTRANT_SES) < p.preferential_share else 0
        plim = p.limited_p_preferential if ses else p.limited_p_standard
        lit = 1 if uniform(key, i, day, ENTRANT_LITERACY) < plim else 0
        pat.ses[i] = ses
        pat.literacy[i] = lit
        u = uniform(key, i, day, ENTRANT_PROPENSITY)
        pat.propensity[i] = np.uint8(min(int(u * N_PROPENSITY), N_PROPENSITY - 1))
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
        gp = prac.gp_start[k]
        for s in range(prac.gp_slots[k]):
            if prov.state[prac.gp_start[k] + s] == PV_ACTIVE:
                gp = prac.gp_start[k] + s
                break
        pat.usual_gp[i] = gp
        prac.list_size[k] += 1
        pat.situation[i] = STABLE
        pat.flags[i] = 0
        if gets_care_plan(need, uniform(key, i, 0, PURPOSE_CARE_PLAN), p.care_plan_share):
            pat.flags[i] = F_CARE_PLAN
        pat.utility[i] = 0.0
        g = group_index(pat, i)
        zr.alive += 1
        zr.alive_group[g] += 1
        zr.need_count[need] += 1
        if counted_65plus(day, np.int64(pat.birth_day[i])):
            zr.alive_65plus += 1
        refresh_utility(pat, zones, p, z, i)
        if need >= 2 and uniform(key, i, day, ENTRANT_CAREGIVER) < p.caregiver_share:
            add_caregiver(pat, cg, zones, accs, p, z, i, day)
        accs[z].entrants += 1.0


@njit(cache=True, _nrt=False)
def recount(pat, zones, p, z, day):
    """Recompute the zone's aggregates from the arrays (monthly: birthdays, float drift)."""
    zr = zones[z]
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


# Flags of a patient in the middle of something (a queue, a list, an episode): not a mover.
_BUSY = F_GP_WAITING | F_SPEC_WAITING | F_UNRESOLVED | F_CM_WAITING | F_EPISODE_LISTED
EMIGRATION_TRIES = 400  # random probes per emigrant before the band is left as it is
FIRST_65PLUS_BAND = 13  # 5-year band 13 starts at age 65


@njit(cache=True, _nrt=False)
def _emigrate(pat, cg, prac, zones, accs, z, i, day):
    """Patient i moves out of the zone: it leaves every aggregate, as at death (no death)."""
    _leave_aggregates(
        pat, zones, z, i, day
    )  # the slot is free for an entrant (emigrants counted apart)
    prac.list_size[pat.practice[i]] -= 1
    c = pat.caregiver[i]
    if c >= 0:
        cg.state[c] = CG_DECEASED
        cg.patient[c] = -1
        pat.caregiver[i] = -1
    pat.flags[i] = 0
    accs[z].emigrants += 1.0


@njit(cache=True, _nrt=False)
def migration(pat, cg, prac, zones, accs, p, z, day, key):
    """Monthly (on recount days): need regression, then migration by age towards the
    scenario's age pyramid; leaves each band's shortfall in ``band_deficit`` for renewal."""
    zr = zones[z]
    for b in range(N_AGE_BANDS):
        zr.band_count[b] = 0
    for i in range(zr.first_patient, zr.next_free):
        if pat.situation[i] >= DECEASED:
            continue
        band = min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1)
        zr.band_count[band] += 1
        need = pat.need[i]
        if need >= 1:
            q = p.regression[p.need_band_of_age_band[band], need - 1]
            if q > 0.0 and uniform(key, i, day, PURPOSE_NEED_REGRESSION) < q:
                zr.need_count[need] -= 1
                zr.need_count[need - 1] += 1
                pat.need[i] = need - 1
                accs[z].need_regressions += 1.0
                refresh_utility(pat, zones, p, z, i)
    # Targets: the initial pyramid, its 65+ part following the scenario's share.
    frac = min(day / p.horizon_days, 1.0)
    share65 = p.share65_start + (p.share65_end - p.share65_start) * frac
    s65 = p.share65_initial * share65 / p.share65_start if p.share65_start > 0 else share65
    s65 = min(max(s65, 0.0), 1.0)
    old = s65 / p.share65_initial if p.share65_initial > 0 else 0.0
    young = (1.0 - s65) / (1.0 - p.share65_initial) if p.share65_initial < 1 else 0.0
    n = zr.population_target
    span = zr.next_free - zr.first_patient
    for b in range(N_AGE_BANDS):
        scale = old if b >= FIRST_65PLUS_BAND else young
        target = n * p.band_share0[b] * scale
        excess = np.int64(zr.band_count[b] - target)
        tries = 0
        while excess >= 1 and span > 0 and tries < EMIGRATION_TRIES * excess:
            tries += 1
            zr.migration_counter += 1
            # The probe is keyed by (zone, band, try) on the day, not by a running count: two
            # runs that accepted a different inhabitant once still probe the same slots after.
            entity = (np.int64(z) * N_AGE_BANDS + b) * 1048576 + tries
            i = zr.first_patient + np.int64(uniform(key, entity, day, PURPOSE_EMIGRATION) * span)
            if pat.situation[i] != STABLE or pat.flags[i] & _BUSY or pat.case_manager[i] >= 0:
                continue
            if min((day - np.int64(pat.birth_day[i])) // AGE_BAND_DAYS, N_AGE_BANDS - 1) != b:
                continue
            _emigrate(pat, cg, prac, zones, accs, z, i, day)
            zr.band_count[b] -= 1
            excess -= 1
        zr.band_deficit[b] = target - zr.band_count[b]
