"""A lever with a metric, a cost and a random draw is written in four files.

docs/architecture.md ("How to add a lever") holds a worked example as marked code blocks. This
test applies them, exactly as written there, to a copy of the source tree, checks that only four
files changed (the schema, one process module, a preset, the docs), and runs a zone from the copy
in a fresh interpreter under the preset and with the lever off: the lever's metric and cost
appear in the scorecard, and its draw (a purpose of its own) moves nothing else.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
MARK = re.compile(
    r"<!-- lever: (\S+) (before|after|append)(?: '(.*?)')? -->\n```\w+\n(.*?)```", re.S
)
EXPECTED = {
    "src/zonesim/config.py",
    "src/zonesim/core/switching.py",
    "configs/policies/integrated.toml",
    "docs/guide/concepts.md",
}
TREES = ("src", "configs", "docs")
PRESET = "configs/policies/integrated.toml"


def steps() -> list[tuple[str, str, str | None, str]]:
    return [m.groups() for m in MARK.finditer(DOC.read_text(encoding="utf-8"))]


def apply(root: Path, todo) -> None:
    for rel, how, anchor, code in todo:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        if how == "append":
            text = text.rstrip("\n") + ("\n" if rel.endswith(".toml") else "\n\n\n") + code
        else:
            anchor = anchor.replace("\\n", "\n")
            assert text.count(anchor) == 1, f"{rel}: the anchor {anchor!r} is not unique"
            at = text.index(anchor) + (len(anchor) if how == "after" else 0)
            text = text[:at] + code + text[at:]
        path.write_text(text, encoding="utf-8")


def changed(copy: Path) -> set[str]:
    out = set()
    for tree in TREES:
        for path in (copy / tree).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(copy).as_posix()
                original = ROOT / rel
                if not original.exists() or original.read_bytes() != path.read_bytes():
                    out.add(rel)
    return out


_RUN = """
import json, sys
import zonesim
assert zonesim.__file__.startswith(sys.argv[1]), zonesim.__file__
from zonesim import ZoneModel
from zonesim.core import parts
assert parts.purposes()["switching.checkin"] == 1900  # raises if a code is used twice
from zonesim.config import load_policy
from zonesim.metrics import flatten, scorecard
out = {}
for name, overrides in (("preset", None), ("off", {"checkin_share": 0.0})):
    pol = load_policy(sys.argv[2], overrides)  # the copy's preset file
    model = ZoneModel(policy=pol, population=4000, rng=3, agents=False)
    model.run_for(240)
    out[name] = {"share": pol.checkin_share, "card": flatten(scorecard(model))}
print(json.dumps(out))
"""


def test_the_worked_example_has_a_schema_entry_a_kernel_a_preset_and_docs():
    todo = steps()
    assert {rel for rel, *_ in todo} == EXPECTED


@pytest.mark.slow
def test_a_toy_lever_takes_four_files_and_works(tmp_path):
    copy = tmp_path / "tree"
    for tree in TREES:
        shutil.copytree(ROOT / tree, copy / tree, ignore=shutil.ignore_patterns("__pycache__"))
    apply(copy, steps())
    assert changed(copy) == EXPECTED  # four files, nothing else
    env = dict(os.environ, PYTHONPATH=str(copy / "src"), NUMBA_CACHE_DIR=str(tmp_path / "nc"))
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(copy / "src"), str(copy / PRESET)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    on, off = got["preset"]["card"], got["off"]["card"]
    assert got["preset"]["share"] == 0.5 and got["off"]["share"] == 0.0
    # Its metric and its cost, in the scorecard.
    assert on["checkins_per_1000"] > 0.0 and off["checkins_per_1000"] == 0.0
    assert on["cost_checkin_per_capita_eur"] > 0.0 and off["cost_checkin_per_capita_eur"] == 0.0
    per_call = on["cost_checkin_per_capita_eur"] / (on["checkins_per_1000"] / 1000.0)
    assert per_call == pytest.approx(25.0)
    # Its draw has a purpose of its own: nothing else moves but the total cost, by its cost.
    lever = {"checkins_per_1000", "cost_checkin_per_capita_eur", "cost_per_capita_eur"}
    for key in set(on) - lever:
        a, b = on[key], off[key]
        assert a == b or (math.isnan(a) and math.isnan(b)), key
    assert on["cost_per_capita_eur"] - off["cost_per_capita_eur"] == pytest.approx(
        on["cost_checkin_per_capita_eur"]
    )
