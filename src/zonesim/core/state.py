"""The simulation state: structure-of-arrays, one entry per patient, caregiver, provider, practice.

Everything the numba kernels read or write lives here, as plain numpy arrays grouped in
namedtuples (numba passes them as typed tuples, so kernels read ``pat.need[i]``). Zone-level
scalars, accumulators and parameters are numpy *records* (structured dtypes): their layout is part
of the kernel signature, so numba's on-disk cache can never be stale after a layout change.

A state always describes a *region* of one or more zones (a single zone is a region of one): the
zones share secondary care (the specialist waiting list and hospital). Patients of zone ``z`` live
in the slice ``zone_rec[z].first_patient : zone_rec[z].end_patient``, including free slots for
entrants (births, immigration) so that renewal never moves anyone.

The Mesa agents (:mod:`zonesim.agents`) are views on these arrays; nothing is copied.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..days import DAYS_PER_AGE_YEAR, DAYS_PER_YEAR  # noqa: F401  (re-exported for the kernels)

# --- codes ------------------------------------------------------------------------------------

# Patient.situation (MODEL.md section 2: care situation)
STABLE = 0
DISRUPTED = 1  # a switch moment happened; the regular team (or nobody yet) re-arranges care
CASE_MANAGED = 2  # a case manager holds the episode (re-arranging, then follow-up)
IN_HOSPITAL = 3
DECEASED = 4
EMPTY = 5  # a free slot for a future entrant
SITUATION_NAMES = ("stable", "disrupted", "case_managed", "in_hospital", "deceased", "empty")

# Patient.flags bits
F_GP_WAITING = 1  # in its practice's routine GP queue
F_SPEC_WAITING = 2  # on the specialist waiting list
F_UNRESOLVED = 4  # a switch moment is open (no new equilibrium yet)
F_CM_WAITING = 8  # waiting for a case manager
F_CARE_PLAN = 16  # has an integrated care plan
F_EPISODE_LISTED = 32  # in the episode list (disrupted or case-managed)
F_SPEC_INTENT = 64  # under strict gatekeeping: came to the GP wanting a specialist
F_CM_CHECKED = 128  # the open switch moment was assessed for case management

# Health literacy / SES
ADEQUATE, LIMITED = 0, 1
STANDARD, PREFERENTIAL = 0, 1
N_GROUPS = 4  # equity group = 2 * literacy + ses


def group_of(literacy, ses):
    return 2 * literacy + ses


# Caregiver.state
CG_ACTIVE, CG_ILL, CG_BROKEN, CG_DECEASED = 0, 1, 2, 3
CAREGIVER_STATE_NAMES = ("active", "ill", "broken_down", "ended")  # ended: died or stopped

# Provider.discipline
GP = 0
NURSE = 1
PHYSIO = 2
PSYCHOLOGIST = 3
SOCIAL_WORKER = 4
CASE_MANAGER = 5
POOLED_DIABETES = 6
POOLED_PSYCH_NURSE = 7
POOLED_PSYCHOLOGIST = 8
N_DISCIPLINES = 9
DISCIPLINE_NAMES = (
    "gp",
    "nurse",
    "physiotherapist",
    "psychologist",
    "social_worker",
    "case_manager",
    "diabetes_educator",
    "psychiatric_nurse",
    "pooled_psychologist",
)

# Provider.state
PV_ACTIVE, PV_SICK, PV_LEFT, PV_VACANT = 0, 1, 2, 3
PROVIDER_STATE_NAMES = ("active", "sick_leave", "left", "vacant")

# Practice.kind
SOLO, GROUP_PRACTICE, MULTIDISCIPLINARY = 0, 1, 2
PRACTICE_KIND_NAMES = ("solo", "group", "multidisciplinary")

# Allocation rules (policy.allocation_rule)
RULE_NONE, RULE_FCFS, RULE_HIGHEST_NEED, RULE_EQUITY = 0, 1, 2, 3
RULE_CODES = {"none": 0, "fcfs": 1, "highest_need": 2, "equity_weighted": 3}

NEVER = np.int16(-32768)  # "no such day" in int16 day fields
HIST_DAYS = 731  # switch-to-equilibrium histogram: days 0..729, last bin = 730 or more

# Event kinds drawn from the one daily uniform. The order matters for common random numbers
# (see core/events.py): exogenous events first, then demand that no policy changes, then demand
# that the information point changes, and last the events whose probability depends on the care
# situation (which any policy may change), so a policy shifts as few draws as possible.
EV_FALL = 0
EV_NEED_PROGRESSION = 1
EV_ACUTE = 2
EV_CHRONIC_FOLLOWUP = 3
EV_PHYSIO = 4
EV_PSYCHOLOGY = 5
EV_SOCIAL_WORK = 6
EV_GP_ROUTINE = 7
EV_SPECIALIST_DIRECT = 8
EV_EMERGENCY = 9
EV_DEATH = 10
EV_ADMISSION = 11
EV_AVOIDABLE_ADMISSION = 12
N_EVENTS = 13
EVENT_NAMES = (
    "fall",
    "need_progression",
    "acute_deterioration",
    "chronic_followup",
    "physio",
    "psychology",
    "social_work",
    "gp_routine",
    "specialist_direct",
    "emergency",
    "death",
    "admission",
    "avoidable_admission",
)

# Hazard table dimensions: situation class x age band x need x literacy x ses x propensity
N_SIT_CLASSES = 4  # the first four situations: stable, disrupted, case-managed, in hospital
N_AGE_BANDS = 22  # 5-year bands 0-4 ... 100-104, 105+
# Days per year (DAYS_PER_YEAR: the model's year; DAYS_PER_AGE_YEAR: the calendar year of ages)
# are defined once in zonesim.days and imported above, re-exported for the kernels.
AGE_BAND_DAYS = int(5 * DAYS_PER_AGE_YEAR)  # 1826
N_PROPENSITY = 16

# --- entity arrays ----------------------------------------------------------------------------

PATIENT_FIELDS = {
    "birth_day": np.int32,  # day of birth relative to the start (negative)
    "municipality": np.int16,
    "practice": np.int16,
    "usual_gp": np.int32,  # provider index of the patient's usual GP
    "need": np.uint8,  # 0 healthy .. 3 very high
    "literacy": np.uint8,  # ADEQUATE / LIMITED
    "ses": np.uint8,  # STANDARD / PREFERENTIAL
    "propensity": np.uint8,  # quantile class 0..15 of the care-seeking propensity
    "situation": np.uint8,
    "flags": np.uint8,
    "utility": np.float32,
    "caregiver": np.int32,  # caregiver index or -1
    "episode_start": np.int16,  # day of the open switch moment (NEVER if none)
    "last_gp_day": np.int16,
    "last_fall_day": np.int16,
    "last_admission_day": np.int16,
    "work_left": np.float32,  # re-arrangement hours left in the open switch moment
    "case_manager": np.int32,  # provider index or -1
    "cm_until": np.int16,  # day the case-management episode hands back (NEVER if none)
    "last_unmet_day": np.int16,  # last day counted in unmet_need_days (common.first_unmet_today)
    # counters since the start of the run
    "gp_contacts": np.uint16,
    "gp_contacts_usual": np.uint16,
    "specialist_visits": np.uint16,
    "hospital_admissions": np.uint16,
    "switch_moments": np.uint16,
    "case_managed_days": np.uint16,
    "unmet_need_days": np.uint16,
    # care gaps (issue 16; core/common.py GAP_*): three 2-bit month counters (unmet need,
    # missed chronic follow-up, untreated psychological need) and a pending-follow-up bit
    "care_gaps": np.uint8,
}
Patients = namedtuple("Patients", list(PATIENT_FIELDS))

CAREGIVER_FIELDS = {
    "patient": np.int32,
    "burden": np.float32,
    "state": np.uint8,
    "until": np.int16,  # day the illness / breakdown ends
}
Caregivers = namedtuple("Caregivers", list(CAREGIVER_FIELDS))

PROVIDER_FIELDS = {
    "discipline": np.uint8,
    "practice": np.int16,  # -1: works for the zone (pool, home care)
    "zone": np.int16,
    "fte": np.float32,
    "hours_per_week": np.float32,  # contracted hours at this FTE
    "booked_hours": np.float32,  # hours of demand booked on the last day
    "utilisation_ema": np.float32,
    "strain": np.float32,
    "state": np.uint8,
    "until": np.int16,  # end of sick leave
    "caseload": np.int16,  # case managers: clients held
    "overtime_hours": np.float32,  # cumulative
    "sick_days": np.float32,  # cumulative
}
Providers = namedtuple("Providers", list(PROVIDER_FIELDS))

PRACTICE_FIELDS = {
    "kind": np.uint8,
    "municipality": np.int16,
    "zone": np.int16,
    "gp_start": np.int32,  # this practice's GP slots are providers gp_start .. gp_start+gp_slots
    "gp_slots": np.int32,
    "list_size": np.int32,
    "load_today": np.float32,  # urgent contacts and coordination booked today (contacts)
    # The routine GP queue of practice k is a ring buffer inside the flat arrays
    # State.queue_pid / State.queue_day (the kernels' GpQueues.pid / .day): entry j sits at
    # queue_start + ((queue_head + j) & (queue_cap - 1)) (0 = oldest); queue_cap: a power of 2.
    "queue_start": np.int64,
    "queue_cap": np.int32,
    "queue_head": np.int32,
    "queue_len": np.int32,
}
Practices = namedtuple("Practices", list(PRACTICE_FIELDS))

# What a zone's phase asks of the lists the zones of a region share (see core/hospital.py): per
# patient slot, the request bits filed today (``what``); per zone, the patients with requests in
# the order they were first filed, kept in the zone's own slice of ``pid`` (zone z's
# ``pid[first_patient : first_patient + n[z]]``: a patient files requests only in its own zone,
# so a zone's slots are room enough). Empty between phases.
REQUEST_FIELDS = {"what": np.uint8, "pid": np.int32}
Requests = namedtuple("Requests", [*REQUEST_FIELDS, "n"])

# The other lists, each its own type, so a kernel takes the lists it uses and nothing else
# (core/day.py groups them from the State's arrays): every practice's routine GP queue (ring
# buffers, see PRACTICE_FIELDS), the region's specialist waiting list (a binary min-heap of
# ``n[0]`` entries keyed by ``due``), the patients in hospital (``n[0]``, each until its day of
# discharge), each zone's case-management queue (``pid/day[z, :zone[z].cm_queue_len]``). The
# episode list (``episodes[z, :zone[z].episode_count]``) is a plain array.
GpQueues = namedtuple("GpQueues", ["pid", "day"])
SpecialistList = namedtuple("SpecialistList", ["due", "pid", "n"])
HospitalList = namedtuple("HospitalList", ["pid", "until", "n"])
CmQueues = namedtuple("CmQueues", ["pid", "day"])


def empty_requests(n_slots: int, n_zones: int) -> Requests:
    return Requests(
        what=np.zeros(n_slots, dtype=np.uint8),
        pid=np.full(n_slots, -1, dtype=np.int32),
        n=np.zeros(n_zones, dtype=np.int64),
    )


# --- records: zone scalars and accumulators ---------------------------------------------------

ZONE_DTYPE = np.dtype(
    [
        ("first_patient", np.int64),
        ("end_patient", np.int64),  # exclusive; includes free slots
        ("next_free", np.int64),  # next free slot for an entrant
        ("first_caregiver", np.int64),
        ("end_caregiver", np.int64),
        ("next_free_caregiver", np.int64),
        ("first_practice", np.int64),
        ("end_practice", np.int64),
        ("first_provider", np.int64),
        ("end_provider", np.int64),
        ("population_target", np.float64),  # renewal follows this
        ("alive", np.int64),
        ("alive_65plus", np.int64),
        ("served_fraction", np.float64, (N_DISCIPLINES,)),  # yesterday's, for rationing
        ("demand_hours", np.float64, (N_DISCIPLINES,)),  # today's
        ("capacity_hours", np.float64, (N_DISCIPLINES,)),  # today's
        ("cm_queue_len", np.int64),
        ("episode_count", np.int64),
        ("utility_sum", np.float64, (N_GROUPS,)),  # over living patients, kept incrementally
        ("alive_group", np.int64, (N_GROUPS,)),
        ("need_count", np.int64, (4,)),  # living patients per need level
        ("pooled_hours_per_day", np.float64),  # pooled specialist hours today (all kinds)
        ("cm_hours_per_day", np.float64),
        ("recruit_budget", np.float64, (N_DISCIPLINES,)),  # FTE owed by recruitment
        # demography by design (issue 15): living patients per 5-year band at the last recount
        # and how many more each band should have (the entrants' ages follow the deficits)
        ("band_count", np.int64, (N_AGE_BANDS,)),
        ("band_deficit", np.float64, (N_AGE_BANDS,)),
        ("migration_counter", np.int64),  # emigration probes made (a diagnostic)
        # balancing loop of recruitment (issue 15): FTE hired against the labour market's
        # yearly quota, running down at the quota's daily rate
        ("market_used", np.float64, (N_DISCIPLINES,)),
    ]
)

# Accumulators: counts since the start of the run, per zone (and per equity group where a
# metric has an equity gap). metrics.py turns them into the scorecard (by name). A process owns
# its accumulators: each is declared in the ``ACCUMULATORS`` of the one process module that adds
# to it (core/parts.py), and ACC_DTYPE is these central ones followed by those. Only what no
# single process owns is listed here: what core/day.py's end of day writes, and what several
# processes add to.
_ACC_FIELDS = [
    # written by core/day.py's end of day (zone_end_of_day)
    ("days", np.float64),
    ("person_days", np.float64, (N_GROUPS,)),
    ("person_days_65plus", np.float64),
    ("qaly", np.float64, (N_GROUPS,)),
    # added to by several processes
    # a list full: the episode list (switching.py), the specialist or hospital list
    # (hospital.py), the caregivers' slots (demography.py)
    ("list_overflow", np.float64),
    # the unmet-need total: every source adds to it and to one component (zonesim.metrics.
    # UNMET_COMPONENTS; they sum to the total); the component "a request that found no place"
    # comes from a full GP queue (core/practices.py) and a full specialist or hospital list
    # (core/hospital.py). The other components are declared by their process.
    ("unmet_need_days", np.float64, (N_GROUPS,)),
    ("unmet_no_place", np.float64, (N_GROUPS,)),
    # hours per discipline: the gatekeeper adds the GPs' capacity, work and overtime of the day,
    # the workforce the other disciplines'
    ("capacity_hours", np.float64, (N_DISCIPLINES,)),
    ("worked_hours", np.float64, (N_DISCIPLINES,)),
    ("overtime_hours", np.float64, (N_DISCIPLINES,)),
    # added to by no process (an old count, never written: always 0; it goes at the next
    # regeneration of the stored baselines, whose digest covers every field by name)
    ("nursing_hours_served", np.float64),
]


class State(
    namedtuple(
        "State",
        [
            "pat",
            "cg",
            "prov",
            "prac",
            "queue_pid",
            "queue_day",
            "zone",
            "acc",
            "spec_due",
            "spec_pid",
            "spec_n",
            "hosp_pid",
            "hosp_until",
            "hosp_n",
            "episodes",
            "cmq_pid",
            "cmq_day",
            "day",
            "req",
        ],
    )
):
    """The whole mutable state of a region.

    ``queue_pid/queue_day`` (int32 / int16) hold every practice's routine GP queue (see
    PRACTICE_FIELDS); ``spec_due/spec_pid`` are a binary min-heap of the shared specialist
    waiting list (``spec_n[0]`` entries); ``hosp_pid/hosp_until`` the patients in hospital
    (``hosp_n[0]``);
    ``episodes[z, :zone[z].episode_count]`` the patients with an open or case-managed episode;
    ``cmq_pid/cmq_day[z, :zone[z].cm_queue_len]`` the case-management queue; ``day[0]`` the
    next day to simulate; ``req`` the zones' requests on the shared lists (:class:`Requests`,
    empty between days).
    """

    __slots__ = ()

    @property
    def n_zones(self) -> int:
        return self.zone.shape[0]

    def nbytes(self) -> int:
        """Bytes of all arrays of the state."""
        total = 0
        for part in self:
            if isinstance(part, tuple):
                total += sum(a.nbytes for a in part)
            else:
                total += part.nbytes
        return total

    def copy(self) -> State:
        def cp(x):
            if isinstance(x, tuple):
                return type(x)(*(a.copy() for a in x))
            return x.copy()

        return State(*(cp(x) for x in self))


def empty_patients(n: int) -> Patients:
    arrays = {k: np.zeros(n, dtype=t) for k, t in PATIENT_FIELDS.items()}
    arrays["situation"][:] = EMPTY
    arrays["caregiver"][:] = -1
    arrays["usual_gp"][:] = -1
    arrays["case_manager"][:] = -1
    for k in (
        "episode_start",
        "last_gp_day",
        "last_fall_day",
        "last_admission_day",
        "cm_until",
        "last_unmet_day",
    ):
        arrays[k][:] = NEVER
    return Patients(**arrays)


def empty_caregivers(n: int) -> Caregivers:
    arrays = {k: np.zeros(n, dtype=t) for k, t in CAREGIVER_FIELDS.items()}
    arrays["patient"][:] = -1
    arrays["state"][:] = CG_DECEASED
    return Caregivers(**arrays)


def empty_providers(n: int) -> Providers:
    arrays = {k: np.zeros(n, dtype=t) for k, t in PROVIDER_FIELDS.items()}
    arrays["state"][:] = PV_VACANT
    arrays["practice"][:] = -1
    return Providers(**arrays)


def empty_practices(n: int) -> Practices:
    return Practices(**{k: np.zeros(n, dtype=t) for k, t in PRACTICE_FIELDS.items()})


def patient_bytes() -> int:
    """Bytes per patient slot in the patient arrays."""
    return sum(np.dtype(t).itemsize for t in PATIENT_FIELDS.values())


def slot_bytes() -> int:
    """Bytes per patient slot in the patient arrays and the zones' requests."""
    return patient_bytes() + sum(np.dtype(t).itemsize for t in REQUEST_FIELDS.values())


_acc_dtype = None


def __getattr__(name: str):
    # ACC_DTYPE is assembled on first use: the process modules that declare accumulators import
    # this module, so they cannot be imported while it loads.
    if name == "ACC_DTYPE":
        global _acc_dtype
        if _acc_dtype is None:
            from .parts import accumulator_fields

            _acc_dtype = np.dtype(_ACC_FIELDS + accumulator_fields())
        return _acc_dtype
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
