"""The one place where zonesim checks the kind and range of a scalar it is given.

Researchers drive zonesim from tools that hand over numpy scalars: EMA workbench levers, SALib
samples, ``mesa.batch_run`` over ``np.arange``, pandas rows (``np.int64(20000)``,
``np.float64(0.3)``, ``np.True_``). Every validator in zonesim (configuration values, experiment
and study fields, geography, model arguments, the CLI) goes through the functions here, so such a
value is accepted wherever its Python kind is, and is handed on as that Python kind (``int``,
``float``, ``bool``, ``str``): nothing downstream, nor a saved TOML file, ever sees a numpy type.

Rules (the same everywhere):

- an integer is an ``int`` or a numpy integer, never a ``bool`` / ``np.bool_``; with
  ``integral_float=True`` also a float with no fractional part (TOML ``2.0``, ``1e5``);
- a number is an integer or a float (Python or numpy), never a boolean; it must be finite;
- a boolean is ``bool`` or ``np.bool_``, never ``0`` / ``1``;
- a string is ``str`` or ``np.str_``.

Each ``check_*`` raises :class:`~zonesim.errors.ZonesimInputError` naming the source, the field and
the value, with ``expected`` as the message's tail (each caller's own wording stays).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ZonesimInputError

__all__ = [
    "at",
    "check_bool",
    "check_int",
    "check_number",
    "check_str",
    "is_bool",
    "is_int",
    "is_number",
    "plain",
]


def plain(value: Any) -> Any:
    """``value`` with numpy scalars (and 0-d arrays) turned into their Python kinds.

    ``np.int64(3) -> 3``, ``np.float32(0.5) -> 0.5``, ``np.True_ -> True``, ``np.str_("a") ->
    "a"``; lists, tuples and 1-d arrays element by element (an array becomes a list); anything
    else is returned as it is.
    """
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return plain(value[()])
        if value.ndim == 1:
            return [plain(v) for v in value.tolist()]
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def is_bool(value: Any) -> bool:
    """True for ``bool`` and ``np.bool_``."""
    return isinstance(value, (bool, np.bool_))


def is_int(value: Any) -> bool:
    """True for ``int`` and numpy integers (not booleans)."""
    return isinstance(value, (int, np.integer)) and not is_bool(value)


def is_number(value: Any) -> bool:
    """True for integers and floats, Python or numpy (not booleans)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not is_bool(value)


def at(where: dict[str, Any]) -> dict[str, Any]:
    """The ``source`` and ``field`` of an error-location dict (one that may also hold the
    ``value``), as keyword arguments for the ``check_*`` functions."""
    return {"source": where.get("source"), "field": where.get("field")}


def _fail(expected: str, source: str | None, field: str | None, value: Any) -> ZonesimInputError:
    return ZonesimInputError(expected, source=source, field=field, value=value)


def _within(v, lo, hi, expected: str, unit, source, field, value):
    """``v`` if within ``[lo, hi]``; else the error, its message ``expected`` as given (the
    caller's own) or, for a default message, with the bounds added."""
    if (lo is None or v >= lo) and (hi is None or v <= hi):
        return v
    if expected in ("expected an integer", "expected a number"):
        tail = f" ({unit})" if unit else ""
        if lo is not None and hi is not None:
            expected += f" from {lo:g} to {hi:g}{tail}"
        elif lo is not None:
            expected += f" >= {lo:g}{tail}"
        else:
            expected += f" <= {hi:g}{tail}"
    raise _fail(expected, source, field, value)


def check_int(
    value: Any,
    *,
    field: str | None,
    source: str | None = "<argument>",
    lo: float | None = None,
    hi: float | None = None,
    expected: str | None = None,
    integral_float: bool = False,
    unit: str | None = None,
) -> int:
    """``value`` as a Python ``int`` within ``[lo, hi]``, else :class:`ZonesimInputError`.

    ``expected`` replaces the default message (``"expected an integer ..."``) for both the kind
    and the range; ``integral_float`` also accepts floats without a fractional part.
    """
    v = value
    if integral_float and isinstance(v, (float, np.floating)) and math.isfinite(float(v)):
        if float(v).is_integer():
            v = int(v)
    if not is_int(v):
        raise _fail(expected or "expected an integer", source, field, value)
    return _within(int(v), lo, hi, expected or "expected an integer", unit, source, field, value)


def check_number(
    value: Any,
    *,
    field: str | None,
    source: str | None = "<argument>",
    lo: float | None = None,
    hi: float | None = None,
    expected: str | None = None,
    positive: bool = False,
    unit: str | None = None,
) -> float:
    """``value`` as a finite Python ``float`` within ``[lo, hi]`` (and > 0 with ``positive``),
    else :class:`ZonesimInputError` (``expected`` replaces the default message)."""
    if not is_number(value):
        raise _fail(expected or "expected a number", source, field, value)
    try:
        v = float(value)
    except OverflowError:  # an integer beyond the float range (TOML integers are unbounded)
        raise _fail(expected or "expected a finite number", source, field, value) from None
    if not math.isfinite(v):
        raise _fail(expected or "expected a finite number", source, field, value)
    if positive and not v > 0:
        raise _fail(expected or "expected a positive number", source, field, value)
    return _within(v, lo, hi, expected or "expected a number", unit, source, field, value)


def check_bool(
    value: Any,
    *,
    field: str | None,
    source: str | None = "<argument>",
    expected: str = "expected true or false",
) -> bool:
    """``value`` as a Python ``bool`` (``bool`` or ``np.bool_``; not 0 / 1)."""
    if not is_bool(value):
        raise _fail(expected, source, field, value)
    return bool(value)


def check_str(
    value: Any,
    *,
    field: str | None,
    source: str | None = "<argument>",
    expected: str = "expected a string",
    choices: tuple[str, ...] | None = None,
) -> str:
    """``value`` as a Python ``str`` (``str`` or ``np.str_``), one of ``choices`` if given."""
    if not isinstance(value, str):
        raise _fail(expected, source, field, value)
    v = str(value)
    if choices and v not in choices:
        raise _fail(f"expected one of {', '.join(choices)}", source, field, value)
    return v
