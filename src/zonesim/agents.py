"""Mesa agents as views of the core's arrays.

A :class:`Patient`, :class:`InformalCaregiver` or :class:`Provider` is ``(model, index)`` and
nothing else: every attribute is a property that reads (and, where writing makes sense, writes) the
model's state arrays, e.g. ``Patient.need_level`` is ``model.state.pat.need[index]``. Nothing is
copied and nothing lives on the class, so two models alive at once never share state.

The model keeps exactly one agent per living inhabitant, per active (or ill / broken-down)
informal caregiver and per provider slot that is neither vacant nor left; it removes and adds
agents after each stretch the kernel simulates (see :class:`zonesim.ZoneModel`). An agent kept by
user code after its removal still reads its slot (a dead patient reads ``care_situation ==
"deceased"``).

The care council (:class:`CareCouncil`) is an ordinary Mesa agent acting in Python on a slow
cycle.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from . import validation as V
from .core import state as S
from .errors import ZonesimError

if TYPE_CHECKING:
    from .model import ZoneModel

__all__ = ["CareCouncil", "InformalCaregiver", "Patient", "Provider"]


def _check_range(name: str, value: Any, lo: float, hi: float) -> float:
    return V.check_number(
        value,
        field=name,
        source="<agent>",
        lo=lo,
        hi=hi,
        expected=f"expected a number in [{lo:g}, {hi:g}]",
    )


class _EngineAgent(mesa.Agent):
    """An agent whose coming and going the engine decides (a view of an array row).

    ``remove()`` raises: removing the Mesa agent would leave the person in the simulation
    (still consuming care, counted in every metric). People leave through the engine's own
    processes only: death (MODEL.md process 1); emigration is not modelled, and the net
    population path is set by ``scenario.population_growth_per_year``. The model itself drops
    the agents of those who died or left, after each stretch it simulates.
    """

    def remove(self) -> None:
        name = type(self).__name__
        noun = {"InformalCaregiver": "caregiver"}.get(name, name.lower())
        raise ZonesimError(
            f"{name}.remove(): a {noun} cannot be removed by hand; the engine decides who "
            "is in the zone (deaths, retirements, departures; net migration through "
            "scenario.population_growth_per_year), and the model removes the agent itself"
        )

    def _detach(self) -> None:
        """The model's own removal, once the engine has ended the row's occupant."""
        mesa.Agent.remove(self)


class Patient(_EngineAgent):
    """An inhabitant of a zone: a view of row ``index`` of ``model.state.pat``.

    Writable: ``need_level`` and ``health_utility`` (the zone's running totals of need counts and
    utility are kept consistent). Everything else is read-only: it is the kernel's to change.
    """

    def __init__(self, model: ZoneModel, index: int) -> None:
        self.index = index
        super().__init__(model)

    def __repr__(self) -> str:
        return f"Patient(index={self.index}, unique_id={self.unique_id})"

    # --- identity and place ---------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return int(self.model.state.pat.situation[self.index]) < S.DECEASED

    @property
    def birth_day(self) -> int:
        """Day of birth relative to the start of the run (negative for the initial population)."""
        return int(self.model.state.pat.birth_day[self.index])

    @property
    def age(self) -> float:
        """Age in years today (the kernel's current day)."""
        st = self.model.state
        return (int(st.day[0]) - int(st.pat.birth_day[self.index])) / S.DAYS_PER_AGE_YEAR

    @property
    def municipality_index(self) -> int:
        return int(self.model.state.pat.municipality[self.index])

    @property
    def municipality(self) -> str:
        return self.model.layout.municipality_names[self.municipality_index]

    @property
    def zone_index(self) -> int:
        return int(self.model.layout.municipality_zone[self.municipality_index])

    @property
    def zone(self) -> str:
        """Name of the patient's zone (``zone_index`` is its number)."""
        return self.model.layout.zone_names[self.zone_index]

    @property
    def practice(self) -> int:
        """Index of the patient's GP practice (into ``model.state.prac``)."""
        return int(self.model.state.pat.practice[self.index])

    @property
    def usual_gp(self) -> Provider | None:
        return self.model.provider_agent(int(self.model.state.pat.usual_gp[self.index]))

    # --- health and groups ----------------------------------------------------------------

    @property
    def need_level(self) -> int:
        """0 healthy, 1 chronic stable, 2 complex or frail, 3 very high."""
        return int(self.model.state.pat.need[self.index])

    @need_level.setter
    def need_level(self, value: int) -> None:
        new = V.check_int(
            value,
            field="need_level",
            source="<agent>",
            lo=0,
            hi=3,
            expected="expected an integer 0..3",
        )
        st = self.model.state
        i = self.index
        old = int(st.pat.need[i])
        st.pat.need[i] = new
        if old != new and int(st.pat.situation[i]) < S.DECEASED:
            z = self.zone_index
            st.zone["need_count"][z, old] -= 1
            st.zone["need_count"][z, new] += 1

    @property
    def health_literacy(self) -> str:
        """Health literacy: "adequate" or "limited"."""
        return "limited" if self.model.state.pat.literacy[self.index] == S.LIMITED else "adequate"

    @property
    def ses(self) -> str:
        """Socio-economic group: "standard" or "preferential" (reimbursement)."""
        return (
            "preferential" if self.model.state.pat.ses[self.index] == S.PREFERENTIAL else "standard"
        )

    @property
    def equity_group(self) -> int:
        """``2 * literacy + ses`` (0..3), the index of the accumulators' equity axis."""
        pat = self.model.state.pat
        return S.group_of(int(pat.literacy[self.index]), int(pat.ses[self.index]))

    @property
    def health_utility(self) -> float:
        return float(self.model.state.pat.utility[self.index])

    @health_utility.setter
    def health_utility(self, value: float) -> None:
        v = _check_range("health_utility", value, 0.0, 1.0)
        st = self.model.state
        i = self.index
        old = float(st.pat.utility[i])
        st.pat.utility[i] = v
        if int(st.pat.situation[i]) < S.DECEASED:
            st.zone["utility_sum"][self.zone_index, self.equity_group] += (
                float(st.pat.utility[i]) - old
            )

    @property
    def care_situation(self) -> str:
        """One of stable, disrupted, case_managed, in_hospital, deceased."""
        return S.SITUATION_NAMES[int(self.model.state.pat.situation[self.index])]

    @property
    def switch_moment_open(self) -> bool:
        """A switch moment is open (no new equilibrium yet)."""
        return bool(self.model.state.pat.flags[self.index] & S.F_UNRESOLVED)

    @property
    def waiting_for_case_manager(self) -> bool:
        return bool(self.model.state.pat.flags[self.index] & S.F_CM_WAITING)

    @property
    def has_care_plan(self) -> bool:
        return bool(self.model.state.pat.flags[self.index] & S.F_CARE_PLAN)

    @property
    def caregiver(self) -> InformalCaregiver | None:
        return self.model.caregiver_agent(int(self.model.state.pat.caregiver[self.index]))

    @property
    def case_manager(self) -> Provider | None:
        return self.model.provider_agent(int(self.model.state.pat.case_manager[self.index]))

    # --- counters since the start of the run ----------------------------------------------

    @property
    def gp_contacts(self) -> int:
        return int(self.model.state.pat.gp_contacts[self.index])

    @property
    def gp_contacts_usual(self) -> int:
        """GP contacts with the usual GP (continuity)."""
        return int(self.model.state.pat.gp_contacts_usual[self.index])

    @property
    def specialist_visits(self) -> int:
        return int(self.model.state.pat.specialist_visits[self.index])

    @property
    def hospital_admissions(self) -> int:
        return int(self.model.state.pat.hospital_admissions[self.index])

    @property
    def switch_moments(self) -> int:
        return int(self.model.state.pat.switch_moments[self.index])

    @property
    def case_managed_days(self) -> int:
        return int(self.model.state.pat.case_managed_days[self.index])

    @property
    def unmet_need_days(self) -> int:
        return int(self.model.state.pat.unmet_need_days[self.index])


class InformalCaregiver(_EngineAgent):
    """An informal caregiver: a view of row ``index`` of ``model.state.cg``.

    Writable: ``burden`` (in [0, 1]).
    """

    def __init__(self, model: ZoneModel, index: int) -> None:
        self.index = index
        super().__init__(model)

    def __repr__(self) -> str:
        return f"InformalCaregiver(index={self.index}, unique_id={self.unique_id})"

    @property
    def patient(self) -> Patient | None:
        """The patient cared for (None once that patient has died)."""
        return self.model.patient_agent(int(self.model.state.cg.patient[self.index]))

    @property
    def patient_index(self) -> int:
        return int(self.model.state.cg.patient[self.index])

    @property
    def burden(self) -> float:
        return float(self.model.state.cg.burden[self.index])

    @burden.setter
    def burden(self, value: float) -> None:
        self.model.state.cg.burden[self.index] = _check_range("burden", value, 0.0, 1.0)

    @property
    def state(self) -> str:
        """One of active, ill, broken_down, ended."""
        return S.CAREGIVER_STATE_NAMES[int(self.model.state.cg.state[self.index])]

    @property
    def until(self) -> int | None:
        """Day the illness or breakdown ends (None while active)."""
        if int(self.model.state.cg.state[self.index]) == S.CG_ACTIVE:
            return None
        return int(self.model.state.cg.until[self.index])


class Provider(_EngineAgent):
    """A care provider: a view of row ``index`` of ``model.state.prov``.

    Writable: ``strain`` (in [0, 1]).
    """

    def __init__(self, model: ZoneModel, index: int) -> None:
        self.index = index
        super().__init__(model)

    def __repr__(self) -> str:
        return f"Provider(index={self.index}, {self.discipline}, unique_id={self.unique_id})"

    @property
    def discipline(self) -> str:
        """gp, nurse, physiotherapist, psychologist, social_worker, case_manager, ..."""
        return S.DISCIPLINE_NAMES[int(self.model.state.prov.discipline[self.index])]

    @property
    def discipline_code(self) -> int:
        return int(self.model.state.prov.discipline[self.index])

    @property
    def practice(self) -> int | None:
        """Practice index, or None for providers working for the zone (pools, home care)."""
        k = int(self.model.state.prov.practice[self.index])
        return None if k < 0 else k

    @property
    def zone_index(self) -> int:
        return int(self.model.state.prov.zone[self.index])

    @property
    def zone(self) -> str:
        return self.model.layout.zone_names[self.zone_index]

    @property
    def fte(self) -> float:
        return float(self.model.state.prov.fte[self.index])

    @property
    def hours_per_week(self) -> float:
        return float(self.model.state.prov.hours_per_week[self.index])

    @property
    def booked_hours(self) -> float:
        """Hours of demand booked on the last simulated day."""
        return float(self.model.state.prov.booked_hours[self.index])

    @property
    def utilisation(self) -> float:
        """Demand / capacity, smoothed over recent days (the kernel's moving average)."""
        return float(self.model.state.prov.utilisation_ema[self.index])

    @property
    def strain(self) -> float:
        return float(self.model.state.prov.strain[self.index])

    @strain.setter
    def strain(self, value: float) -> None:
        self.model.state.prov.strain[self.index] = _check_range("strain", value, 0.0, 1.0)

    @property
    def workability(self) -> float:
        return 1.0 - self.strain

    @property
    def state(self) -> str:
        """One of active, sick_leave, left, vacant."""
        return S.PROVIDER_STATE_NAMES[int(self.model.state.prov.state[self.index])]

    @property
    def caseload(self) -> int:
        """Clients held (case managers; 0 for other disciplines)."""
        return int(self.model.state.prov.caseload[self.index])

    @property
    def overtime_hours(self) -> float:
        return float(self.model.state.prov.overtime_hours[self.index])

    @property
    def sick_days(self) -> float:
        return float(self.model.state.prov.sick_days[self.index])


class CareCouncil(mesa.Agent):
    """The care council ("zorgraad") of one zone: an ordinary Mesa agent on a slow cycle.

    Every ``policy.council_cycle_days`` days (a recurring Mesa event, so it acts after the kernel
    has simulated up to that day) it reads the zone's indicators from the state arrays and
    accumulators, appends them as one dict to :attr:`indicators`, and passes them to
    :meth:`decide`.

    Indicator keys: ``time`` (model time, days), ``day`` (kernel day), ``alive``,
    ``unresolved_switch_moments`` (living patients with an open switch moment), ``episodes``
    (open or case-managed episodes), ``cm_queue_len`` (requests waiting for a case manager),
    ``gp_utilisation`` (GP demand hours / GP capacity hours since the last cycle; NaN without
    capacity), ``reports`` (reports to the information and reporting point since the last
    cycle), ``switch_moments`` and ``unmet_need_days`` (since the last cycle).
    """

    def __init__(self, model: ZoneModel, zone: int) -> None:
        super().__init__(model)
        self.zone_index = zone
        self.policy = model.policies[zone]
        self.indicators: list[dict[str, float]] = []
        self.decisions: list[dict] = []  # an adaptive council's moves (zonesim.governance)
        self._last = self._counters()
        cycle = int(self.policy.council_cycle_days)
        self._generator = model.schedule_recurring(
            self.convene, mesa.time.Schedule(interval=cycle, start=model.time + cycle)
        )

    def __repr__(self) -> str:
        return f"CareCouncil(zone={self.zone!r}, unique_id={self.unique_id})"

    @property
    def zone(self) -> str:
        return self.model.layout.zone_names[self.zone_index]

    def _counters(self) -> dict[str, float]:
        acc = self.model.state.acc
        z = self.zone_index
        return {
            "gp_demand": float(acc["demand_hours"][z, S.GP]),
            "gp_capacity": float(acc["capacity_hours"][z, S.GP]),
            "reports": float(acc["reports"][z]),
            "switch_moments": float(acc["switch_moments"][z].sum()),
            "unmet_need_days": float(acc["unmet_need_days"][z].sum()),
        }

    def read_indicators(self) -> dict[str, float]:
        """The zone's indicators now, counters relative to the last cycle (does not record)."""
        st = self.model.state
        z = self.zone_index
        zrec = st.zone
        a = int(zrec["first_patient"][z])
        b = int(zrec["end_patient"][z])
        sit = st.pat.situation[a:b]
        unresolved = np.count_nonzero(
            ((st.pat.flags[a:b] & S.F_UNRESOLVED) != 0) & (sit < S.DECEASED)
        )
        now = self._counters()
        cap = now["gp_capacity"] - self._last["gp_capacity"]
        demand = now["gp_demand"] - self._last["gp_demand"]
        return {
            "time": float(self.model.time),
            "day": int(st.day[0]),
            "alive": int(zrec["alive"][z]),
            "unresolved_switch_moments": int(unresolved),
            "episodes": int(zrec["episode_count"][z]),
            "cm_queue_len": int(zrec["cm_queue_len"][z]),
            "gp_utilisation": demand / cap if cap > 0 else math.nan,
            "reports": now["reports"] - self._last["reports"],
            "switch_moments": now["switch_moments"] - self._last["switch_moments"],
            "unmet_need_days": now["unmet_need_days"] - self._last["unmet_need_days"],
        }

    def convene(self) -> None:
        """One council cycle: read and record the indicators, then :meth:`decide`."""
        ind = self.read_indicators()
        self._last = self._counters()
        self.indicators.append(ind)
        self.decide(ind)

    def decide(self, indicators: dict[str, float]) -> None:
        """The council's response to this cycle's indicators.

        A non-adaptive council (``policy.adaptive_council = false``) only watches. An adaptive
        one forecasts switch moments per municipality and moves flexible capacity (case-manager
        and pooled-specialist hours) to where the pressure is, at equal cost, re-attaching
        practice-attached case managers: see :mod:`zonesim.governance`. Its decisions are
        appended to :attr:`decisions`.
        """
        if not self.policy.adaptive_council:
            return
        from .governance import adapt

        adapt(self)
