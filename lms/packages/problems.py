"""Problems found in a module package: where (file and line), what, and what to do.

Messages are English msgids with ``%(name)s`` parameters, marked with ``N_`` for
extraction and translated where they are shown, so the package code needs no app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lms.filetypes import N_, UnsupportedFileError

__all__ = ["N_", "InvalidPackageError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a package (or, as a warning, worth the author's attention)."""

    path: str
    line: int | None
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    warning: bool = False
    # Parameters that are messages themselves (descriptions of file types).
    translatable: tuple[str, ...] = ()

    @classmethod
    def from_file_error(cls, path: str, error: UnsupportedFileError) -> Problem:
        """The problem for a file the allowlist refused."""
        translatable = tuple(k for k in ("what", "expected") if k in error.params)
        return cls(path, None, error.message, dict(error.params), translatable=translatable)

    @property
    def location(self) -> str:
        """``lessons/03-listening.md:4``, or the file alone, or nothing for the package."""
        if self.path and self.line:
            return f"{self.path}:{self.line}"
        return self.path

    def translated(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message without its location, translated by gettext (English without one)."""
        params = {
            k: (gettext(v) if gettext and k in self.translatable else v)
            for k, v in self.params.items()
        }
        return (gettext(self.message) if gettext else self.message) % params

    def __str__(self) -> str:
        return f"{self.location}: {self.translated()}" if self.location else self.translated()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy (kept in status files between requests)."""
        return {
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "params": dict(self.params),
            "warning": self.warning,
            "translatable": list(self.translatable),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        """The problem to_dict() described."""
        return cls(
            data["path"],
            data["line"],
            data["message"],
            dict(data["params"]),
            data["warning"],
            tuple(data["translatable"]),
        )


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in reading order: the package, module.yaml, then by file and line."""
    return sorted(
        problems, key=lambda p: (p.path != "", p.path != "module.yaml", p.path, p.line or 0)
    )


class InvalidPackageError(Exception):
    """The package cannot be imported; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sort_problems(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]
