"""What every part of reading shares: the package, its limits and the problems found so far.

One ``Reader`` goes through a whole package, so that every problem is reported at once.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from typing import Any

from lms.packages.problems import N_, Problem
from lms.packages.source import Limits, PackageSource, describe_size

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
