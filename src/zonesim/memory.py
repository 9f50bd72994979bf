"""The memory guard: refuse, up front and in one line, work that would not fit in memory.

The limit is what the machine has available now (``MemAvailable`` of ``/proc/meminfo``; elsewhere
the free physical pages, else half the physical memory), or ``ZONESIM_MAX_STATE_BYTES``
(environment, bytes) when set. What a run needs is estimated where the state is laid out
(:func:`zonesim.population.estimate_run_bytes`); :func:`check_memory` compares the two and raises
:class:`~zonesim.errors.ResourceError`.
"""

from __future__ import annotations

import os

from .errors import ResourceError, ZonesimInputError

__all__ = ["available_memory_bytes", "check_memory", "max_state_bytes"]


def available_memory_bytes() -> int | None:
    """Memory a new run can have now: ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the
    free physical pages (``SC_AVPHYS_PAGES``), else None (unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _memory_limit() -> tuple[int, str]:
    """The guard's limit in bytes and how to say where it comes from."""
    env = os.environ.get("ZONESIM_MAX_STATE_BYTES", "").strip()
    if env:
        try:
            limit = int(float(env))
        except (ValueError, OverflowError):
            raise ZonesimInputError(
                "expected a number of bytes",
                source="<environment>",
                field="ZONESIM_MAX_STATE_BYTES",
                value=env,
            ) from None
        return limit, f"over the memory guard of {limit / 2**30:.2f} GiB (ZONESIM_MAX_STATE_BYTES)"
    avail = available_memory_bytes()
    if avail is not None:
        return avail, f"this machine has {avail / 2**30:.2f} GiB available"
    try:
        half = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    except (ValueError, OSError, AttributeError):
        half = 16 * 2**30
    return half, f"over half this machine's memory ({half / 2**30:.2f} GiB)"


def max_state_bytes() -> int:
    """The memory guard's limit: ``ZONESIM_MAX_STATE_BYTES``, else the memory available now."""
    return _memory_limit()[0]


def check_memory(need_bytes: int, what: str, *, runs: int = 1) -> None:
    """Refuse (:class:`~zonesim.errors.ResourceError`) when ``runs`` runs of ``need_bytes``
    each would not fit in memory; ``what`` says what is being run."""
    limit, origin = _memory_limit()
    total = int(need_bytes) * max(int(runs), 1)
    if total > limit:
        each = f" each, {runs} at once" if runs > 1 else ""
        raise ResourceError(
            f"{what} needs about {need_bytes / 2**30:.2f} GiB of state{each}, {origin}; "
            "simulate fewer inhabitants or a shorter horizon"
            + (", or run fewer at once (--workers)" if runs > 1 else "")
        )
