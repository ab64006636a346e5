"""Ids in URLs and query strings: whole numbers the databases can hold, or nothing.

Both databases keep ids in signed 64-bit integers. A larger number in a path would
reach the query and fail there (SQLite's driver cannot bind it, PostgreSQL refuses it
as out of range): such a path matches no route (404), and such a query-string value
is treated as missing.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: 0 to MAX_ID, written in digits only."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_ID):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


def parse_id(raw: object) -> int | None:
    """An id from a query string or a form's choice, or None when it is not one."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_ID else None
