"""The files themselves: each imported one's type checked and hashed, and no program anywhere.

A lesson image's size is read too, and whether it can be made smaller for phones
(``lms.packages.images``): one that cannot is a warning, never a reason to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from functools import partial
from typing import BinaryIO, TypeVar

from lms.filetypes import (
    ATTACHMENT_TYPES,
    MEDIA_TYPES,
    UnsupportedFileError,
    check_not_program,
    detect,
)
from lms.packages import images
from lms.packages.problems import N_, Problem
from lms.packages.reading.base import UNREADABLE, Reader
from lms.packages.source import MANIFEST
from lms.packages.spec import PackageFile
from lms.storage import hash_stream

T = TypeVar("T")


def check_files(reader: Reader, paths: Iterable[str]) -> dict[str, PackageFile]:
    """The files to import (attachments and media), each of an allowed type, by path."""
    stored: dict[str, PackageFile] = {}
    for path in sorted(set(paths)):
        allowed = MEDIA_TYPES if path.startswith("media/") else ATTACHMENT_TYPES
        found = _examined(reader, path, partial(_package_file, path=path, allowed=allowed))
        if found is not None:
            reader.hashes[path] = found.sha256
            stored[path] = _with_image(reader, found) if path.startswith("media/") else found
    return stored


def _with_image(reader: Reader, found: PackageFile) -> PackageFile:
    """The media file with its image's size and copies to make, or as it is, with a warning."""
    if not images.is_sized(found.type_name):
        return found
    try:
        with reader.source.open(found.path) as stream:
            info = images.examine(stream, found.type_name, found.size)
    except images.ImageError as error:
        reader.warn(found.path, None, error.message, **error.params)
        return found
    except UNREADABLE as error:
        reader.damaged(found.path, error)
        return found
    if info.located:
        reader.warn(found.path, None, images.LOCATED)
    return replace(found, image=info)


def check_unimported(reader: Reader, claims: Iterable[str]) -> None:
    """Warn of each file that is not imported, and refuse it if it is a program."""
    claims = set(claims)
    for path in sorted(reader.source.files):
        if path == MANIFEST or path.startswith(("lessons/", "media/")) or path in claims:
            continue
        if path.startswith("attachments/"):
            reader.warn(
                path,
                None,
                N_("this file is not listed in module.yaml or in any lesson; it is not imported."),
            )
        else:
            reader.warn(path, None, N_("this file is not part of a package; it is ignored."))
        _examined(reader, path, partial(check_not_program, filename=path))


def _package_file(stream: BinaryIO, path: str, allowed: Collection[str]) -> PackageFile:
    file_type = detect(stream, path, allowed)
    sha256, size = hash_stream(stream)
    return PackageFile(path, size, sha256, file_type.content_type, file_type.name)


def _examined(reader: Reader, path: str, examine: Callable[[BinaryIO], T]) -> T | None:
    """examine(the file's stream), or None with the problem reported: refused or damaged."""
    try:
        with reader.source.open(path) as stream:
            return examine(stream)
    except UnsupportedFileError as error:
        reader.problems.append(Problem.from_file_error(path, error))
    except UNREADABLE as error:
        reader.damaged(path, error)
    return None
