"""What every part of reading shares: the package, its limits and the problems found so far.

One ``Reader`` goes through a whole package, so that every problem is reported at once;
its typed-value checks report what is wrong with a value and return None for it.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any

from lms.packages.problems import N_, Problem
from lms.packages.source import Limits, PackageSource, describe_size
from lms.packages.yaml_reader import Located, LocatedList

SLUG = re.compile(r"^[a-z0-9-]+$")
MAX_SLUG = 80
MAX_TITLE = 200
MAX_MINUTES = 100_000
# What reading a file of a folder or a zip can raise when the file is damaged.
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


class Reader:
    """One reading of a package: its source and limits, the problems and the file hashes."""

    def __init__(self, source: PackageSource, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.problems: list[Problem] = []
        # The sha256 of every file read, by path: together they are the package's hash.
        self.hashes: dict[str, str] = {}

    # --- reporting ---

    def error(self, file: str, line: int | None, message: str, /, **params: Any) -> None:
        """Report a problem that stops the import."""
        self.problems.append(Problem(file, line, message, params))

    def warn(self, file: str, line: int | None, message: str, /, **params: Any) -> None:
        """Report something worth the author's attention that does not stop the import."""
        self.problems.append(Problem(file, line, message, params, warning=True))

    @property
    def has_errors(self) -> bool:
        """Whether any problem found so far stops the import."""
        return any(not p.warning for p in self.problems)

    # --- typed values of a mapping ---

    def unknown_keys(self, path: str, data: Located, known: Iterable[str]) -> None:
        """Report each key of data that is not known, with the known key it is closest to."""
        known = list(known)
        for key in data:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            if close:
                self.error(
                    path,
                    data.line_of(key),
                    N_('"%(key)s" is not a known key; did you mean "%(suggestion)s"?'),
                    key=str(key),
                    suggestion=close[0],
                )
            else:
                self.error(
                    path,
                    data.line_of(key),
                    N_('"%(key)s" is not a known key here; the known keys are: %(known)s.'),
                    key=str(key),
                    known=", ".join(known),
                )

    def missing(self, path: str, data: Located, key: str, example: str) -> None:
        """Report a key that must be there, with an example line to add."""
        self.error(
            path,
            data.line,
            N_('"%(key)s" is missing; add a line such as: %(example)s'),
            key=key,
            example=example,
        )

    def text(
        self,
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
                self.missing(path, data, key, example)
                return None
            return ""
        value, line = data[key], data.line_of(key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(path, line, N_('"%(key)s" must be text.'), key=key)
            return None
        value = str(value).strip()
        if not value and required:
            self.error(path, line, N_('"%(key)s" is empty; write it out.'), key=key)
            return None
        if len(value) > max_length:
            self.error(
                path,
                line,
                N_('"%(key)s" is longer than %(limit)s characters; shorten it.'),
                key=key,
                limit=max_length,
            )
            return None
        return value

    def whole_number(
        self, path: str, data: Located, key: str, example: str, *, required: bool = True
    ) -> int | None:
        """data[key] as a count of minutes (0 when optional and absent)."""
        if key not in data:
            if required:
                self.missing(path, data, key, example)
                return None
            return 0
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MINUTES:
            self.error(
                path,
                data.line_of(key),
                N_('"%(key)s" must be a whole number (0 or more), such as: %(example)s'),
                key=key,
                example=example,
            )
            return None
        return value

    def boolean(self, path: str, data: Located, key: str, default: bool) -> bool:
        """data[key] as true or false (the default when absent or wrong)."""
        value = data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(path, data.line_of(key), N_('"%(key)s" must be true or false.'), key=key)
            return default
        return value

    def slug(self, path: str, data: Located, key: str, example: str) -> str | None:
        """data[key] as a slug, suggesting one made from the text when it is not."""
        value = self.text(path, data, key, example, max_length=MAX_SLUG)
        if value is not None and not SLUG.match(value):
            self.error(
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
        self, path: str, data: Located, key: str, message: str, example: str
    ) -> LocatedList | None:
        """data[key] when it is a list; otherwise reports message, showing the example."""
        items = data.get(key)
        if isinstance(items, LocatedList):
            return items
        self.error(path, data.line_of(key), message, example=example)
        return None

    # --- reading files ---

    def read_text(self, path: str, limit: int) -> str | None:
        """A text file of the package as str, with its line endings made \\n."""
        size = self.source.files[path]
        if size > limit:
            self.error(
                path,
                None,
                N_(
                    "this text file is %(size)s; a text file of a package may be at most %(limit)s."
                ),
                size=describe_size(size),
                limit=describe_size(limit),
            )
            return None
        raw = self.read_bytes(path)
        if raw is None:
            return None
        self.hashes[path] = hashlib.sha256(raw).hexdigest()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.error(
                path,
                raw[: error.start].count(b"\n") + 1,
                N_("this file is not UTF-8 text; save it again choosing the UTF-8 encoding."),
            )
            return None
        if "\x00" in text:
            # PostgreSQL cannot store it, and no text editor writes it on purpose.
            self.error(
                path,
                text[: text.index("\x00")].count("\n") + 1,
                N_(
                    "this line holds an invisible NUL character (U+0000); delete it, or save "
                    "the file again as plain UTF-8 text."
                ),
            )
            return None
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def read_bytes(self, path: str) -> bytes | None:
        """A file of the package, whole (text files only: they are small)."""
        try:
            with self.source.open(path) as stream:
                return stream.read()
        except UNREADABLE as error:
            self.damaged(path, error)
            return None

    def damaged(self, path: str, error: Exception) -> None:
        """Report a file that could not be read."""
        self.error(
            path,
            None,
            N_("this file cannot be read (%(detail)s); make the package again."),
            detail=str(error) or type(error).__name__,
        )
