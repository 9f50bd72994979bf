"""Calibration: the default scenario against the published figures of MODEL.md section 6.

Each target names the scorecard metric, the published value, the tolerance we hold ourselves to
and the source. :func:`calibrate` runs the built-in default zone (after a warm-up, so queues and
episodes are in their steady state) and reports simulated against target.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import config as C


@dataclass(frozen=True)
class Target:
    metric: str  # scorecard metric (flattened name)
    value: float
    tolerance: float  # absolute
    source: str
    note: str = ""

    def check(self, simulated: float) -> bool:
        return abs(simulated - self.value) <= self.tolerance


TARGETS: tuple[Target, ...] = (
    Target("gp_contacts_per_capita", 5.1, 0.4, C.SRC_GP_CONTACTS),
    Target("gp_contact_any_share", 0.86, 0.04, C.SRC_GP_CONTACTS),
    Target(
        "referral_share_of_gp_contacts",
        0.07,
        0.02,
        C.SRC_NIVEL,
        "the GP's referral behaviour per contact",
    ),
    Target("specialist_self_initiated_share", 0.63, 0.06, C.SRC_SPECIALIST),
    Target("specialist_wait_over_14d_share", 0.48, 0.10, C.SRC_SPECIALIST),
    Target("hospital_admission_share", 0.11, 0.015, C.SRC_HOSP),
    Target("mean_length_of_stay_days", 6.4, 0.6, C.SRC_HOSP),
    Target("falls_65plus_share", 0.33, 0.04, C.SRC_FALLS),
    Target("limited_health_literacy_share", 0.29, 0.02, C.SRC_HL),
    Target("chronic_share_15plus", 0.29, 0.04, C.SRC_CHRONIC),
    Target("share_65plus", 0.21, 0.01, C.SRC_65),
    Target(
        "cm_referrals_share_of_chronic",
        0.03,
        0.02,
        C.SRC_KAISER,
        "chronic patients referred to case management per year (1-5%)",
    ),
    Target("caseload_per_cm_fte", 57.5, 17.5, C.SRC_AHRQ, "caseload 40-75 per case manager"),
    Target("caregiver_overloaded_share", 0.09, 0.04, C.SRC_CAREGIVER),
    Target("gp_fte_per_100k", 74.0, 4.0, C.SRC_GP_FTE),
    Target("cost_gp_per_capita_eur", 175.0, 30.0, C.SRC_RIZIV, "about 5.1 contacts at 32-46 euro"),
)

WARMUP_DAYS = C.WARMUP_DAYS  # the one default, kept here for existing imports


def calibrate(
    config=None,
    *,
    seed: int = 2020,
    years: float = 1.0,
    population: int | None = None,
    progress: bool = False,
):
    """Run the default zone (status quo) and compare with :data:`TARGETS`.

    Returns a pandas DataFrame: metric, target, tolerance, simulated, within, source.
    """
    import pandas as pd

    from .metrics import flatten
    from .model import ZoneModel

    model = ZoneModel(
        config,
        policy="status_quo",
        rng=seed,
        population=population,
        years=years,
        warmup_days=WARMUP_DAYS,
        agents=False,
    )
    model.run_for(round(years * 365))
    card = flatten(model.scorecard())
    rows = []
    for t in TARGETS:
        sim = card.get(t.metric, float("nan"))
        rows.append(
            {
                "metric": t.metric,
                "target": t.value,
                "tolerance": t.tolerance,
                "simulated": sim,
                "within": bool(t.check(sim)),
                "source": t.source,
                "note": t.note,
            }
        )
    return pd.DataFrame(rows)
