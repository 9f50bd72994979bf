"""Build the initial state of a zone or region: patients, caregivers, practices and providers.

:func:`build_state` turns a :class:`~zonesim.config.Config`, one policy per zone and a seed into
the structure-of-arrays :class:`~zonesim.core.state.State` the kernels advance, plus a
:class:`Layout` with the names and structure the arrays do not hold (zone and municipality names,
the policies, the seed, the horizon the free slots were sized for).

Memory layout of a region of ``Z`` zones (each range contiguous, zone after zone):

* patients of zone ``z``: ``zone[z].first_patient .. end_patient``; the first ``N_z`` slots are
  the initial inhabitants (grouped by municipality), the rest are EMPTY slots for entrants
  (``next_free = first_patient + N_z``), ``ceil(N_z * (3 * turnover + max(0, growth) *
  max(years, 1))) + 128`` of them, where ``turnover = max(0.015, 1.3 * expected yearly death
  rate)`` (:func:`turnover_per_year`; entrants reuse the slots of the dead, so without growth
  the number does not depend on the horizon, and neither do a seed's first years). Free slots
  carry their zone's first practice and municipality, so that ``practice -> zone`` of any slot
  is its own zone.
* caregivers: the initial ones, then as many free slots again plus 64.
* practices: ``first_practice .. end_practice``, in municipality order.
* providers: ``first_provider .. end_provider``: first every practice's GP slots (its GPs, then one
  VACANT spare for recruitment), then nurses (practice-attached, zone-level, VACANT spares),
  physiotherapists, psychologists, social workers, case managers, pooled diabetes educators,
  psychiatric nurses and psychologists, each followed by its VACANT spares. The policy-dependent
  groups come last, so GP slots have the same index under every policy.

Randomness and common random numbers
------------------------------------
Each purpose draws from its own ``numpy.random.Generator(PCG64(SeedSequence([seed, z, STREAM])))``
(the ``STREAM_*`` constants below), always the same number of draws in the same order, whatever
the policy. So for one seed the patients (age, SES, literacy, need, propensity, municipality,
practice, usual GP, caregiver) and the practices' sizes are bit-identical under every policy.
Only policy levers differ, and monotonically: a practice turns multidisciplinary when its own
fixed uniform is below ``multidisciplinary_share_boost``; a patient with need >= 2 has a care
plan when its own uniform is below ``care_plan_share`` (so a larger share adds, never
reshuffles). The care-plan uniform is the kernel's counter-based draw
``uniform(seed, i, 0, PURPOSE_CARE_PLAN)`` (:mod:`zonesim.core.streams`), the very draw the
kernel uses when a patient reaches need 2 later or enters, so a patient's care-plan eligibility is
one draw for life.

Assumptions of population synthesis
-----------------------------------
The figures of MODEL.md section 6 come from the configuration (65+ share, limited literacy 29%,
chronic prevalence, GP FTE per 100,000, caregiver share). Everything else here is an assumption:

===============================  ==================================================================
item                             assumption
===============================  ==================================================================
age pyramid                      Belgian-like 5-year shape (percent): 0-4 5.5, 5-9 5.8, 10-14
                                 5.7, 15-19 5.5, 20-24 5.8, 25-29 6.3, 30-34 6.5, 35-39 6.5,
                                 40-44 6.4, 45-49 6.8, 50-54 7.1, 55-59 7.1, 60-64 6.3, 65-69
                                 5.4, 70-74 4.6, 75-79 3.3, 80-84 2.8, 85-89 1.8, 90-94 0.8,
                                 95-104 0.2; the under-65 and 65+ bands are rescaled separately
                                 so the 65+ share is ``share_65plus_start`` exactly in expectation;
                                 a table with ages (Statbel) gives each municipality its own bands
age within a band                uniform over the band's whole days; a year is 365.25 days and
                                 age 65 starts at day 23741 (the kernel's ``DAYS_65``)
need age bands                   exact age in days against ``need.age_band_edges`` (the kernel's
                                 entrants use the 5-year band's start; identical for edges that
                                 are multiples of 5, as the defaults are)
preferential SES and need        ``preferential_need_multiplier`` scales P(need >= 1) only,
                                 capped at 0.95 (as for entrants)
literacy                         P(limited | SES) solved so the odds ratio and the overall share
                                 hold (:func:`zonesim.core.params.limited_literacy_probabilities`,
                                 the same solution entrants use)
propensity                       uniform class 0..15 (the kernel maps classes to gamma quantiles)
municipality                     exact counts; inhabitants are stored grouped by municipality
GP persons                       ``ceil(F)`` GPs of 1.0 FTE for ``F = gp_fte_per_100k * N / 1e5``,
                                 the zone's last one holding the fraction; apportioned to
                                 municipalities by population (largest remainder), at least one
                                 per inhabited municipality. Tiny zones where ``ceil(F)`` is below
                                 the number of inhabited municipalities get one GP per
                                 municipality with FTE in proportion to its population. With
                                 ``F = 0`` each inhabited municipality gets one solo practice with
                                 only a VACANT GP slot (patients' ``usual_gp`` is that slot)
practice sizes                   solo 1 GP, group 3-5, multidisciplinary 4-8: the zone's GPs are
                                 split into kinds by ``practice_mix`` (largest remainder, so the
                                 GP shares hold up to one GP), each kind cut into practices as
                                 even as possible around the range's middle (count rounded, sizes
                                 spread at random); practices are packed into municipalities,
                                 largest first, each to the municipality furthest below its
                                 population share of GPs; a municipality left without a practice
                                 takes the smallest one of the municipality with the most (so a
                                 municipality's GPs follow its population up to about one
                                 practice); too few practices for the inhabited municipalities:
                                 the largest is halved until there are enough
patient -> practice, usual GP    a practice of the patient's municipality with probability in
                                 proportion to its GP FTE; a GP of that practice in proportion to
                                 FTE
practice nurses                  multidisciplinary practices get 0.5 nurse FTE per GP FTE out of
                                 ``nurse_fte_per_100k`` (scaled down if that total is exceeded);
                                 the rest are zone-level
case managers                    ``practice_attached``: round-robin over practices by list size,
                                 largest first; ``zone_pool``: practice -1
vacant spares                    one per practice (GP); ``floor(0.2 * persons) + 1`` per non-GP
                                 discipline with FTE > 0 (fte 0 until recruited)
initial provider state           active, strain 0.2, utilisation = ``comfortable_utilisation``
initial caregiver burden         Beta(2, 3.2) (mean 0.38), below the default overload threshold
                                 for most
free patient slots               entrants per year = ``max(0.015, 1.3 x`` the death rate expected
                                 of the initial population at the larger of the start / end 65+
                                 shares) plus growth; 1.3 covers deaths the estimate leaves out
                                 (disrupted situations, hospital stays, need progression: a
                                 default year in the kernel saw 1.69% deaths against 1.47%
                                 estimated)
list capacities                  specialist heap ``max(1024, 0.1 * patient slots)``; hospital
                                 ``max(256, 0.02 * slots)``; episodes per zone ``max(256, 0.03 *
                                 largest zone's slots)``; case-management queue ``max(128, 0.01
                                 * largest zone's slots)``; GP queue of a practice the smallest
                                 power of two >= ``max(64, 0.25 * list size)``
===============================  ==================================================================

The memory guard (:mod:`zonesim.memory`) refuses, up front and with this module's estimate, a
run whose memory would exceed what the machine has available now: a
:class:`~zonesim.errors.ResourceError`. The estimate (:func:`estimate_run_bytes`) is the
state's arrays (:func:`estimate_state_bytes`) plus the temporaries of building it and, with Mesa
agents, the agents (measured with tracemalloc: a headless build peaks at 172-220 bytes per
inhabitant, about 62 of them the state; agents add about 180-200).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import config as C
from . import validation as V
from .core import state as S
from .core.common import gets_care_plan
from .core.params import limited_literacy_probabilities, mortality_by_band
from .core.streams import PURPOSE_CARE_PLAN, uniforms
from .errors import ResourceError, ZonesimInputError
from .memory import available_memory_bytes, check_memory, max_state_bytes

__all__ = [
    "AGE_BAND_SHAPE",
    "Layout",
    "age_band_probabilities",
    "available_memory_bytes",
    "build_state",
    "check_memory",
    "estimate_run_bytes",
    "estimate_state_bytes",
    "expected_death_rate",
    "headroom",
    "max_state_bytes",
    "turnover_per_year",
    "zone_age_table",
]

# --- random streams: one per purpose, fixed forever (changing one changes every run) ---------
STREAM_PATIENTS = 1  # age, SES, literacy, need, propensity
STREAM_ASSIGN = 2  # practice and usual GP of each patient
STREAM_PRACTICES = 3  # practice kinds and sizes
STREAM_PRACTICE_BOOST = 4  # which practices become multidisciplinary under a boost (policy)
STREAM_CAREGIVERS = 5  # who has a caregiver, and its burden


# Age pyramid: 5-year bands 0-4 .. 90-94, and 95-104 (percent; normalised).
# fmt: off
AGE_BAND_SHAPE = np.array(
    [5.5, 5.8, 5.7, 5.5, 5.8, 6.3, 6.5, 6.5, 6.4, 6.8, 7.1, 7.1, 6.3, 5.4, 4.6, 3.3, 2.8, 1.8, 0.8,
     0.2]
)
# fmt: on
AGE_BAND_START_YEARS = np.arange(20) * 5.0
AGE_BAND_END_YEARS = np.append(AGE_BAND_START_YEARS[1:], 105.0)
FIRST_65_BAND = 13
_BAND_LO_DAYS = np.floor(AGE_BAND_START_YEARS * S.DAYS_PER_AGE_YEAR).astype(np.int64)
_BAND_HI_DAYS = np.floor(AGE_BAND_END_YEARS * S.DAYS_PER_AGE_YEAR).astype(np.int64)
DAYS_65 = int(_BAND_LO_DAYS[FIRST_65_BAND])  # 23741, the kernel's threshold

# Practice kinds: GP count ranges (inclusive).
PRACTICE_SIZES = {S.SOLO: (1, 1), S.GROUP_PRACTICE: (3, 5), S.MULTIDISCIPLINARY: (4, 8)}

ATTACHED_NURSE_FTE_PER_GP = 0.5
SPARE_SHARE = 0.2  # VACANT spare slots per non-GP discipline: floor(0.2 * persons) + 1
INITIAL_STRAIN = 0.2
BURDEN_BETA = (2.0, 3.2)

_NON_GP = (
    S.NURSE,
    S.PHYSIO,
    S.PSYCHOLOGIST,
    S.SOCIAL_WORKER,
    S.CASE_MANAGER,
    S.POOLED_DIABETES,
    S.POOLED_PSYCH_NURSE,
    S.POOLED_PSYCHOLOGIST,
)

# A rough upper bound of state bytes per patient slot beyond the patient arrays themselves
# (caregivers, GP queues, specialist / hospital / episode lists).
_EXTRA_BYTES_PER_SLOT = 16
_INDEX_LIMIT = 2**31 - 1  # patient, caregiver and provider indices are int32
_INT16_LIMIT = 2**15 - 1  # practice and municipality indices are int16


@dataclass(frozen=True, eq=False)
class Layout:
    """Names and structure the arrays do not hold.

    Municipalities are indexed globally (zone after zone, each zone's municipalities in their
    own order); ``Patients.municipality`` and ``Practices.municipality`` are such indices.
    """

    zone_names: list[str]
    policies: list[C.PolicyConfig]  # one per zone
    municipality_ids: list[str]
    municipality_names: list[str]
    municipality_zone: np.ndarray  # int16: zone of each municipality
    municipality_population: np.ndarray  # int64: initial inhabitants
    n_patients_initial: int
    seed: int
    years_planned: float

    @property
    def n_zones(self) -> int:
        return len(self.zone_names)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _rng(seed: int, zone: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zone, stream])))


def age_band_probabilities(share_65plus: float) -> np.ndarray:
    """Probabilities of the 20 age bands, the 65+ bands summing to ``share_65plus``."""
    w = AGE_BAND_SHAPE / AGE_BAND_SHAPE.sum()
    young, old = w[:FIRST_65_BAND], w[FIRST_65_BAND:]
    return np.concatenate(
        [young * (1.0 - share_65plus) / young.sum(), old * share_65plus / old.sum()]
    )


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``weights`` (largest remainder)."""
    weights = np.asarray(weights, dtype=np.float64)
    out = np.zeros(weights.shape[0], dtype=np.int64)
    s = weights.sum()
    if total <= 0 or s <= 0:
        return out
    quota = total * weights / s
    out[:] = np.floor(quota)
    left = total - int(out.sum())
    if left > 0:
        order = np.argsort(-(quota - out), kind="stable")
        out[order[:left]] += 1
    return out


def _persons(fte_total: float) -> np.ndarray:
    """FTE of the persons making up ``fte_total``: 1.0 each, the last one the fraction."""
    if fte_total <= 1e-9:
        return np.zeros(0)
    full = math.floor(fte_total + 1e-9)
    frac = fte_total - full
    out = np.ones(full)
    if frac > 1e-6:
        out = np.append(out, frac)
    return out


def _pow2_at_least(x: np.ndarray) -> np.ndarray:
    x = np.maximum(np.asarray(x, dtype=np.float64), 1.0)
    return (2 ** np.ceil(np.log2(x))).astype(np.int64)


# Bytes per inhabitant beyond the state's arrays while a run is built (temporaries of the
# synthetic population, compiled parameters) and per live agent with Mesa agents, and bytes per
# run whatever its size (the first run of a process also loads the engine): measured with
# tracemalloc (peaks of 172-220 bytes per inhabitant headless and 350-430 with agents for 2,000
# to 100,000 inhabitants; about 15 MiB for a first small run), rounded up.
BUILD_BYTES_PER_INHABITANT = 160
AGENT_BYTES_PER_INHABITANT = 300
RUN_FIXED_BYTES = 16 * 2**20


def _slots(config: C.Config, pops: list[np.ndarray], years: float) -> np.ndarray:
    n_init = np.array([int(p.sum()) for p in pops], dtype=np.int64)
    growth = config.scenario.population_growth_per_year
    turnover = turnover_per_year(config)
    return np.array([n + headroom(int(n), growth, years, turnover) for n in n_init], dtype=np.int64)


def _run_bytes(n_inhabitants: int, n_slots: int, agents: bool, n_zones: int = 1) -> int:
    # A region runs its zones in parallel with no scratch beyond the state (the zones' requests
    # on the shared lists are part of it) and a few rows per worker: nothing per slot.
    per = BUILD_BYTES_PER_INHABITANT + (AGENT_BYTES_PER_INHABITANT if agents else 0)
    return RUN_FIXED_BYTES + estimate_state_bytes(n_slots) + int(n_inhabitants) * per


def estimate_run_bytes(
    config: C.Config,
    *,
    years: float | None = None,
    zones: list | None = None,
    agents: bool = False,
) -> tuple[int, str]:
    """Estimated peak bytes of one run of ``config`` laid out for ``years`` (as
    :func:`build_state` would size it), and a phrase naming its size for messages."""
    zones, _, _, years, pops, default_zone = _check_inputs(
        config, C.PolicyConfig(), 0, zones, years
    )
    slots = _slots(config, pops, years)
    n = sum(int(p.sum()) for p in pops)
    return _run_bytes(n, int(slots.sum()), agents, len(pops)), _size_phrase(
        default_zone, n, years, int(slots.sum()), agents
    )


def _size_phrase(default_zone: bool, n: int, years: float, slots: int, agents: bool) -> str:
    field = "zone.population" if default_zone else "zones"
    return f"{field}={n:,} x {round(years, 2):g} years ({slots:,} patient slots" + (
        ", with Mesa agents)" if agents else ")"
    )


def estimate_state_bytes(n_slots: int) -> int:
    """A close upper estimate of the state's bytes for ``n_slots`` patient slots in all."""
    return int(n_slots) * (S.slot_bytes() + _EXTRA_BYTES_PER_SLOT)


TURNOVER_FLOOR = 0.015  # entrants per inhabitant and year, at least
TURNOVER_MARGIN = 1.3  # over the expected death rate of the initial population (the kernel's
# deaths also include disrupted situations, hospital stays and need progression)


def expected_death_rate(config: C.Config, share_65plus: float) -> float:
    """Yearly deaths per inhabitant expected of an initial population with this 65+ share.

    The kernel's Gompertz hazards per 5-year band (:func:`zonesim.core.params.mortality_by_band`)
    times the expected need and SES multipliers of each band under the initial prevalences.
    """
    par = config.parameters
    dem, need = par.demography, par.need
    h = mortality_by_band(dem.mortality_gompertz_a, dem.mortality_gompertz_b) * S.DAYS_PER_YEAR
    h = np.append(h[:19], 0.5 * (h[19] + h[20]))  # our last band spans 95-104
    nb = np.searchsorted(np.asarray(need.age_band_edges), AGE_BAND_START_YEARS, side="right")
    mult_need = np.asarray(dem.mortality_need_multiplier)

    def need_multiplier(prev_mult: float) -> np.ndarray:
        c = np.minimum(0.95, np.asarray(need.prevalence_chronic)[nb] * prev_mult)
        x = np.asarray(need.prevalence_complex_given_chronic)[nb]
        v = np.asarray(need.prevalence_very_high_given_complex)[nb]
        p = np.stack([1 - c, c * (1 - x), c * x * (1 - v), c * x * v])
        return (mult_need[:, None] * p).sum(axis=0)

    pref = dem.preferential_ses_share
    mult = (1 - pref) * need_multiplier(1.0) + pref * dem.mortality_preferential_multiplier * (
        need_multiplier(need.preferential_need_multiplier)
    )
    return float((age_band_probabilities(share_65plus) * h * mult).sum())


def turnover_per_year(config: C.Config) -> float:
    """Entrants per inhabitant and year the free slots are sized for (without growth):
    ``max(0.015, 1.3 * expected death rate)`` at the larger of the start and end 65+ shares."""
    sc = config.scenario
    rate = max(expected_death_rate(config, s) for s in (sc.share_65plus_start, sc.share_65plus_end))
    return max(TURNOVER_FLOOR, TURNOVER_MARGIN * rate)


# Years of entrant turnover the free slots are sized for, whatever the horizon. Entrants reuse
# the slots of the dead and the emigrated, so a population that does not grow needs only a
# margin; and as an entrant's slot is drawn over all of its zone's slots (core/demography.py
# ``_entry_slot``), free slots sized by the horizon would make a seed's first years differ with
# the length of the run. A growing population adds its growth over the horizon.
HEADROOM_YEARS = 3.0


def headroom(n: int, growth: float, years: float, turnover: float = TURNOVER_FLOOR) -> int:
    """Free patient slots of a zone of ``n`` inhabitants: ``HEADROOM_YEARS`` of turnover (the
    same for every horizon), plus the growth over ``years``."""
    return math.ceil(n * (turnover * HEADROOM_YEARS + max(0.0, growth) * max(years, 1.0))) + 128


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def _check_inputs(config, policies, seed, zones, years):
    if not isinstance(config, C.Config):
        raise ZonesimInputError(
            "expected a zonesim.config.Config", source="<argument>", field="config", value=config
        )
    seed = V.check_int(
        seed, field="seed", lo=0, hi=2**64 - 1, expected="expected an integer seed in [0, 2**64)"
    )
    default_zone = zones is None
    if default_zone:
        from . import geography

        zones = [geography.zone_of_config(config)]
    zones = list(zones)
    if not zones:
        raise ZonesimInputError(
            "expected at least one zone", source="<argument>", field="zones", value=zones
        )
    if isinstance(policies, C.PolicyConfig):
        policies = [policies] * len(zones)
    policies = list(policies)
    if len(policies) != len(zones) or not all(isinstance(p, C.PolicyConfig) for p in policies):
        raise ZonesimInputError(
            f"expected one PolicyConfig per zone ({len(zones)})",
            source="<argument>",
            field="policies",
            value=f"{len(policies)} items",
        )
    if years is None:
        years = config.scenario.years
    years = V.check_number(
        years, field="years", positive=True, expected="expected a positive number of years"
    )
    pops = []
    for z, zone in enumerate(zones):
        where = "zone.population" if default_zone else f"zones[{z}].population"
        munis = list(zone.municipalities)
        p = []
        for m in munis:
            v = V.check_int(
                m.population,
                field=f"{where} ({zone.name}: {m.id})",
                source=None,
                lo=0,
                expected="expected a whole number of inhabitants >= 0",
            )
            p.append(v)
        if sum(p) <= 0:
            raise ZonesimInputError(
                f"zone {zone.name!r} has no inhabitants; expected at least one",
                field=where,
                value=sum(p),
            )
        pops.append(np.array(p, dtype=np.int64))
    return zones, policies, int(seed), float(years), pops, default_zone


def _check_age_share(config: C.Config, zone: str, ages: np.ndarray) -> None:
    """Warn when a table's 65+ share differs from the scenario's start of the renewal path
    (entrants keep the zone on the scenario's path, which would then pull the share)."""
    total = int(ages.sum())
    share = float(ages[:, FIRST_65_BAND:].sum()) / max(total, 1)
    start = config.scenario.share_65plus_start
    if abs(share - start) > 0.02:
        import warnings

        warnings.warn(
            f"zone {zone}: the municipality table's ages give a 65+ share of {share:.3f}, but "
            f"scenario.share_65plus_start is {start:g} (entrants follow the scenario's path "
            f"from there); set scenario.share_65plus_start = {share:.3f} to start from the table",
            UserWarning,
            stacklevel=4,
        )


# ---------------------------------------------------------------------------------------------
# Per-zone synthesis (pure numpy; each returns arrays local to the zone)
# ---------------------------------------------------------------------------------------------


def zone_age_table(zone: Any) -> np.ndarray | None:
    """``(municipalities, 20)`` inhabitants per five-year age band when every municipality of
    ``zone`` carries its ages (a table with ages, e.g. Statbel's), else None."""
    rows = [getattr(m, "ages", None) for m in zone.municipalities]
    if not rows or any(r is None for r in rows):
        return None
    return np.array(rows, dtype=np.int64)


def _synth_patients(
    config: C.Config, seed: int, z: int, pops: np.ndarray, ages: np.ndarray | None = None
) -> dict[str, Any]:
    """Attributes of the zone's N inhabitants (policy-independent).

    Ages follow each municipality's own age bands where ``ages`` is given (a table with ages),
    else the synthetic pyramid with the scenario's starting 65+ share.
    """
    par = config.parameters
    dem, need_p = par.demography, par.need
    n = int(pops.sum())
    u = _rng(seed, z, STREAM_PATIENTS).random((8, n))
    # age
    if ages is None:
        probs = age_band_probabilities(config.scenario.share_65plus_start)
        cdf = np.cumsum(probs)
        cdf[-1] = 1.0
        band = np.searchsorted(cdf, u[0], side="right")
    else:  # patients are laid out municipality by municipality (see "municipality" below)
        band = np.zeros(n, dtype=np.int64)
        start = 0
        for m, count in enumerate(pops.tolist()):
            if count > 0:
                cdf = np.cumsum(ages[m]) / ages[m].sum()
                cdf[-1] = 1.0
                band[start : start + count] = np.searchsorted(
                    cdf, u[0][start : start + count], side="right"
                )
            start += count
    band = np.minimum(band, len(AGE_BAND_SHAPE) - 1)
    lo, hi = _BAND_LO_DAYS[band], _BAND_HI_DAYS[band]
    age_days = lo + np.floor(u[1] * (hi - lo)).astype(np.int64)
    # SES and literacy
    ses = (u[2] < dem.preferential_ses_share).astype(np.uint8)
    p0, p1 = limited_literacy_probabilities(
        dem.limited_literacy_share,
        dem.preferential_ses_share,
        dem.limited_literacy_odds_ratio_preferential,
    )
    lit = (u[3] < np.where(ses == 1, p1, p0)).astype(np.uint8)
    # need
    edge_days = np.floor(np.asarray(need_p.age_band_edges) * S.DAYS_PER_AGE_YEAR).astype(np.int64)
    nb = np.searchsorted(edge_days, age_days, side="right")
    chronic = np.asarray(need_p.prevalence_chronic)[nb]
    chronic = np.where(
        ses == 1, np.minimum(0.95, chronic * need_p.preferential_need_multiplier), chronic
    )
    complex_ = np.asarray(need_p.prevalence_complex_given_chronic)[nb]
    very = np.asarray(need_p.prevalence_very_high_given_complex)[nb]
    n1 = u[4] < chronic
    n2 = n1 & (u[5] < complex_)
    n3 = n2 & (u[6] < very)
    need = (n1.astype(np.uint8) + n2 + n3).astype(np.uint8)
    prop = np.minimum((u[7] * S.N_PROPENSITY).astype(np.int64), S.N_PROPENSITY - 1)
    return {
        "age_days": age_days,
        "ses": ses,
        "literacy": lit,
        "need": need,
        "propensity": prop.astype(np.uint8),
        "municipality": np.repeat(np.arange(len(pops)), pops),  # local index
    }


def _split(n_gps: int, lo: int, hi: int, rng: np.random.Generator) -> list[int]:
    """Cut ``n_gps`` GPs into practices of ``lo..hi`` GPs (fewer only if ``n_gps < lo``)."""
    if n_gps <= 0:
        return []
    k_min = math.ceil(n_gps / hi)
    k_max = max(k_min, n_gps // lo)
    mean = (lo + hi) / 2
    k = min(max(round(n_gps / mean), k_min), k_max)
    sizes = np.full(k, n_gps // k, dtype=np.int64)
    extra = rng.permutation(k)[: n_gps - int(sizes.sum())]
    sizes[extra] += 1
    return [int(x) for x in sizes]


def _synth_practices(config: C.Config, seed: int, z: int, pops: np.ndarray, n_total: int):
    """Practices of the zone (policy-independent): municipality, base kind, GP FTEs.

    GPs are split into kinds at zone level (largest remainder of ``practice_mix``), each kind
    into practices of its size range, and the practices packed into municipalities, largest
    first, each to the municipality furthest below its population's share of GPs; every
    inhabited municipality gets at least one practice.
    """
    fte_total = config.parameters.gatekeeper.gp_fte_per_100k * n_total / 1e5
    inhabited = np.flatnonzero(pops > 0)
    rng = _rng(seed, z, STREAM_PRACTICES)
    if fte_total <= 1e-9:  # no GPs at all: one solo practice (a vacant GP slot) per place
        return (
            inhabited.astype(np.int64),
            np.full(len(inhabited), S.SOLO, dtype=np.uint8),
            [np.zeros(0) for _ in inhabited],
        )
    n_gp = math.ceil(fte_total - 1e-9)
    if n_gp < len(inhabited):  # tiny zone: one GP per inhabited municipality, FTE by population
        gp_fte = fte_total * pops[inhabited] / pops.sum()
        kinds = np.full(len(inhabited), S.SOLO, dtype=np.uint8)
        return inhabited.astype(np.int64), kinds, [gp_fte[i : i + 1] for i in range(len(gp_fte))]

    per_kind = _apportion(n_gp, np.asarray(config.zone.practice_mix, dtype=np.float64))
    sizes: list[int] = []
    kinds: list[int] = []
    for kind, g in enumerate(per_kind):
        lo, hi = PRACTICE_SIZES[kind]
        cut = _split(int(g), lo, hi, rng)
        sizes += cut
        kinds += [kind] * len(cut)
    sizes_a = np.array(sizes, dtype=np.int64)
    kinds_a = np.array(kinds, dtype=np.uint8)
    # Too few practices for the inhabited municipalities: halve the largest until enough.
    while len(sizes_a) < len(inhabited):
        j = int(np.argmax(sizes_a))
        half = int(sizes_a[j]) // 2
        sizes_a = np.append(sizes_a, sizes_a[j] - half)
        kinds_a = np.append(kinds_a, kinds_a[j])
        sizes_a[j] = half
    # Pack into municipalities: largest practice first (ties in random order).
    order = rng.permutation(len(sizes_a))
    order = order[np.argsort(-sizes_a[order], kind="stable")]
    quota = n_gp * pops / pops.sum()
    assigned = np.zeros(len(pops))
    muni = np.full(len(sizes_a), -1, dtype=np.int64)
    count = np.zeros(len(pops), dtype=np.int64)
    for j in order:  # tens of practices per zone
        deficit = np.where(pops > 0, quota - assigned, -np.inf)
        m = int(np.argmax(deficit))
        muni[j] = m
        assigned[m] += sizes_a[j]
        count[m] += 1
    for m in inhabited:  # a municipality left without a practice takes the smallest of the
        if count[m] > 0:  # municipality with the most practices
            continue
        donor = int(np.argmax(count))
        cands = np.flatnonzero(muni == donor)
        j = int(cands[np.argmin(sizes_a[cands])])
        muni[j] = m
        count[donor] -= 1
        count[m] += 1
    final = np.lexsort((np.arange(len(muni)), muni))  # by municipality, then creation order
    muni, kinds_a, sizes_a = muni[final], kinds_a[final], sizes_a[final]
    gp_fte = np.ones(n_gp)
    gp_fte[-1] = fte_total - (n_gp - 1)
    bounds = np.concatenate([[0], np.cumsum(sizes_a)])
    gps = [gp_fte[bounds[k] : bounds[k + 1]] for k in range(len(sizes_a))]
    return muni, kinds_a, gps


# ---------------------------------------------------------------------------------------------
# build_state
# ---------------------------------------------------------------------------------------------


def build_state(
    config: C.Config,
    policies: C.PolicyConfig | list[C.PolicyConfig],
    seed: int,
    *,
    zones: list | None = None,
    years: float | None = None,
    agents: bool = False,
) -> tuple[S.State, Layout]:
    """The initial state of a region (one zone by default) and its :class:`Layout`.

    Parameters
    ----------
    config: scenario, zone and model parameters.
    policies: one policy for every zone, or a list with one per zone.
    seed: the run seed (an integer >= 0); the same seed gives bit-identical arrays.
    zones: the zones (objects with ``.name`` and ``.municipalities``, each with ``.id``,
        ``.name``, ``.population``); default: ``geography.zone_from_config(config.zone)``.
    years: the horizon the free slots for entrants are sized for; default
        ``config.scenario.years``.
    agents: the run will also hold Mesa agents (the memory guard counts them).

    Raises
    ------
    ZonesimInputError: an empty zone (naming ``zone.population``), a bad seed, years or policy
        list.
    ResourceError: a state above the memory guard, or beyond the index ranges of the arrays.
    """
    zones, policies, seed, years, pops, default_zone = _check_inputs(
        config, policies, seed, zones, years
    )
    par = config.parameters
    wf = par.workforce
    nz = len(zones)
    n_init = np.array([int(p.sum()) for p in pops], dtype=np.int64)
    growth = config.scenario.population_growth_per_year
    turnover = turnover_per_year(config)
    slots = np.array(
        [n + headroom(int(n), growth, years, turnover) for n in n_init], dtype=np.int64
    )
    total_slots = int(slots.sum())
    field = "zone.population" if default_zone else "zones"
    if total_slots > _INDEX_LIMIT:
        raise ResourceError(
            f"{field}: {total_slots:,} patient slots exceed the int32 index range "
            f"({_INDEX_LIMIT:,}); simulate fewer inhabitants per state"
        )
    check_memory(
        _run_bytes(int(n_init.sum()), total_slots, agents, len(n_init)),
        _size_phrase(default_zone, int(n_init.sum()), years, total_slots, agents),
    )
    n_munis = sum(len(p) for p in pops)
    if n_munis > _INT16_LIMIT:
        raise ResourceError(f"{field}: {n_munis:,} municipalities exceed the int16 index range")

    # --- per zone: patients and practices (policy-independent) -------------------------------
    synth = []
    prac_parts = []
    for z in range(nz):
        age_table = zone_age_table(zones[z])
        if age_table is not None:
            _check_age_share(config, zones[z].name, age_table)
        synth.append(_synth_patients(config, seed, z, pops[z], age_table))
        prac_parts.append(_synth_practices(config, seed, z, pops[z], int(n_init[z])))
    n_prac = np.array([len(p[0]) for p in prac_parts], dtype=np.int64)
    if int(n_prac.sum()) > _INT16_LIMIT:
        raise ResourceError(
            f"{field}: {int(n_prac.sum()):,} practices exceed the int16 index "
            "range of Patients.practice; simulate fewer inhabitants per state"
        )

    pat = S.empty_patients(total_slots)
    prac = S.empty_practices(int(n_prac.sum()))
    zrec = np.zeros(nz, S.ZONE_DTYPE)
    first_pat = np.concatenate([[0], np.cumsum(slots)[:-1]])
    first_prac = np.concatenate([[0], np.cumsum(n_prac)[:-1]])
    muni_offset = np.concatenate([[0], np.cumsum([len(p) for p in pops])[:-1]])

    prov_parts: list[dict[str, np.ndarray]] = []
    cg_parts = []
    prov_base = 0
    cg_base = 0
    for z in range(nz):
        pol = policies[z]
        sp = synth[z]
        muni_p, kind_base, gp_ftes = prac_parts[z]
        n = int(n_init[z])
        f0, fp = int(first_pat[z]), int(first_prac[z])
        kprac = int(n_prac[z])
        sl = slice(f0, f0 + n)

        # practice kinds under the policy's boost (a larger boost converts a superset)
        boost_u = _rng(seed, z, STREAM_PRACTICE_BOOST).random(kprac)
        kind = kind_base.copy()
        kind[(kind_base != S.MULTIDISCIPLINARY) & (boost_u < pol.multidisciplinary_share_boost)] = (
            S.MULTIDISCIPLINARY
        )

        # GP slots: practice k holds its GPs then one VACANT spare
        n_gps = np.array([len(g) for g in gp_ftes], dtype=np.int64)
        gp_slots = n_gps + 1
        gp_start_local = np.concatenate([[0], np.cumsum(gp_slots)[:-1]])
        n_gp_slots = int(gp_slots.sum())
        gp_fte_slots = np.zeros(n_gp_slots)
        gp_prac_slots = np.repeat(np.arange(kprac), gp_slots)
        gp_active = np.zeros(n_gp_slots, dtype=bool)
        for k in range(kprac):  # per practice (tens per zone), not per patient
            s0 = gp_start_local[k]
            gp_fte_slots[s0 : s0 + n_gps[k]] = gp_ftes[k]
            gp_active[s0 : s0 + n_gps[k]] = True
        prac_fte = np.array([g.sum() for g in gp_ftes])

        # patients -> practice of their municipality in proportion to GP FTE
        ua = _rng(seed, z, STREAM_ASSIGN).random((2, n))
        m_local = sp["municipality"]
        w = prac_fte.copy()
        muni_w = np.bincount(muni_p, weights=w, minlength=len(pops[z]))
        w = np.where(muni_w[muni_p] > 0, w, 1.0)  # no GP FTE: equal weights
        muni_w = np.bincount(muni_p, weights=w, minlength=len(pops[z]))
        cum = np.cumsum(w)
        muni_first = np.searchsorted(muni_p, np.arange(len(pops[z])), side="left")
        muni_last = np.searchsorted(muni_p, np.arange(len(pops[z])), side="right") - 1
        muni_lo = np.concatenate([[0.0], cum])[muni_first]
        x = muni_lo[m_local] + ua[0] * muni_w[m_local]
        k_local = np.searchsorted(cum, x, side="right")
        k_local = np.clip(k_local, muni_first[m_local], muni_last[m_local])
        list_size = np.bincount(k_local, minlength=kprac)

        # usual GP: a GP of the practice in proportion to FTE (the spare if it has no GP)
        gcum = np.cumsum(gp_fte_slots)
        g_lo = np.concatenate([[0.0], gcum])[gp_start_local]
        xg = g_lo[k_local] + ua[1] * prac_fte[k_local]
        s_local = np.searchsorted(gcum, xg, side="right")
        last_active = gp_start_local + np.maximum(n_gps - 1, 0)
        s_local = np.clip(s_local, gp_start_local[k_local], last_active[k_local])

        # --- fill the patient arrays -----------------------------------------------------
        pat.birth_day[sl] = (-sp["age_days"]).astype(np.int32)
        pat.municipality[sl] = (muni_offset[z] + m_local).astype(np.int16)
        pat.practice[sl] = (fp + k_local).astype(np.int16)
        pat.usual_gp[sl] = (prov_base + s_local).astype(np.int32)
        pat.need[sl] = sp["need"]
        pat.literacy[sl] = sp["literacy"]
        pat.ses[sl] = sp["ses"]
        pat.propensity[sl] = sp["propensity"]
        pat.situation[sl] = S.STABLE
        util = np.asarray(par.need.utility_by_need, dtype=np.float32)[sp["need"]]
        pat.utility[sl] = util
        cp_u = uniforms(seed, np.arange(f0, f0 + n, dtype=np.int64), 0, PURPOSE_CARE_PLAN)
        care_plan = gets_care_plan(sp["need"], cp_u, pol.care_plan_share)
        pat.flags[sl] = np.where(care_plan, S.F_CARE_PLAN, 0).astype(np.uint8)
        free = slice(f0 + n, f0 + int(slots[z]))  # free slots point into their own zone
        pat.practice[free] = fp
        pat.municipality[free] = muni_offset[z]

        # caregivers (policy-independent)
        ucg = _rng(seed, z, STREAM_CAREGIVERS)
        has_u = ucg.random(n)
        burden_all = ucg.beta(*BURDEN_BETA, size=n)
        has = (sp["need"] >= 2) & (has_u < par.caregivers.caregiver_share)
        who = np.flatnonzero(has)
        n_cg = len(who)
        cg_parts.append((cg_base, n_cg, f0 + who, burden_all[who].astype(np.float32)))
        cg_slots = 2 * n_cg + 64

        # --- providers of the zone -------------------------------------------------------
        parts: dict[str, list] = {k: [] for k in ("disc", "prac", "fte", "state")}

        def add(disc, prac_idx, fte, state, parts=parts):
            m = len(fte)
            parts["disc"].append(np.full(m, disc, dtype=np.uint8))
            parts["prac"].append(np.broadcast_to(np.asarray(prac_idx, dtype=np.int64), (m,)))
            parts["fte"].append(np.asarray(fte, dtype=np.float64))
            parts["state"].append(np.broadcast_to(np.asarray(state, dtype=np.uint8), (m,)))

        add(S.GP, fp + gp_prac_slots, gp_fte_slots, np.where(gp_active, S.PV_ACTIVE, S.PV_VACANT))

        per100k = n / 1e5
        nurse_total = wf.nurse_fte_per_100k * per100k
        multi = np.flatnonzero(kind == S.MULTIDISCIPLINARY)
        want = ATTACHED_NURSE_FTE_PER_GP * prac_fte[multi]
        if want.sum() > nurse_total > 0:
            want = want * (nurse_total / want.sum())
        elif nurse_total <= 0:
            want = np.zeros_like(want)
        nurse_persons = 0
        for k, a in zip(multi, want, strict=True):
            f = _persons(a)
            add(S.NURSE, fp + k, f, S.PV_ACTIVE)
            nurse_persons += len(f)
        f = _persons(max(0.0, nurse_total - want.sum()))
        add(S.NURSE, -1, f, S.PV_ACTIVE)
        nurse_persons += len(f)
        if nurse_total > 1e-9:
            add(S.NURSE, -1, np.zeros(int(SPARE_SHARE * nurse_persons) + 1), S.PV_VACANT)

        pool_fte = {
            S.PHYSIO: wf.physio_fte_per_100k,
            S.PSYCHOLOGIST: wf.psychologist_fte_per_100k,
            S.SOCIAL_WORKER: wf.social_worker_fte_per_100k,
            S.CASE_MANAGER: pol.case_manager_fte_per_100k,
            S.POOLED_DIABETES: pol.pooled_diabetes_educator_fte_per_100k,
            S.POOLED_PSYCH_NURSE: pol.pooled_psychiatric_nurse_fte_per_100k,
            S.POOLED_PSYCHOLOGIST: pol.pooled_psychologist_fte_per_100k,
        }
        by_list = np.argsort(-list_size, kind="stable")
        for d, rate in pool_fte.items():
            f = _persons(rate * per100k)
            if len(f) == 0:
                continue
            if d == S.CASE_MANAGER and pol.cm_organisation == "practice_attached":
                where = fp + by_list[np.arange(len(f)) % kprac]
            else:
                where = -1
            add(d, where, f, S.PV_ACTIVE)
            add(d, -1, np.zeros(int(SPARE_SHARE * len(f)) + 1), S.PV_VACANT)

        zp = {
            "disc": np.concatenate(parts["disc"]),
            "prac": np.concatenate(parts["prac"]),
            "fte": np.concatenate(parts["fte"]),
            "state": np.concatenate(parts["state"]),
        }
        prov_parts.append(zp)
        n_prov = len(zp["fte"])

        # --- practices -------------------------------------------------------------------
        pk = slice(fp, fp + kprac)
        prac.kind[pk] = kind
        prac.municipality[pk] = (muni_offset[z] + muni_p).astype(np.int16)
        prac.zone[pk] = z
        prac.gp_start[pk] = (prov_base + gp_start_local).astype(np.int32)
        prac.gp_slots[pk] = gp_slots.astype(np.int32)
        prac.list_size[pk] = list_size.astype(np.int32)
        prac.queue_cap[pk] = _pow2_at_least(np.maximum(64.0, 0.25 * list_size)).astype(np.int32)

        # --- zone record -----------------------------------------------------------------
        r = zrec[z]
        r["first_patient"], r["end_patient"], r["next_free"] = f0, f0 + slots[z], f0 + n
        r["first_caregiver"] = cg_base
        r["end_caregiver"] = cg_base + cg_slots
        r["next_free_caregiver"] = cg_base + n_cg
        r["first_practice"], r["end_practice"] = fp, fp + kprac
        r["first_provider"], r["end_provider"] = prov_base, prov_base + n_prov
        r["population_target"] = n
        r["alive"] = n
        r["alive_65plus"] = int(np.count_nonzero(sp["age_days"] >= DAYS_65))
        r["served_fraction"] = 1.0
        group = 2 * sp["literacy"].astype(np.int64) + sp["ses"]
        r["utility_sum"] = np.bincount(group, weights=util.astype(np.float64), minlength=S.N_GROUPS)
        r["alive_group"] = np.bincount(group, minlength=S.N_GROUPS)
        r["need_count"] = np.bincount(sp["need"], minlength=4)
        prov_base += n_prov
        cg_base += cg_slots

    # --- providers (all zones) ---------------------------------------------------------------
    if prov_base > _INDEX_LIMIT:
        raise ResourceError(f"{field}: {prov_base:,} provider slots exceed the int32 range")
    prov = S.empty_providers(prov_base)
    hours_fte = np.full(S.N_DISCIPLINES, wf.hours_per_fte_per_week)
    hours_fte[S.GP] = wf.gp_hours_per_fte_per_week
    hours_fte[S.CASE_MANAGER] = par.case_management.hours_per_fte_per_week
    for z, zp in enumerate(prov_parts):
        sl = slice(int(zrec[z]["first_provider"]), int(zrec[z]["end_provider"]))
        active = zp["state"] == S.PV_ACTIVE
        prov.discipline[sl] = zp["disc"]
        prov.practice[sl] = zp["prac"].astype(np.int16)
        prov.zone[sl] = z
        prov.fte[sl] = zp["fte"].astype(np.float32)
        prov.hours_per_week[sl] = (prov.fte[sl] * hours_fte[zp["disc"]]).astype(np.float32)
        prov.state[sl] = zp["state"]
        prov.strain[sl] = np.where(active, INITIAL_STRAIN, 0.0).astype(np.float32)
        prov.utilisation_ema[sl] = np.where(active, wf.comfortable_utilisation, 0.0).astype(
            np.float32
        )
        hours_day = prov.hours_per_week[sl].astype(np.float64) / 7.0
        disc = zp["disc"]
        zrec[z]["cm_hours_per_day"] = hours_day[active & (disc == S.CASE_MANAGER)].sum()
        zrec[z]["pooled_hours_per_day"] = hours_day[active & (disc >= S.POOLED_DIABETES)].sum()

    # --- caregivers (all zones) --------------------------------------------------------------
    cg = S.empty_caregivers(cg_base)
    for base, n_cg, pids, burden in cg_parts:
        idx = np.arange(base, base + n_cg)
        cg.patient[idx] = pids
        cg.burden[idx] = burden
        cg.state[idx] = S.CG_ACTIVE
        cg.until[idx] = 0
        pat.caregiver[pids] = idx.astype(np.int32)

    # --- GP queues and lists -----------------------------------------------------------------
    caps = prac.queue_cap.astype(np.int64)
    prac.queue_start[:] = np.concatenate([[0], np.cumsum(caps)[:-1]])
    queue_pid = np.full(int(caps.sum()), -1, dtype=np.int32)
    queue_day = np.zeros(int(caps.sum()), dtype=np.int16)
    spec_cap = max(1024, math.ceil(0.25 * total_slots))
    hosp_cap = max(256, math.ceil(0.02 * total_slots))
    zmax = int(slots.max())
    ep_cap = max(256, math.ceil(0.03 * zmax))
    cmq_cap = max(128, math.ceil(0.01 * zmax))

    state = S.State(
        pat=pat,
        cg=cg,
        prov=prov,
        prac=prac,
        queue_pid=queue_pid,
        queue_day=queue_day,
        zone=zrec,
        acc=np.zeros(nz, S.ACC_DTYPE),
        spec_due=np.zeros(spec_cap, dtype=np.int32),
        spec_pid=np.full(spec_cap, -1, dtype=np.int32),
        spec_n=np.zeros(1, dtype=np.int64),
        hosp_pid=np.full(hosp_cap, -1, dtype=np.int32),
        hosp_until=np.zeros(hosp_cap, dtype=np.int16),
        hosp_n=np.zeros(1, dtype=np.int64),
        episodes=np.full((nz, ep_cap), -1, dtype=np.int32),
        cmq_pid=np.full((nz, cmq_cap), -1, dtype=np.int32),
        cmq_day=np.zeros((nz, cmq_cap), dtype=np.int16),
        day=np.zeros(1, dtype=np.int64),
        req=S.empty_requests(int(pat.situation.shape[0]), nz),
    )

    ids, names, mzone = [], [], []
    for z, zone in enumerate(zones):
        for m in zone.municipalities:
            ids.append(str(m.id))
            names.append(str(m.name))
            mzone.append(z)
    layout = Layout(
        zone_names=[str(zone.name) for zone in zones],
        policies=list(policies),
        municipality_ids=ids,
        municipality_names=names,
        municipality_zone=np.array(mzone, dtype=np.int16),
        municipality_population=np.concatenate(pops).astype(np.int64),
        n_patients_initial=int(n_init.sum()),
        seed=seed,
        years_planned=years,
    )
    return state, layout
