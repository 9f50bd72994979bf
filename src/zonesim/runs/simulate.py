"""The simulation of one run of a study: warm up (once per replicate), branch, measure by year.

A run of a study is one policy x one replicate (x one design point). Every policy of a replicate
starts from the same warmed-up state:

1. **Warm-up** (:func:`warm_model`): the zone is built with the replicate's seed and simulated
   for ``warmup_days`` days under the *warm-up policy* (default ``status_quo``), whatever policy
   the run compares. The result is saved as a checkpoint (:mod:`zonesim.checkpoint`) in the
   study's folder, once per replicate (and design point), and every run of that replicate loads
   it; or the study starts from a checkpoint the user gives (``checkpoint = "file.npz"``), and
   the replicate's seed only drives what happens after it.
2. **Branch** (:func:`zonesim.checkpoint.branch`): the run's policy takes over the warmed-up
   state; measurement starts here.
3. **Measure**: the horizon is simulated year by year; the run keeps the scorecard of each
   measured year, of the whole horizon, and the monthly series.

:func:`run_replicate` does all three in memory for one policy (the Python face of a run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import WARMUP_DAYS
from ..errors import ZonesimInputError
from .fields import DAYS_PER_YEAR

__all__ = ["RunOutput", "measure", "run_replicate", "warm_model", "warm_up"]


def warm_up() -> None:
    """Get this process ready for runs: load (or compile) the numba kernels with a tiny
    simulation (200 inhabitants, 2 days) and import what storing a run needs (pyarrow).
    Later runs in the process then start at full speed (executors call it in each worker)."""
    import warnings

    import pyarrow.parquet  # noqa: F401 - imported once here, not in the first run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_replicate(None, "status_quo", 1, years=2 / DAYS_PER_YEAR, warmup_days=0, population=200)


def warm_model(
    config: Any,
    seed: int,
    *,
    warmup_days: int,
    horizon_years: float,
    warmup_policy: Any = "status_quo",
    checkpoint: str | Path | None = None,
    population: int | None = None,
):
    """The replicate's model at the end of its warm-up (measurement not yet reset).

    Without ``checkpoint``: built with ``seed`` and laid out for the warm-up plus
    ``horizon_years``, then run ``warmup_days`` days under ``warmup_policy``. With a checkpoint
    file: that model as saved (``config``, ``seed`` and the warm-up are the checkpoint's; the
    run's seed is given to the branch).
    """
    from ..model import ZoneModel

    if checkpoint is not None:
        return ZoneModel.load(checkpoint, agents=False)
    return ZoneModel(
        config,
        policy=warmup_policy,
        warmup_policy=warmup_policy,  # the warm-up's own policy throughout (no branch inside)
        population=population,
        rng=seed,
        years=horizon_years,
        warmup_days=warmup_days,  # simulated here; the model's time 0 is the end of it
        agents=False,  # the scorecard reads the arrays; no Mesa agents needed
    )


class RunOutput(dict):
    """What a run measured: ``card`` (the flat scorecard of the whole horizon), ``years``
    (one flat scorecard per complete measured year, year 1 first) and ``timeseries`` (the
    monthly series of the horizon, a DataFrame)."""

    @property
    def card(self) -> dict[str, float]:
        return self["card"]

    @property
    def years(self) -> list[dict[str, float]]:
        return self["years"]

    @property
    def timeseries(self):
        return self["timeseries"]


def measure(model, years: float) -> RunOutput:
    """Measure ``model`` from now for ``years`` years: the scorecard of each complete year and
    of the whole horizon, and the monthly series. The measurement window starts now."""
    from ..metrics import acc_window, compute_scorecard, flatten
    from ..model import month_end_day

    total_days = round(years * DAYS_PER_YEAR)
    if total_days < 1:
        raise ZonesimInputError(
            "expected at least one simulated day", source="<argument>", field="years", value=years
        )
    model.reset_measurement()
    start = model.time
    # Month ends and year ends of the measured window (the model's own month-end snapshots
    # count from its day 0, so we take our own).
    ends = []
    m = 1
    while month_end_day(m) < total_days:
        ends.append(month_end_day(m))
        m += 1
    ends.append(total_days)
    year_ends = {y * DAYS_PER_YEAR for y in range(1, total_days // DAYS_PER_YEAR + 1)}
    marks = sorted(set(ends) | year_ends)
    snaps, cards = [], []
    prev_acc = model.acc_start
    zones = list(range(model.state.n_zones))
    for end in marks:
        model.run_until(float(start + end))
        if end in ends:
            snaps.append((int(model.state.day[0]), model.state.acc.copy()))
        if end in year_ends:
            acc = model.state.acc.copy()
            card = compute_scorecard(
                acc_window(acc, prev_acc, zones),
                model.state,
                model.config,
                model.policies,
                zones,
                int(model.state.day[0]),
            )
            cards.append(flatten(card))
            prev_acc = acc
    out = RunOutput(card=flatten(model.scorecard()), years=cards)
    model.snapshots = snaps
    out["timeseries"] = model.timeseries()
    return out


def run_replicate(
    config: Any,
    policy: Any,
    seed: int,
    years: float = 1.0,
    warmup_days: int = WARMUP_DAYS,
    population: int | None = None,
    *,
    warmup_policy: Any = "status_quo",
) -> tuple[dict[str, float], Any]:
    """Simulate one zone under one policy: warm up under ``warmup_policy``, branch, measure.

    ``config``: a :class:`~zonesim.config.Config` (scenario applied), a TOML path or None;
    ``policy``: a :class:`~zonesim.config.PolicyConfig` or a preset name; ``seed``: the run seed;
    ``years``: measured years after ``warmup_days`` days of warm-up; ``population`` overrides
    ``zone.population``.

    Returns ``(scorecard, timeseries)``: the flat scorecard (``{metric: value}``, see
    :func:`zonesim.metrics.flatten`) of the measured window, and its monthly time series. A pure
    function of its arguments (the same arguments give the same numbers in any process).
    Studies run the same steps with the warm-up shared by every policy of a replicate
    (:mod:`zonesim.runs`).
    """
    model = warm_model(
        config,
        seed,
        warmup_days=warmup_days,
        horizon_years=years,
        warmup_policy=warmup_policy,
        population=population,
    )
    out = measure(model.branch(policy), years)
    return out.card, out.timeseries
