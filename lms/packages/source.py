"""Open a module package — a folder or a zip — without trusting anything in it.

Every path is checked before any file is read: nothing may lead outside the package
(``..``, absolute paths, drive letters, backslashes, symbolic links), and a zip's
declared sizes are checked against limits on the package size, the unpacked size,
the number of files and the compression ratio, so that a zip bomb is refused
before it is unpacked. (zipfile never unpacks more than an entry declares.)
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lms.packages.problems import N_, InvalidPackageError, Problem

MIB = 1024 * 1024
MANIFEST = "module.yaml"
MAX_PATH_LENGTH = 255  # Attachment.path and Media.path
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUPPORTED_COMPRESSION = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}
_IGNORED_NAMES = {"Thumbs.db", "desktop.ini", "__MACOSX"}


@dataclass(frozen=True)
class Limits:
    """How big a package may be; the defaults suit a small server."""

    max_package_bytes: int = 500 * MIB  # the zip file itself
    max_total_bytes: int = 1024 * MIB  # every file, unpacked
    max_file_bytes: int = 500 * MIB  # one file, unpacked
    max_files: int = 2000
    max_ratio: int = 100  # unpacked / packed size of one file ...
    ratio_floor_bytes: int = MIB  # ... once it unpacks to more than this
    max_manifest_bytes: int = 64 * 1024
    max_lesson_bytes: int = MIB

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        """The limits for the app's LMS_MAX_PACKAGE_BYTES."""
        package = int(config["LMS_MAX_PACKAGE_BYTES"])
        return cls(
            max_package_bytes=package,
            max_total_bytes=max(2 * package, cls.max_total_bytes),
            max_file_bytes=package,
        )


def describe_size(size: int) -> str:
    """A size as people read it: 12 KB, 3.4 MB."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    if size < 1024 * MIB:
        return f"{size / MIB:.1f} MB"
    return f"{size / (1024 * MIB):.1f} GB"


def is_ignored(path: str) -> bool:
    """Files systems and zip tools add by themselves (hidden files, __MACOSX): skipped."""
    return any(part.startswith(".") or part in _IGNORED_NAMES for part in path.split("/"))


def _unsafe_name(name: str) -> Problem | None:
    shown = _CONTROL.sub("?", name)
    if _CONTROL.search(name):
        return Problem(shown, None, N_("this name contains control characters; rename the file."))
    if "\\" in name:
        return Problem(
            name,
            None,
            N_("this path uses backslashes (\\); make the zip again with a standard zip tool."),
        )
    if name.startswith("/"):
        return Problem(
            name,
            None,
            N_("this path is absolute; paths in a package are relative to its top folder."),
        )
    if _DRIVE.match(name):
        return Problem(
            name,
            None,
            N_(
                "this path starts with a drive letter; paths in a package are relative to its "
                "top folder."
            ),
        )
    parts = name.rstrip("/").split("/")
    if any(part == ".." for part in parts):
        return Problem(
            name, None, N_('this path leads outside the package (".."); it is not allowed.')
        )
    if any(part in ("", ".") for part in parts):
        return Problem(
            name, None, N_('this path has an empty or "." folder name; make the zip again.')
        )
    if len(name) > MAX_PATH_LENGTH:
        return Problem(
            name[:60] + "…",
            None,
            N_("this path is longer than %(limit)s characters; use shorter names."),
            {"limit": MAX_PATH_LENGTH},
        )
    return None


class PackageSource:
    """The files of an opened package: ``files`` maps each path to its size."""

    name: str
    files: dict[str, int]

    def open(self, path: str) -> BinaryIO:
        """A binary stream of one file of the package (seekable)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the package."""


class FolderSource(PackageSource):
    """A package that is a folder on disk; symbolic links inside it are refused."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root = root
        self.name = root.name
        self.files = {}
        problems: list[Problem] = []
        total = 0
        stack = [("", root)]
        while stack:
            prefix, folder = stack.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    path = prefix + entry.name
                    if is_ignored(path):
                        continue
                    if entry.is_symlink():
                        problems.append(_symbolic_link(path))
                    elif entry.is_dir(follow_symlinks=False):
                        stack.append((path + "/", Path(entry.path)))
                    elif not entry.is_file(follow_symlinks=False):
                        problems.append(Problem(path, None, N_("this is not a regular file.")))
                    elif (problem := _unsafe_name(path)) is not None:
                        problems.append(problem)
                    else:
                        size = entry.stat(follow_symlinks=False).st_size
                        total += size
                        if size > limits.max_file_bytes:
                            problems.append(_too_large(path, "file", size, limits.max_file_bytes))
                        self.files[path] = size
                    if len(self.files) > limits.max_files:
                        raise InvalidPackageError([_too_many_files(limits)])
        if total > limits.max_total_bytes:
            problems.append(_too_large("", "total", total, limits.max_total_bytes))
        if problems:
            raise InvalidPackageError(problems)

    def open(self, path: str) -> BinaryIO:
        if path not in self.files:
            raise FileNotFoundError(path)
        # O_NOFOLLOW: a file swapped for a link after the check is still not followed.
        fd = os.open(self.root / path, os.O_RDONLY | os.O_NOFOLLOW)
        return os.fdopen(fd, "rb")


class ZipSource(PackageSource):
    """A zip of a package: the files at its root, or inside one top folder."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.name = path.name
        size = path.stat().st_size
        if size > limits.max_package_bytes:
            raise InvalidPackageError([_too_large("", "package", size, limits.max_package_bytes)])
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            raise InvalidPackageError([_not_a_zip()]) from None
        try:
            entries = _checked_entries(self._zip.infolist(), limits)
        except BaseException:
            self._zip.close()
            raise
        prefix = _top_folder(entries)
        self._entries = {
            name[len(prefix) :]: info for name, info in entries.items() if not is_ignored(name)
        }
        self.files = {name: info.file_size for name, info in self._entries.items()}

    def open(self, path: str) -> BinaryIO:
        return self._zip.open(self._entries[path])  # type: ignore[return-value]

    def close(self) -> None:
        self._zip.close()


def _checked_entries(infos: list[zipfile.ZipInfo], limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """The zip's files by name, read from its directory alone (nothing is unpacked).

    Raises InvalidPackageError listing every entry that is unsafe or would unpack to
    too much.
    """
    if len(infos) > limits.max_files:
        raise InvalidPackageError([_too_many_files(limits)])
    problems: list[Problem] = []
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        mode = info.external_attr >> 16
        if (problem := _unsafe_name(name)) is not None:
            problems.append(problem)
        elif stat.S_ISLNK(mode):
            problems.append(_symbolic_link(name))
        elif info.is_dir():
            continue
        elif name in entries:
            problems.append(Problem(name, None, N_("this file is in the zip twice.")))
        elif (problem := _unpacking_problem(info, limits)) is not None:
            problems.append(problem)
        else:
            entries[name] = info
        total += info.file_size
    if total > limits.max_total_bytes:
        problems.append(_too_large("", "total", total, limits.max_total_bytes))
    if problems:
        raise InvalidPackageError(problems)
    return entries


def _unpacking_problem(info: zipfile.ZipInfo, limits: Limits) -> Problem | None:
    """Why an entry cannot be unpacked, safely or at all, if it cannot."""
    name = info.filename
    if info.flag_bits & 0x1:
        return Problem(
            name,
            None,
            N_("this file is encrypted (password-protected); zip it again without a password."),
        )
    if info.compress_type not in _SUPPORTED_COMPRESSION:
        return Problem(
            name,
            None,
            N_(
                "this file is compressed with a method this site cannot read; "
                'make the zip again with the usual "deflate" compression.'
            ),
        )
    if info.file_size > limits.max_file_bytes:
        return _too_large(name, "file", info.file_size, limits.max_file_bytes)
    if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    ):
        return Problem(
            name,
            None,
            N_(
                "this file would unpack to %(size)s from %(packed)s, far more than "
                "real files compress (a zip bomb?); it was not unpacked."
            ),
            {
                "size": describe_size(info.file_size),
                "packed": describe_size(info.compress_size),
            },
        )
    return None


def _top_folder(entries: Mapping[str, zipfile.ZipInfo]) -> str:
    """``"holistic-wellness/"`` when every file is inside that one folder, else ``""``."""
    names = [n for n in entries if not is_ignored(n)]
    if MANIFEST in names or not names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        top = tops.pop() + "/"
        return top
    return ""


_TOO_LARGE = {
    "package": N_("the package is %(size)s; the largest package this site accepts is %(limit)s."),
    "file": N_("this file is %(size)s; the largest file a package may hold is %(limit)s."),
    "total": N_("the files of the package add up to %(size)s unpacked; the limit is %(limit)s."),
}


def _too_large(path: str, what: str, size: int, limit: int) -> Problem:
    """The package, a file or all files unpacked (``what``) over its limit, in KB or MB."""
    described = {"size": describe_size(size), "limit": describe_size(limit)}
    return Problem(path, None, _TOO_LARGE[what], described)


def _not_a_zip() -> Problem:
    return Problem(
        "", None, N_("this file is not a zip archive; make a .zip of the module folder.")
    )


def _symbolic_link(path: str) -> Problem:
    return Problem(path, None, N_("this is a symbolic link; put the file itself in the package."))


def _too_many_files(limits: Limits) -> Problem:
    return Problem(
        "",
        None,
        N_("the package holds more than %(limit)s files; this site accepts at most that many."),
        {"limit": limits.max_files},
    )


@contextmanager
def open_package(path: Path, limits: Limits | None = None) -> Iterator[PackageSource]:
    """Open a folder or a zip as a package; raises InvalidPackageError for unsafe ones."""
    limits = limits or Limits()
    if path.is_dir():
        source: PackageSource = FolderSource(path, limits)
    elif path.is_file():
        source = ZipSource(path, limits)
    else:
        raise InvalidPackageError(
            [Problem(str(path.name), None, N_("there is no folder or zip file here."))]
        )
    try:
        yield source
    finally:
        source.close()
