"""The model's calendar, the one definition of its day counts (no numba: importable anywhere).

``DAYS_PER_YEAR`` (365) is the model's year: yearly rates become daily ones by it, horizons in
years become days, QALYs accrue by it and metrics are per year of it. ``DAYS_PER_AGE_YEAR``
(365.25) is the calendar year of ages (age bands, who is 65+). :mod:`zonesim.core.state`
re-exports both for the kernels.
"""

from __future__ import annotations

DAYS_PER_YEAR = 365
DAYS_PER_AGE_YEAR = 365.25
