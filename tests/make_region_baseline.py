"""Write tests/data/region_baseline.json from the engine as it is (see test_region_parallel.py).

Only after an intended change of model behaviour, never after a speed-up."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from test_region_parallel import REGION_BASELINE, compute

if __name__ == "__main__":
    data = compute()
    REGION_BASELINE.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
