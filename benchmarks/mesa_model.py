"""Switch moments and case management as plain Mesa, the way a researcher without zonesim would
write them: one ``mesa.Agent`` per patient, informal caregiver and case manager, each with a
``step()`` that draws its daily hazards from the model's random generator.

It covers two of zonesim's processes (MODEL.md 7 and 8), with zonesim's default rates:

* switch moments: a fall (33% a year at 65+), an acute deterioration, a hospital admission and its
  discharge (length of stay about 6 days), the informal caregiver falling ill (more often under a
  high burden); each disrupts the care situation and needs re-arrangement hours, which the regular
  team works off at its daily coordination rate (faster with a case manager);
* case-manager allocation: complex situations (need 2+ and enough hours of work) join a queue
  after a recognition delay; case managers take them first come first served within a caseload
  cap; the episode ends at the new equilibrium, after a follow-up the case manager hands back.

Everything else zonesim simulates (GP access, specialist waiting list, workforce strain, entrants,
mortality, metrics by equity group) is left out, so the comparison flatters Mesa: zonesim's figure
is its *whole* model on the same population.
"""

from __future__ import annotations

import math
import time

import mesa

# daily probabilities (per year / 365) and other defaults, as in zonesim's configuration
FALL_65 = (0.25, 0.30, 0.40, 0.50)  # by need level 0..3, per year
FALL_YOUNG = 0.05
ACUTE = (0.01, 0.05, 0.15, 0.30)
ADMISSION = (0.05, 0.12, 0.30, 0.60)
LOS_DAYS = 6.4
FALL_ADMISSION = 0.08
FALL_SWITCH = (0.05, 0.2, 0.5, 0.7)
DISCHARGE_SWITCH = (0.05, 0.2, 0.5, 0.8)
CAREGIVER_SHARE = 0.6
CG_ILLNESS = 0.15  # per year at zero burden
CG_ILLNESS_SLOPE = 3.0
CG_ILL_DAYS = 20
COORDINATION_HOURS = (2.0, 4.0, 8.0, 16.0)  # re-arrangement work by need
TEAM_HOURS_DAY = 0.5
CM_HOURS_DAY = 1.0
RECOGNITION_DELAY = 2
CM_MIN_NEED = 2
CM_MIN_HOURS = 6.0
CM_FOLLOWUP_DAYS = 180
CASELOAD_CAP = 50
CM_FTE_PER_100K = 6.0
AGE_65_SHARE = 0.21
NEED_SHARES = (0.6, 0.3, 0.08, 0.02)


def per_day(rate_per_year: float) -> float:
    return 1.0 - math.exp(-rate_per_year / 365.0)


class Caregiver(mesa.Agent):
    def __init__(self, model, patient):
        super().__init__(model)
        self.patient = patient
        self.burden = model.random.betavariate(2.0, 3.2)
        self.ill_until = -1

    def step(self):
        m = self.model
        if self.ill_until >= m.day:
            return
        need = self.patient.need
        rise = 0.002 * (need + 1) + (0.01 if self.patient.situation == "disrupted" else 0.0)
        relief = 0.004 * (1.5 if self.patient.case_manager is not None else 1.0)
        self.burden = min(1.0, max(0.0, self.burden + rise * (1 - self.burden) - relief))
        p_ill = per_day(CG_ILLNESS * (1.0 + CG_ILLNESS_SLOPE * self.burden**2))
        if m.random.random() < p_ill:
            self.ill_until = m.day + CG_ILL_DAYS
            self.patient.switch_moment("caregiver")


class Patient(mesa.Agent):
    def __init__(self, model, old, need):
        super().__init__(model)
        self.old = old
        self.need = need
        self.situation = "stable"  # stable, disrupted, case_managed, hospital
        self.caregiver = None
        self.work_left = 0.0
        self.episode_start = -1
        self.discharge_day = -1
        self.case_manager = None
        self.waiting = False
        self.checked = False
        self.followup_until = -1

    def switch_moment(self, trigger):
        m = self.model
        m.switch_moments += 1
        work = COORDINATION_HOURS[self.need] * (0.5 + m.random.random())
        if self.work_left > 0:
            self.work_left += work
            return
        self.work_left = work
        self.episode_start = m.day
        self.checked = False
        if self.situation == "stable":
            self.situation = "disrupted"

    def step(self):
        m = self.model
        r = m.random
        if self.situation == "hospital":
            if m.day >= self.discharge_day:
                self.situation = "case_managed" if self.case_manager else "stable"
                if self.work_left > 0 and not self.case_manager:
                    self.situation = "disrupted"
                if r.random() < DISCHARGE_SWITCH[self.need]:
                    self.switch_moment("discharge")
            return
        # exogenous switch moments
        p_fall = per_day(FALL_65[self.need] if self.old else FALL_YOUNG)
        if r.random() < p_fall:
            m.falls += 1
            if r.random() < FALL_ADMISSION:
                self.admit()
                return
            if r.random() < FALL_SWITCH[self.need]:
                self.switch_moment("fall")
        if r.random() < per_day(ACUTE[self.need]) and self.need >= 1:
            self.switch_moment("acute")
        if r.random() < per_day(ADMISSION[self.need]):
            self.admit()
            return
        # re-arrangement of an open switch moment
        if self.work_left > 0:
            m.unmet_days += 1
            if m.day - self.episode_start >= RECOGNITION_DELAY and not self.checked:
                self.checked = True
                if self.need >= CM_MIN_NEED and self.work_left >= CM_MIN_HOURS:
                    if self.case_manager is None and not self.waiting:
                        self.waiting = True
                        m.cm_queue.append(self)
            rate = TEAM_HOURS_DAY + (CM_HOURS_DAY if self.case_manager else 0.0)
            self.work_left -= rate
            if self.work_left <= 0:
                self.work_left = 0.0
                m.resolved += 1
                m.days_to_equilibrium += m.day - self.episode_start + 1
                if self.case_manager is not None:
                    self.followup_until = m.day + CM_FOLLOWUP_DAYS
                else:
                    self.situation = "stable"
        elif self.case_manager is not None and m.day >= self.followup_until:
            self.case_manager.release(self)
            self.situation = "stable"

    def admit(self):
        m = self.model
        m.admissions += 1
        self.situation = "hospital"
        self.discharge_day = m.day + max(1, round(m.random.expovariate(1.0 / LOS_DAYS)))


class CaseManager(mesa.Agent):
    def __init__(self, model, cap):
        super().__init__(model)
        self.cap = cap
        self.clients = []

    def release(self, patient):
        self.clients.remove(patient)
        patient.case_manager = None

    def step(self):
        q = self.model.cm_queue
        while len(self.clients) < self.cap and q:
            patient = q.pop(0)  # first come, first served
            patient.waiting = False
            if patient.work_left <= 0:  # resolved by the team meanwhile
                continue
            patient.case_manager = self
            if patient.situation != "hospital":
                patient.situation = "case_managed"
            self.clients.append(patient)
            self.model.allocations += 1


class SwitchMomentModel(mesa.Model):
    def __init__(self, n_patients=10_000, seed=1):
        super().__init__(rng=seed)
        self.day = 0
        self.cm_queue = []
        self.falls = self.admissions = self.switch_moments = self.resolved = 0
        self.days_to_equilibrium = self.unmet_days = self.allocations = 0
        r = self.random
        for _ in range(n_patients):
            u = r.random()
            need = 0 if u < 0.6 else 1 if u < 0.9 else 2 if u < 0.98 else 3
            p = Patient(self, old=r.random() < AGE_65_SHARE, need=need)
            if need >= 2 and r.random() < CAREGIVER_SHARE:
                p.caregiver = Caregiver(self, p)
        n_cm = max(1, round(CM_FTE_PER_100K * n_patients / 1e5))
        for _ in range(n_cm):
            CaseManager(self, CASELOAD_CAP)

    def step(self):
        self.agents_by_type[Caregiver].shuffle_do("step")
        self.agents_by_type[Patient].shuffle_do("step")
        self.agents_by_type[CaseManager].do("step")
        self.day += 1


def run_mesa(n_patients: int = 10_000, days: int = 90, seed: int = 1) -> dict:
    """Patient-days per second of the plain-Mesa model."""
    t0 = time.perf_counter()
    model = SwitchMomentModel(n_patients, seed)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(days):
        model.step()
    wall = time.perf_counter() - t0
    return {
        "patients": n_patients,
        "days": days,
        "build_s": build,
        "wall_s": wall,
        "patient_days_per_s": n_patients * days / wall,
        "switch_moments": model.switch_moments,
        "case_manager_allocations": model.allocations,
        "falls": model.falls,
    }
