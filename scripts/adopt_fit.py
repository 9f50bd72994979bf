"""Adopt a fit's values as the defaults of the fitted assumptions (issue 15).

    python scripts/adopt_fit.py                         # docs/data/fit/fitted.json
    python scripts/adopt_fit.py --fit results/fit/default/fitted.json --check

Rewrites, in src/zonesim/config.py, the default of every parameter the fit estimates to its
fitted value rounded to three significant figures (a list parameter: only the fitted element),
and records in ``FITTED_DEFAULTS`` the value each had before it was first fitted. The
parameters stay flagged assumptions. ``--check`` only says whether the defaults are the fit's
(exit code 1 if not); tests/test_fit.py checks the same for the shipped fit. After adopting, a
model change: regenerate the stored baselines and rerun the long-run checks
(docs/guide/calibration.md, "The shipped fit is the default").
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from math import floor, log10
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "src" / "zonesim" / "config.py"
FIT = ROOT / "docs" / "data" / "fit" / "fitted.json"


def rounded(x: float) -> float:
    """``x`` to three significant figures."""
    return x if x == 0 else round(x, 2 - floor(log10(abs(x))))


def _default_span(text: str, name: str) -> tuple[int, int]:
    """Start and end of the default (the first argument of ``P(``) of field ``name``."""
    hits = [m.start() for m in re.finditer(rf"\n    {re.escape(name)}: ", text)]
    if len(hits) != 1:
        raise SystemExit(f"adopt_fit: field {name!r} found {len(hits)} times in {CONFIG}")
    p = text.index("P(", hits[0]) + 2
    depth, q = 0, p
    while depth or text[q] != ",":  # the first comma outside brackets ends the default
        if text[q] in "([":
            depth += 1
        elif text[q] in ")]":
            depth -= 1
        q += 1
    return p, q


def adopt(fitted: dict[str, float], text: str) -> tuple[str, dict[str, float]]:
    """``text`` with the fitted defaults, and the value each key had before."""
    before: dict[str, float] = {}
    for key, value in fitted.items():
        m = re.match(r"(\w+)(?:\[(\d+)\])?$", key.rsplit(".", 1)[-1])
        name, element = m.group(1), m.group(2)
        p, q = _default_span(text, name)
        old = text[p:q]
        indent = old[: len(old) - len(old.lstrip())]
        if element is None:
            before[key] = float(ast.literal_eval(old.strip()))
            new = indent + repr(rounded(value))
        else:
            items = list(ast.literal_eval(old.strip()))
            before[key] = float(items[int(element)])
            items[int(element)] = rounded(value)
            new = indent + "(" + ", ".join(repr(x) for x in items) + ")"
        text = text[:p] + new + text[q:]
    return text, before


def _with_record(text: str, before: dict[str, float]) -> str:
    """``FITTED_DEFAULTS`` rewritten: the earliest known value before the fit of each key."""
    start = text.index("FITTED_DEFAULTS: dict[str, float] = {")
    end = text.index("\n}\n", start) + 3
    known = ast.literal_eval(text[text.index("{", start) : end - 1])
    merged = {k: known.get(k, v) for k, v in before.items()}
    body = "".join(f'    "{k}": {v!r},\n' for k, v in merged.items())
    return text[:start] + "FITTED_DEFAULTS: dict[str, float] = {\n" + body + "}\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--fit", type=Path, default=FIT, help="a fitted.json (default: the shipped fit)"
    )
    ap.add_argument("--check", action="store_true", help="only say whether they are adopted")
    args = ap.parse_args(argv)
    fitted = {k: v["value"] for k, v in json.loads(args.fit.read_text())["parameters"].items()}
    text = CONFIG.read_text()
    new, before = adopt(fitted, text)
    if args.check:
        same = {k for k, v in before.items() if abs(v - rounded(fitted[k])) <= 1e-12 * abs(v)}
        missing = sorted(set(fitted) - same)
        print(f"adopt_fit: {len(same)} of {len(fitted)} defaults are the fit's", file=sys.stderr)
        for k in missing:
            print(f"  {k}: default {before[k]!r}, fitted {rounded(fitted[k])!r}", file=sys.stderr)
        return 1 if missing else 0
    CONFIG.write_text(_with_record(new, before))
    print(f"adopt_fit: {len(fitted)} defaults from {args.fit} -> {CONFIG}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
