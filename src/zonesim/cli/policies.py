"""``zonesim policies``: the built-in policy presets and their levers.

    zonesim policies                      every preset in configs/policies/, with its description
                                          and the levers where it departs from the defaults
    zonesim policies integrated           all levers of one preset (or of a policy TOML file),
                                          with unit and documentation
    zonesim policies --format json ...    the same as JSON

The defaults are those of :class:`~zonesim.config.PolicyConfig` (the status quo). An unknown
preset or a missing or invalid file raises :class:`~zonesim.errors.ZonesimInputError` (from
:func:`~zonesim.config.load_policy`), which ``zonesim`` prints as one line, exiting with code 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

from ..config import PolicyConfig, builtin_names, iter_parameters, load_policy

# Fields of a policy that describe it rather than set a lever.
_LABEL_FIELDS = ("name", "description")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "policies",
        help="list the built-in policy presets, or show the levers of one",
        description=(
            "Without NAME: every built-in policy preset (configs/policies/) with its description "
            "and the levers where it differs from the status quo defaults. With NAME (a preset "
            "name or a policy TOML file): all levers of that policy, with unit and documentation."
        ),
    )
    p.add_argument(
        "policy",
        nargs="?",
        metavar="NAME_OR_FILE",
        help="a preset name (e.g. integrated) or a policy TOML file",
    )
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.policy is None:
        rows = [_summary(name) for name in builtin_names("policies")]
        if args.format == "json":
            json.dump(rows, out, indent=2)
            out.write("\n")
        else:
            out.write(_summary_table(rows))
    else:
        detail = _detail(args.policy)
        if args.format == "json":
            json.dump(detail, out, indent=2)
            out.write("\n")
        else:
            out.write(_detail_table(detail))
    return 0


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def _levers(policy: PolicyConfig) -> list[dict[str, Any]]:
    """Every lever of ``policy`` with its default and metadata."""
    defaults = {path: value for path, _, value in iter_parameters(PolicyConfig())}
    rows = []
    for path, f, value in iter_parameters(policy):
        if path in _LABEL_FIELDS:
            continue
        meta = f.metadata
        row = {
            "lever": path,
            "value": value,
            "default": defaults[path],
            "differs": value != defaults[path],
            "unit": meta.get("unit", "-"),
            "doc": meta.get("doc", ""),
            "source": meta.get("source", ""),
        }
        if meta.get("choices"):
            row["choices"] = list(meta["choices"])
        if meta.get("lo") is not None or meta.get("hi") is not None:
            row["range"] = [meta.get("lo"), meta.get("hi")]
        rows.append(row)
    return rows


def _summary(name: str) -> dict[str, Any]:
    policy = load_policy(name)
    changes = {
        r["lever"]: {"value": r["value"], "default": r["default"], "unit": r["unit"]}
        for r in _levers(policy)
        if r["differs"]
    }
    return {"name": policy.name, "description": policy.description, "changes": changes}


def _detail(name_or_file: str) -> dict[str, Any]:
    policy = load_policy(name_or_file)
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.exists():
        source = str(path)
    else:
        source = f"preset configs/policies/{name_or_file}.toml"
    return {
        "name": policy.name,
        "description": policy.description,
        "source": source,
        "levers": _levers(policy),
    }


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    """A value as it would be written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.12g}" if abs(value) >= 10_000 else f"{value:.12g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _width() -> int:
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def _summary_table(rows: list[dict[str, Any]]) -> str:
    width = _width()
    name_w = max(len(r["name"]) for r in rows) + 2 if rows else 12
    lines = [
        "Built-in policy presets (configs/policies/), with the levers where they differ from",
        "the status quo defaults. `zonesim policies NAME` shows all levers of one.",
        "",
    ]
    indent = " " * name_w
    for r in rows:
        desc = textwrap.wrap(r["description"] or "(no description)", width - name_w) or [""]
        lines.append(f"{r['name']:<{name_w}}{desc[0]}")
        lines.extend(indent + d for d in desc[1:])
        if not r["changes"]:
            lines.append(f"{indent}  (all levers at their defaults)")
        for lever, c in r["changes"].items():
            unit = f" {c['unit']}" if c["unit"] not in ("-", "") else ""
            lines.append(
                f"{indent}  {lever} = {_fmt(c['value'])}{unit}  (default {_fmt(c['default'])})"
            )
        lines.append("")
    return "\n".join(lines)


def _detail_table(detail: dict[str, Any]) -> str:
    width = _width()
    lines = [
        f"policy {detail['name']}  ({detail['source']})",
        *textwrap.wrap(detail["description"] or "(no description)", width),
        "",
    ]
    for r in detail["levers"]:
        mark = "*" if r["differs"] else " "
        unit = f" {r['unit']}" if r["unit"] not in ("-", "") else ""
        default = f"  (default {_fmt(r['default'])})" if r["differs"] else ""
        lines.append(f"{mark} {r['lever']} = {_fmt(r['value'])}{unit}{default}")
        doc = r["doc"]
        if r.get("choices"):
            doc += f" One of: {', '.join(r['choices'])}."
        lines.extend(textwrap.wrap(doc, width, initial_indent=" " * 6, subsequent_indent=" " * 6))
    lines += ["", "* differs from the status quo default"]
    return "\n".join(lines) + "\n"
