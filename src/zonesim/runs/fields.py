"""Field checks shared by experiments and studies (one place for what a valid name, seed,
horizon or policy list is), the replicate seed rule, and the provenance of the code.

A bad value raises :class:`~zonesim.errors.ZonesimInputError` naming the file or argument, the
key and the value: the CLI turns it into one line and exit code 2.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from .. import validation as V
from ..config import ZONE_POPULATION_MAX
from ..days import DAYS_PER_YEAR
from ..errors import ZonesimInputError

SEED_LIMIT = 2**63
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def replicate_seed(seed: int, replicate: int) -> int:
    """The run seed of replicate ``replicate`` of an experiment seeded ``seed``.

    The same for every policy (common random numbers); independent streams for different
    replicates (:class:`numpy.random.SeedSequence` of ``[seed, replicate]``), in ``[0, 2**63)``.
    """
    state = np.random.SeedSequence([int(seed), int(replicate)]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def _check_type(value: Any, kind: str, where: dict) -> Any:
    """``kind``: str, int, float, bool; raises naming the source, key and value."""
    if kind == "str":
        return V.check_str(value, **V.at(where))
    if kind == "int":
        return V.check_int(value, integral_float=True, **V.at(where))
    if kind == "float":
        return V.check_number(value, **V.at(where))
    raise TypeError(kind)  # pragma: no cover - a bug here, not input


def _str_list(value: Any, where: dict) -> tuple[str, ...]:
    if isinstance(value, str):  # the CLI's "a,b,c"
        value = [v.strip() for v in value.split(",")]
    if isinstance(value, np.ndarray):
        value = V.plain(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ZonesimInputError("expected a list of strings", **where)
    return tuple(value)


def _validate_field(name: str, value: Any, where: dict) -> Any:
    """Check one experiment field; return the normalised value."""
    if name == "name":
        value = _check_type(value, "str", where)
        if not _NAME_RE.match(value) or value in (".", ".."):
            raise ZonesimInputError(
                "expected a name of letters, digits, '-', '_' or '.' (it names the output folder)",
                **where,
            )
        return value
    if name in ("scenario", "baseline", "warmup_policy"):
        value = _check_type(value, "str", where)
        if not value.strip():
            raise ZonesimInputError("expected a non-empty string", **where)
        return value
    if name in ("config", "checkpoint"):
        if value is None:
            return None
        value = _check_type(value, "str", where)
        return value or None
    if name == "policies":
        value = _str_list(value, where)
        if not value or any(not v for v in value):
            raise ZonesimInputError("expected a non-empty list of policy names or files", **where)
        if len(set(value)) != len(value):
            raise ZonesimInputError("expected each policy once", **where)
        return value
    if name == "replicates":
        value = _check_type(value, "int", where)
        if not 2 <= value <= 100_000:
            raise ZonesimInputError(
                "expected an integer from 2 to 100000 (a paired interval needs two replicates)",
                **where,
            )
        return value
    if name == "years":
        value = _check_type(value, "float", where)
        if not 1 / DAYS_PER_YEAR <= value <= 100:
            raise ZonesimInputError("expected a number of years from 1/365 (a day) to 100", **where)
        return value
    if name == "warmup_days":
        value = _check_type(value, "int", where)
        if not 0 <= value <= 36_500:
            raise ZonesimInputError("expected a number of days from 0 to 36500", **where)
        return value
    if name == "seed":
        value = _check_type(value, "int", where)
        if not 0 <= value < SEED_LIMIT:
            raise ZonesimInputError("expected an integer seed in [0, 2**63)", **where)
        return value
    if name == "population":
        if value is None:
            return None
        value = _check_type(value, "int", where)
        if not 1 <= value <= ZONE_POPULATION_MAX:  # the configuration's own limit
            raise ZonesimInputError(
                f"expected inhabitants from 1 to {ZONE_POPULATION_MAX}", **where
            )
        return value
    if name == "overrides":
        from ..config import parse_override

        if isinstance(value, str):
            value = [value]
        value = _str_list(value, where)
        for text in value:
            parse_override(text)  # raises on a malformed key=value
        return value
    if name == "workers":
        if value is None:
            return None
        value = _check_type(value, "int", where)
        if value < 1:
            raise ZonesimInputError("expected at least 1 worker", **where)
        return value
    raise AssertionError(name)  # pragma: no cover


def _relative_to(value: str, base_dir: Path, may_be_name: bool) -> str:
    """A path in a file is relative to that file; a bare name (a built-in) stays a name."""
    p = Path(value)
    looks_like_path = p.suffix == ".toml" or "/" in value or os.sep in value
    if may_be_name and not looks_like_path:
        return value
    return str(p if p.is_absolute() else base_dir / p)


@functools.cache
def _git_info() -> dict[str, Any] | None:
    """The commit of the source tree zonesim is imported from (None outside a git checkout).
    Asked once per process (two ``git`` calls; every study's resolution records it)."""
    import subprocess

    here = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)} if commit else None


def toml_dumps(data: dict[str, Any]) -> str:
    """A small TOML writer for nested dicts of str, bool, int, float and lists of them (what
    :func:`zonesim.config.to_dict` gives). Tables come after the plain keys of their level."""
    lines: list[str] = []
    _toml_table(data, [], lines)
    text = "\n".join(lines).strip("\n") + "\n"
    tomllib.loads(text)  # what we write must read back
    return text


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _toml_table(data: dict[str, Any], path: list[str], lines: list[str]) -> None:
    plain = {k: v for k, v in data.items() if not isinstance(v, dict) and v is not None}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if path and (plain or not tables):
        lines.append("")
        lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
    for k, v in plain.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in tables.items():
        _toml_table(v, [*path, k], lines)
