"""Typed values of a mapping in a package: text, numbers, true or false, slugs and lists.

Each check reports what is wrong with a value to the reader and returns None for it,
so that reading goes on and every problem shows at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from lms.packages.problems import N_
from lms.packages.reading.base import Reader
from lms.packages.yaml_reader import Located, LocatedList

SLUG = re.compile(r"^[a-z0-9-]+$")
MAX_SLUG = 80
MAX_TITLE = 200
MAX_MINUTES = 100_000


def unknown_keys(reader: Reader, path: str, data: Located, known: Iterable[str]) -> None:
    """Report each key of data that is not known, with the known key it is closest to."""
    known = list(known)
    for key in data:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        if close:
            reader.error(
                path,
                data.line_of(key),
                N_('"%(key)s" is not a known key; did you mean "%(suggestion)s"?'),
                key=str(key),
                suggestion=close[0],
            )
        else:
            reader.error(
                path,
                data.line_of(key),
                N_('"%(key)s" is not a known key here; the known keys are: %(known)s.'),
                key=str(key),
                known=", ".join(known),
            )


def missing(reader: Reader, path: str, data: Located, key: str, example: str) -> None:
    """Report a key that must be there, with an example line to add."""
    reader.error(
        path,
        data.line,
        N_('"%(key)s" is missing; add a line such as: %(example)s'),
        key=key,
        example=example,
    )


def text(
    reader: Reader,
    path: str,
    data: Located,
    key: str,
    example: str,
    *,
    required: bool = True,
    max_length: int = MAX_TITLE,
) -> str | None:
    """data[key] as stripped text ("" when optional and absent)."""
    if key not in data or data[key] is None:
        if required:
            missing(reader, path, data, key, example)
            return None
        return ""
    value, line = data[key], data.line_of(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        reader.error(path, line, N_('"%(key)s" must be text.'), key=key)
        return None
    value = str(value).strip()
    if not value and required:
        reader.error(path, line, N_('"%(key)s" is empty; write it out.'), key=key)
        return None
    if len(value) > max_length:
        reader.error(
            path,
            line,
            N_('"%(key)s" is longer than %(limit)s characters; shorten it.'),
            key=key,
            limit=max_length,
        )
        return None
    return value


def whole_number(
    reader: Reader, path: str, data: Located, key: str, example: str, *, required: bool = True
) -> int | None:
    """data[key] as a count of minutes (0 when optional and absent)."""
    if key not in data:
        if required:
            missing(reader, path, data, key, example)
            return None
        return 0
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MINUTES:
        reader.error(
            path,
            data.line_of(key),
            N_('"%(key)s" must be a whole number (0 or more), such as: %(example)s'),
            key=key,
            example=example,
        )
        return None
    return value


def boolean(reader: Reader, path: str, data: Located, key: str, default: bool) -> bool:
    """data[key] as true or false (the default when absent or wrong)."""
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        reader.error(path, data.line_of(key), N_('"%(key)s" must be true or false.'), key=key)
        return default
    return value


def slug(reader: Reader, path: str, data: Located, key: str, example: str) -> str | None:
    """data[key] as a slug, suggesting one made from the text when it is not."""
    value = text(reader, path, data, key, example, max_length=MAX_SLUG)
    if value is not None and not SLUG.match(value):
        reader.error(
            path,
            data.line_of(key),
            N_(
                '"%(key)s" may hold only lower-case letters a-z, digits and hyphens, such '
                'as "%(example)s"; "%(value)s" does not.'
            ),
            key=key,
            value=value,
            example=re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "my-module",
        )
        return None
    return value


def list_of(
    reader: Reader, path: str, data: Located, key: str, message: str, example: str
) -> LocatedList | None:
    """data[key] when it is a list; otherwise reports message, showing the example."""
    items = data.get(key)
    if isinstance(items, LocatedList):
        return items
    reader.error(path, data.line_of(key), message, example=example)
    return None
