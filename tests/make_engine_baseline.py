"""Regenerate tests/data/engine_baseline.json after an intended change of model behaviour."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from engine_helpers import digest
from test_engine import BASELINE, baseline_case

COUNTS = (
    "deaths",
    "entrants",
    "gp_contacts",
    "admissions",
    "avoidable_admissions",
    "switch_moments",
    "switch_resolved",
    "referrals",
    "specialist_visits",
    "emergency_visits",
    "cm_allocations",
    "falls",
    "qaly",
    "unmet_need_days",
    "hospital_days",
    "attrition_fte",
)

if __name__ == "__main__":
    state, w = baseline_case()
    data = {"digest": digest(state), "counts": {k: float(np.sum(w[k])) for k in COUNTS}}
    BASELINE.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
