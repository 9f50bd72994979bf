"""Generate the tables of docs/odd.md from the code, so that they stay true.

    python scripts/gen_param_tables.py            # rewrite the generated blocks of docs/odd.md
    python scripts/gen_param_tables.py --check    # exit 1 when docs/odd.md is out of date

docs/odd.md holds blocks between ``<!-- BEGIN GENERATED: NAME -->`` and
``<!-- END GENERATED: NAME -->``; everything outside them is prose and left alone. Blocks:

``params:GROUP``
    one table per group of the configuration schema (``scenario``, ``zone``,
    ``parameters.demography`` ... ``parameters.costs``, ``policy``): every parameter with its
    dotted path, default, unit, bounds, source (MODEL.md section 6) or the flag that it is an
    assumption, and its documentation (:func:`zonesim.config.iter_parameters`).
``presets``
    the levers each built-in policy preset sets (``configs/policies/*.toml``).
``population-assumptions``
    the assumptions of population synthesis (the table in :mod:`zonesim.population`'s
    docstring).
``parameter-summary``
    how many parameters there are, how many have a published source.

Every group of the schema must have its block in the file (``--check`` says which is missing).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "odd.md"

BLOCK_RE = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[^ ]+) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.S,
)

ASSUMPTION_FLAG = "**assumption**"
LABEL_FLAG = "label"  # free text (names, descriptions, paths): not a model quantity


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def fmt_number(x: float | int) -> str:
    """A number as a reader (and TOML) would write it: 110000, 0.25, 1e-06; 8200.0 stays 8200.0
    (a float)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{x:.1f}"
    return repr(float(x))


def fmt_value(v: Any) -> str:
    """A default in TOML notation: numbers, "strings", true/false, [lists]."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    return fmt_number(v)


def fmt_bound(x: float) -> str:
    if float(x).is_integer():
        return str(int(x)) if abs(x) < 1e5 else f"{x:g}"
    return f"{x:g}"


def fmt_range(meta: dict) -> str:
    choices = meta.get("choices")
    if choices:
        return " \\| ".join(f"`{c}`" for c in choices)
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return ""
    low = fmt_bound(lo) if lo is not None else "-inf"
    high = fmt_bound(hi) if hi is not None else "inf"
    return f"[{low}, {high}]"


def cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def is_label(f: dataclasses.Field, value: Any) -> bool:
    """Free text (a name, a description, a path): documented, but not a model quantity."""
    return isinstance(value, str) and not f.metadata.get("choices")


def source_cell(f: dataclasses.Field, value: Any, path: str = "") -> str:
    from zonesim.config import fitted_before, is_assumption

    if is_label(f, value):
        return LABEL_FLAG
    if is_assumption(f):
        fitted = fitted_before(path)
        if fitted:
            was = ", ".join(f"{k[len(path) :]} {v:g}".strip() for k, v in fitted)
            return f"{ASSUMPTION_FLAG}, fitted (docs/data/fit; was {was})"
        return ASSUMPTION_FLAG
    return cell(f.metadata["source"])


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------


def parameter_rows(group: str | None = None) -> list[tuple[str, dataclasses.Field, Any]]:
    """``(dotted path, field, default)`` of the configuration and of the policy levers."""
    from zonesim.config import PolicyConfig, iter_parameters

    rows = list(iter_parameters())
    rows += list(iter_parameters(PolicyConfig(), "policy."))
    if group is None:
        return rows
    return [r for r in rows if r[0].rsplit(".", 1)[0] == group]


def groups() -> list[str]:
    """The groups of the schema in order: scenario, zone, parameters.*, policy."""
    out: list[str] = []
    for path, _f, _v in parameter_rows():
        g = path.rsplit(".", 1)[0]
        if g not in out:
            out.append(g)
    return out


def group_doc(group: str) -> str:
    """The docstring's first line of the dataclass behind a group."""
    from zonesim import config as C

    obj: Any
    if group == "policy":
        obj = C.PolicyConfig()
    else:
        obj = C.Config()
        for part in group.split("."):
            obj = getattr(obj, part)
    return (type(obj).__doc__ or "").strip().splitlines()[0]


def params_table(group: str) -> str:
    rows = parameter_rows(group)
    if not rows:
        raise SystemExit(f"gen_param_tables: no parameters in group {group!r}")
    lines = [
        f"*{cell(group_doc(group))}* ({len(rows)} parameters, `{group}.*`)",
        "",
        "| parameter | default | unit | range | source | description |",
        "|---|---|---|---|---|---|",
    ]
    for path, f, v in rows:
        m = f.metadata
        lines.append(
            f"| `{path}` | `{fmt_value(v)}` | {cell(m.get('unit', ''))} | {fmt_range(m)} | "
            f"{source_cell(f, v, path)} | {cell(m.get('doc', ''))} |"
        )
    return "\n".join(lines)


def presets_table() -> str:
    from zonesim.config import PolicyConfig, load_policy
    from zonesim.policies import preset_names

    names = preset_names()
    pols = {n: load_policy(n) for n in names}
    default = PolicyConfig()
    levers = [
        f.name
        for f in dataclasses.fields(PolicyConfig)
        if f.name not in ("name", "description")
        and any(getattr(p, f.name) != getattr(default, f.name) for p in pols.values())
    ]
    lines = [
        "| lever | default | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for lever in levers:
        cells = []
        for n in names:
            v = getattr(pols[n], lever)
            cells.append(f"**{fmt_value(v)}**" if v != getattr(default, lever) else "")
        lines.append(
            f"| `{lever}` | `{fmt_value(getattr(default, lever))}` | " + " | ".join(cells) + " |"
        )
    lines.append("")
    lines.append("What each preset is for (its `description`):")
    lines.append("")
    for n in names:
        lines.append(f"- `{n}`: {pols[n].description}")
    return "\n".join(lines)


def _rst_inline(text: str) -> str:
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    text = re.sub(r":(?:func|class|mod|meth|attr|data):`~?([^`]+)`", r"`\1`", text)
    return text


def rst_simple_table(doc: str) -> list[tuple[str, str]]:
    """The rows of the first two-column reStructuredText simple table in ``doc``."""
    lines = doc.splitlines()
    borders = [i for i, line in enumerate(lines) if re.match(r"^\s*=+\s+=+\s*$", line)]
    if len(borders) < 3:
        raise SystemExit("gen_param_tables: no two-column table in zonesim.population's docstring")
    top, head, bottom = borders[:3]
    border = lines[top]
    indent = len(border) - len(border.lstrip())
    second = border.index("=", border.index(" ", indent))
    rows: list[list[str]] = []
    for line in lines[head + 1 : bottom]:
        if not line.strip():
            continue
        first, rest = line[indent:second].strip(), line[second:].strip()
        if first:
            rows.append([first, rest])
        elif rows:
            rows[-1][1] = f"{rows[-1][1]} {rest}".strip()
    return [(_rst_inline(a), _rst_inline(b)) for a, b in rows]


def population_table() -> str:
    import zonesim.population as pop

    rows = rst_simple_table(pop.__doc__ or "")
    lines = ["| item | assumption |", "|---|---|"]
    lines += [f"| {cell(a)} | {cell(b)} |" for a, b in rows]
    return "\n".join(lines)


def summary() -> str:
    from zonesim.config import is_assumption

    rows = parameter_rows()
    model = [(p, f, v) for p, f, v in rows if not is_label(f, v)]
    sourced = [p for p, f, v in model if not is_assumption(f)]
    levers = [p for p, _f, _v in rows if p.startswith("policy.")]
    return (
        f"The schema has **{len(rows)}** entries: {len(rows) - len(levers)} configuration "
        f"parameters and {len(levers)} policy levers. Of the {len(model)} model quantities "
        f"(the {len(rows) - len(model)} free-text labels left aside), **{len(sourced)}** take "
        f"their default from a published figure and **{len(model) - len(sourced)}** are "
        "flagged **assumption**."
    )


def render_block(name: str) -> str:
    if name.startswith("params:"):
        return params_table(name.split(":", 1)[1])
    if name == "presets":
        return presets_table()
    if name == "population-assumptions":
        return population_table()
    if name == "parameter-summary":
        return summary()
    raise SystemExit(f"gen_param_tables: unknown generated block {name!r} in {ODD}")


def render(text: str) -> str:
    """``text`` with every generated block rewritten from the code."""

    def sub(m: re.Match) -> str:
        body = render_block(m.group("name"))
        return f"{m.group(1)}{body}\n{m.group(4)}"

    return BLOCK_RE.sub(sub, text)


def missing_blocks(text: str) -> list[str]:
    present = {m.group("name") for m in BLOCK_RE.finditer(text)}
    wanted = [f"params:{g}" for g in groups()]
    wanted += ["presets", "population-assumptions", "parameter-summary"]
    return [w for w in wanted if w not in present]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 when out of date")
    ap.add_argument("--file", type=Path, default=ODD, help="the ODD page (default docs/odd.md)")
    args = ap.parse_args(argv)
    text = args.file.read_text(encoding="utf-8")
    missing = missing_blocks(text)
    if missing:
        print(
            f"gen_param_tables: {args.file} lacks the generated blocks: {', '.join(missing)} "
            "(add '<!-- BEGIN GENERATED: NAME -->' / '<!-- END GENERATED: NAME -->' pairs)",
            file=sys.stderr,
        )
        return 1
    new = render(text)
    if new == text:
        return 0
    if args.check:
        print(
            f"gen_param_tables: {args.file} is out of date with the code; run "
            "python scripts/gen_param_tables.py",
            file=sys.stderr,
        )
        return 1
    args.file.write_text(new, encoding="utf-8")
    print(f"gen_param_tables: rewrote the generated blocks of {args.file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
