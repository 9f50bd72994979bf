"""Process 10, governance: what an adaptive, data-driven care council does each cycle.

The council (:class:`zonesim.CareCouncil`, a Mesa agent) calls :func:`adapt` once per cycle when
its policy is adaptive. It

1. forecasts demand per municipality: new switch moments in the next cycle, by Holt's linear
   exponential smoothing of what it has seen so far (data-driven performance management);
2. weighs the pressure on the flexible capacity it controls: the case-manager pool (hours
   demanded / hours available, the waiting list, and the reports of the information and
   reporting point, each a sign that switch moments go wrong) and each kind of pooled
   specialist (hours demanded / hours available), the case managers' pressure scaled by the
   forecast change in switch moments;
3. moves a step of capacity from the least to the most pressed flexible discipline at equal
   cost (so the organised budget, and hence the envelope, is never exceeded), and, where case
   managers are attached to practices, re-attaches them to the practices whose municipalities
   are forecast to need them most.

Everything acts on the state arrays and the compiled parameters between kernel calls: the
kernels see the new capacity from the next day on. Nothing here is random.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .core import state as S
from .core.case_management import caseload_capacity, hours_caseload

FLEXIBLE = (S.CASE_MANAGER, S.POOLED_DIABETES, S.POOLED_PSYCH_NURSE, S.POOLED_PSYCHOLOGIST)
STEP_SHARE = 0.10  # share of the donor's FTE moved in one cycle
MIN_GAP = 0.15  # pressure difference below which the council leaves capacity where it is
REPORT_WEIGHT = 0.05  # pressure added per report per case-manager FTE


@dataclass
class Forecaster:
    """Holt's linear exponential smoothing, one series per municipality."""

    alpha: float = 0.5
    beta: float = 0.3
    level: np.ndarray | None = None
    trend: np.ndarray | None = None
    history: list[np.ndarray] = field(default_factory=list)

    def update(self, observed: np.ndarray) -> np.ndarray:
        """Feed this cycle's observations; return the forecast for the next cycle (>= 0)."""
        observed = np.asarray(observed, dtype=float)
        self.history.append(observed)
        if self.level is None:
            self.level = observed.copy()
            self.trend = np.zeros_like(observed)
        else:
            prev = self.level
            self.level = self.alpha * observed + (1 - self.alpha) * (self.level + self.trend)
            self.trend = self.beta * (self.level - prev) + (1 - self.beta) * self.trend
        return np.maximum(self.level + self.trend, 0.0)


def switch_moments_by_municipality(model, z: int) -> np.ndarray:
    """Switch moments so far per municipality of zone z (from the patients' own counters)."""
    st = model.state
    lo, hi = int(st.zone["first_patient"][z]), int(st.zone["next_free"][z])
    mun = st.pat.municipality[lo:hi].astype(np.int64)
    n_mun = len(model.layout.municipality_ids)
    counts = np.bincount(mun, weights=st.pat.switch_moments[lo:hi], minlength=n_mun)
    return counts


def unresolved_by_municipality(model, z: int) -> np.ndarray:
    st = model.state
    lo, hi = int(st.zone["first_patient"][z]), int(st.zone["next_free"][z])
    open_ = ((st.pat.flags[lo:hi] & S.F_UNRESOLVED) != 0) & (st.pat.situation[lo:hi] < S.DECEASED)
    mun = st.pat.municipality[lo:hi].astype(np.int64)
    return np.bincount(mun[open_], minlength=len(model.layout.municipality_ids)).astype(float)


def _window(model, z: int, last: dict) -> dict:
    acc = model.state.acc
    now = {
        "demand": acc["demand_hours"][z].copy(),
        "capacity": acc["capacity_hours"][z].copy(),
        "reports": float(acc["reports"][z]),
    }
    if not last:
        return now | {"d_demand": None, "d_capacity": None, "d_reports": 0.0}
    return now | {
        "d_demand": now["demand"] - last["demand"],
        "d_capacity": now["capacity"] - last["capacity"],
        "d_reports": now["reports"] - last["reports"],
    }


def _fte(state, z: int, d: int) -> float:
    prov = state.prov
    lo, hi = int(state.zone["first_provider"][z]), int(state.zone["end_provider"][z])
    sl = slice(lo, hi)
    working = (prov.state[sl] == S.PV_ACTIVE) | (prov.state[sl] == S.PV_SICK)
    return float(prov.fte[sl][(prov.discipline[sl] == d) & working].sum())


def _scale_discipline(model, z: int, d: int, factor: float) -> None:
    """Scale the FTE (and hours) of discipline d's working providers of zone z."""
    st = model.state
    prov = st.prov
    lo, hi = int(st.zone["first_provider"][z]), int(st.zone["end_provider"][z])
    idx = np.arange(lo, hi)
    sel = idx[
        (prov.discipline[lo:hi] == d)
        & ((prov.state[lo:hi] == S.PV_ACTIVE) | (prov.state[lo:hi] == S.PV_SICK))
    ]
    prov.fte[sel] = (prov.fte[sel] * factor).astype(np.float32)
    prov.hours_per_week[sel] = (prov.hours_per_week[sel] * factor).astype(np.float32)
    model.prm[z]["initial_fte"][d] = _fte(st, z, d)  # recruitment now aims at the new level


def _cost_per_fte(model, d: int) -> float:
    costs = model.config.parameters.costs
    return costs.case_manager_fte_year if d == S.CASE_MANAGER else costs.pooled_specialist_fte_year


def pressures(model, z: int, window: dict) -> dict[int, float]:
    """Pressure on each flexible discipline with capacity in zone z (NaN-free)."""
    out: dict[int, float] = {}
    st = model.state
    for d in FLEXIBLE:
        fte = _fte(st, z, d)
        if fte <= 0:
            continue
        if window["d_demand"] is None or window["d_capacity"][d] <= 0:
            util = 1.0
        else:
            util = window["d_demand"][d] / window["d_capacity"][d]
        if d == S.CASE_MANAGER:
            hours = hours_caseload(model.config)
            cap = caseload_capacity(model.policies[z].caseload_cap, fte, hours)
            util += float(st.zone["cm_queue_len"][z]) / max(cap, 1.0)
            util += REPORT_WEIGHT * window["d_reports"] / fte
        out[d] = float(util)
    return out


def adapt(council) -> dict:
    """One adaptive cycle of ``council`` (a :class:`zonesim.CareCouncil`); returns the decision
    it took (also appended to ``council.decisions``)."""
    model = council.model
    z = council.zone_index
    state = model.state
    if not hasattr(council, "forecaster"):
        council.forecaster = Forecaster()
        council._cum_switch = np.zeros(len(model.layout.municipality_ids))
        council._gov_last = {}
    cum = switch_moments_by_municipality(model, z)
    observed = np.maximum(cum - council._cum_switch, 0.0)
    council._cum_switch = cum
    forecast = council.forecaster.update(observed)
    window = _window(model, z, council._gov_last)
    council._gov_last = window
    press = pressures(model, z, window)
    observed_total = float(observed.sum())
    growth = float(forecast.sum()) / observed_total if observed_total > 0 else 1.0
    if S.CASE_MANAGER in press:
        press[S.CASE_MANAGER] *= growth
    decision = {
        "day": int(state.day[0]),
        "forecast_switch_moments": float(forecast.sum()),
        "forecast_by_municipality": forecast.tolist(),
        "pressure": {S.DISCIPLINE_NAMES[d]: p for d, p in press.items()},
        "moved_fte": 0.0,
        "from": None,
        "to": None,
    }
    if len(press) >= 2:
        hi_d = max(press, key=press.get)
        lo_d = min(press, key=press.get)
        if press[hi_d] - press[lo_d] > MIN_GAP:
            donor_fte = _fte(state, z, lo_d)
            moved = STEP_SHARE * donor_fte
            euros = moved * _cost_per_fte(model, lo_d)
            gained = euros / _cost_per_fte(model, hi_d)
            recv_fte = _fte(state, z, hi_d)
            _scale_discipline(model, z, lo_d, 1.0 - STEP_SHARE)
            _scale_discipline(model, z, hi_d, (recv_fte + gained) / recv_fte)
            decision.update(
                moved_fte=moved,
                gained_fte=gained,
                **{"from": S.DISCIPLINE_NAMES[lo_d], "to": S.DISCIPLINE_NAMES[hi_d]},
            )
    if model.policies[z].cm_organisation == "practice_attached":
        decision["reattached"] = reattach_case_managers(model, z, forecast)
    council.decisions.append(decision)
    return decision


def reattach_case_managers(model, z: int, forecast: np.ndarray) -> int:
    """Attach each case manager to the practice whose municipality is forecast to need case
    management most, per case manager already attached there. Returns how many moved."""
    st = model.state
    prov, prac = st.prov, st.prac
    lo, hi = int(st.zone["first_provider"][z]), int(st.zone["end_provider"][z])
    cms = [
        j
        for j in range(lo, hi)
        if prov.discipline[j] == S.CASE_MANAGER and prov.state[j] in (S.PV_ACTIVE, S.PV_SICK)
    ]
    p_lo, p_hi = int(st.zone["first_practice"][z]), int(st.zone["end_practice"][z])
    practices = np.arange(p_lo, p_hi)
    if not cms or practices.size == 0:
        return 0
    mun = prac.municipality[practices].astype(np.int64)
    # A practice's share of its municipality's forecast, by list size.
    lists = prac.list_size[practices].astype(float)
    mun_list = np.bincount(mun, weights=lists, minlength=forecast.size)
    need = forecast[mun] * lists / np.maximum(mun_list[mun], 1.0)
    assigned = np.zeros(practices.size)
    moved = 0
    for j in cms:
        k = int(np.argmax(need / (1.0 + assigned)))
        assigned[k] += 1
        new = int(practices[k])
        if prov.practice[j] != new:
            # Clients already held stay with their case manager until they are handed back.
            prov.practice[j] = new
            moved += 1
    return moved
