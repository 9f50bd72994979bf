"""A griffe extension for the API reference: zonesim's docstrings, written in a light
reStructuredText / numpydoc style, rendered as Markdown by mkdocstrings.

zonesim's docstrings use Sphinx roles (``:class:`~zonesim.config.Config```), double backticks,
underlined section headings (``Parameters`` over a line of dashes) with ``name: description``
items, and reStructuredText simple tables. mkdocstrings renders docstrings as Markdown, where
those come out as run-together paragraphs. This extension rewrites each docstring once, after
griffe has loaded it:

- roles become code spans (``:func:`~a.b.c``` -> ```c```; without ``~`` the full path);
- double backticks become single ones;
- an underlined heading becomes a bold line; inside ``Parameters``, ``Attributes``, ``Returns``,
  ``Raises``, ``Yields`` and ``Other parameters`` sections, each ``name: description`` item
  (continued on indented lines) becomes a list item ``- `name`: description``;
- a simple table (columns marked by ``====  ====`` borders) becomes a Markdown table;
- a literal block introduced by ``::`` keeps its indentation (a Markdown code block).

mkdocs.yml loads it with ``extensions: [scripts/griffe_rst_docstrings.py]`` and
``docstring_style: null`` (the Markdown is rendered as it is).
"""

from __future__ import annotations

import re

import griffe

ROLE_RE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc|const):`(~?)([^`]+)`")
DOUBLE_TICKS_RE = re.compile(r"``([^`]+?)``")
ITEM_SECTIONS = {
    "parameters",
    "attributes",
    "returns",
    "raises",
    "yields",
    "other parameters",
    "keyword arguments",
}
ITEM_RE = re.compile(r"^([A-Za-z_*][\w.*,\s()\[\]]*?):\s+(.*)$")
BORDER_RE = re.compile(r"^(\s*)(=+)(\s+=+)+\s*$")


def _inline(text: str) -> str:
    def role(m: re.Match) -> str:
        target = m.group(2)
        if m.group(1):
            target = target.rsplit(".", 1)[-1]
        return f"`{target}`"

    text = ROLE_RE.sub(role, text)
    return DOUBLE_TICKS_RE.sub(r"`\1`", text)


def _is_underline(line: str, title: str) -> bool:
    s = line.strip()
    return bool(s) and len(set(s)) == 1 and s[0] in "-=~^" and len(s) >= max(3, len(title.strip()))


def _table(lines: list[str]) -> list[str]:
    """A reStructuredText simple table (its lines, borders included) as Markdown."""
    border = lines[0]
    starts = [m.start() for m in re.finditer(r"=+", border)]
    bounds = [*starts[1:], None]
    rows: list[list[str]] = []
    n_borders = 0
    header: list[str] | None = None
    for line in lines:
        if BORDER_RE.match(line):
            n_borders += 1
            if n_borders == 2 and rows:  # the rows so far were the header
                header = [" ".join(c.split()) for c in rows[0]]
                rows = []
            continue
        if not line.strip():
            continue
        cells = [
            line[a:b].strip() if a < len(line) else "" for a, b in zip(starts, bounds, strict=True)
        ]
        if cells[0] or not rows:
            rows.append(cells)
        else:  # a continuation line
            for i, c in enumerate(cells):
                if c:
                    rows[-1][i] = f"{rows[-1][i]} {c}".strip()
    if header is None:
        header = [""] * len(starts)
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(starts)]
    for r in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    return out


def convert(doc: str) -> str:
    """The Markdown rendering of one docstring (see the module docstring)."""
    lines = doc.splitlines()
    out: list[str] = []
    section: str | None = None
    item_indent = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        # an underlined heading
        if line.strip() and _is_underline(nxt, line) and not BORDER_RE.match(nxt):
            title = line.strip()
            section = title.lower() if title.lower() in ITEM_SECTIONS else None
            item_indent = len(nxt) - len(nxt.lstrip())
            if out and out[-1].strip():
                out.append("")
            out.append(f"**{_inline(title)}**")
            out.append("")
            i += 2
            continue
        # a simple table
        if BORDER_RE.match(line):
            j = i + 1
            borders = 1
            while j < len(lines) and borders < 3:
                if BORDER_RE.match(lines[j]):
                    borders += 1
                j += 1
            if borders == 3:
                if out and out[-1].strip():
                    out.append("")
                out.extend(_inline(t) for t in _table(lines[i:j]))
                out.append("")
                i = j
                continue
        # items of a Parameters-like section
        if section is not None:
            if not line.strip():
                out.append("")
                i += 1
                continue
            indent = len(line) - len(line.lstrip())
            m = ITEM_RE.match(line.strip())
            if indent <= item_indent and m:
                out.append(f"- `{m.group(1).strip()}`: {_inline(m.group(2))}")
            elif indent <= item_indent and (not out or not out[-1].strip()):
                section = None  # prose after the items and a blank line
                out.append(_inline(line))
            else:
                out.append("  " + _inline(line.strip()))
            i += 1
            continue
        # a literal block announced by '::' stays as it is (indented: a code block)
        if line.rstrip().endswith("::"):
            out.append(_inline(line.rstrip()[:-1]))
            base = len(line) - len(line.lstrip())
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > base
            ):
                out.append(lines[i])
                i += 1
            continue
        out.append(_inline(line))
        i += 1
    return "\n".join(out)


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring of the loaded objects as Markdown."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
