"""The numba engine: one module per group of MODEL.md processes (see core/day.py for the order).

numba's on-disk cache keys a compiled function on its own source file only, so editing a kernel
that another kernel calls could leave the caller's cached machine code stale. The cache folder is
therefore keyed by a hash of every source file of this package: any change to the core compiles
afresh. ``NUMBA_CACHE_DIR`` (e.g. local scratch on a cluster) is honoured as the parent folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _source_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _configure_cache() -> str:
    import numba

    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(Path.home(), ".cache")), "zonesim", "numba"
    )
    folder = os.path.join(base, f"core-{_source_hash()}")
    numba.config.CACHE_DIR = folder
    return folder


CACHE_DIR = _configure_cache()
