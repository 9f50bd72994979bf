"""The model's calendar is defined once (issue 14, item 3): zonesim.days, light enough for the
pipeline to import without numba, re-exported by core.state for the kernels."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "zonesim"


def test_days_per_year_is_defined_once():
    defs = [
        f"{p.relative_to(SRC)}:{n}"
        for p in SRC.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*DAYS_PER_(AGE_)?YEAR\s*(:[^=]*)?=", line)
    ]
    assert sorted(defs) == ["days.py:11", "days.py:12"], defs
    from zonesim import days
    from zonesim.core import state

    assert state.DAYS_PER_YEAR is days.DAYS_PER_YEAR == 365
    assert state.DAYS_PER_AGE_YEAR == days.DAYS_PER_AGE_YEAR == 365.25


def test_the_calendar_imports_without_numba():
    code = "import sys, zonesim.days, zonesim.runs.fields; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
