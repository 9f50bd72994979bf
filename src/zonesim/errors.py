"""The one error type users see.

Every invalid input (a config key, a CSV cell, a CLI argument, a study file) raises
:class:`ZonesimInputError` with a message that names where the input came from, the field and the
value, and what was expected. The CLI prints it as a single line and exits with code 2.
"""

from __future__ import annotations


class ZonesimError(Exception):
    """Base class of zonesim's own errors."""


class ZonesimInputError(ZonesimError, ValueError):
    """Bad input: names the source (file), the field (key path or column) and the value.

    Attributes
    ----------
    source: the file or origin of the input ("<override>", "<argument>", a path), or None.
    field: the dotted key path, column or argument name, or None.
    value: the offending value (repr'd in the message), or None.
    expected: what would have been accepted.
    """

    def __init__(
        self,
        expected: str,
        *,
        source: str | None = None,
        field: str | None = None,
        value: object = None,
        show_value: bool = True,
    ):
        self.source = source
        self.field = field
        self.value = value
        self.expected = expected
        parts = []
        if source:
            parts.append(str(source))
        if field:
            # A key may legally hold a line break (quoted TOML keys): keep the message one line.
            parts.append(f"'{field}'" if str(field).isprintable() else repr(str(field)))
        where = ": ".join(parts)
        what = expected
        if field is not None and show_value:
            what = f"got {_short_repr(value)}; {expected}"
        msg = f"{where}: {what}" if where else what
        super().__init__(msg)


class ResourceError(ZonesimError):
    """A run refused up front because it would not fit (memory, disk)."""


def _short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)``, long ones cut in the middle: both ends stay (a path keeps its file
    name, a list its last items)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    head = (limit - 3) // 2
    return text[:head] + "..." + text[len(text) - (limit - 3 - head) :]
