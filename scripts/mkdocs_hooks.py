"""MkDocs hooks of the zonesim documentation (mkdocs.yml: ``hooks: [scripts/mkdocs_hooks.py]``).

Optional pages: ``extra.optional_pages`` in mkdocs.yml lists pages that other people write
(e.g. sweeps.md, dashboard.md). Until such a page exists, it is left out of the navigation and a
Markdown link to it becomes its plain text with "(being written)", so the strict build passes;
once the page exists, nothing is changed.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.zonesim")

_missing: set[str] = set()
LINK_RE = re.compile(r"\[([^\]]+)\]\(([^)#\s]+)(#[^)\s]*)?\)")


def _prune(nav, missing: set[str]):
    """The navigation without entries pointing at missing pages."""
    if isinstance(nav, list):
        out = [_prune(item, missing) for item in nav]
        return [item for item in out if item is not None]
    if isinstance(nav, dict):
        out = {}
        for key, value in nav.items():
            value = _prune(value, missing)
            if value is not None and value != []:
                out[key] = value
        return out or None
    if isinstance(nav, str) and nav in missing:
        return None
    return nav


def on_config(config, **kwargs):
    docs = Path(config["docs_dir"])
    optional = (config.get("extra") or {}).get("optional_pages") or []
    _missing.clear()
    _missing.update(p for p in optional if not (docs / p).is_file())
    if _missing:
        log.info("optional pages not written yet (left out): %s", ", ".join(sorted(_missing)))
        if config.get("nav"):
            config["nav"] = _prune(config["nav"], _missing)
    return config


def on_page_markdown(markdown, page, **kwargs):
    if not _missing:
        return markdown
    here = posixpath.dirname(page.file.src_uri)

    def sub(m: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(here, m.group(2)))
        if target in _missing:
            return f"{m.group(1)} (being written)"
        return m.group(0)

    return LINK_RE.sub(sub, markdown)
