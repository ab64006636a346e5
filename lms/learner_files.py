"""Learner files: what a learner attaches to a reflection, stored per learner outside any web root.

A file lives where ``Storage.learner_file_path`` says, under the data dir: a path made
of an integer and a random token, never of a name the learner gave. It is accepted
only when its type, judged by its content, is on the allowlist of ``lms.filetypes``,
it is not larger than the per-file limit, and the learner's files together stay
within their quota.

Files are written before the transaction that records them commits; the view removes
them again if that commit fails (``remove_paths``). Deleting works the other way
round: the rows go in the transaction, the files once it has committed.

The functions take the session and the user, flush, and never commit.
"""

from __future__ import annotations

import contextlib
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms import filetypes
from lms.models import LearnerFile, Reflection, User, new_token

# Credentials' own key rule, so the rows found are exactly the ones sign-in writes.
from lms.storage import Storage, TooLargeError, write_atomic

MAX_NAME_CHARS = 200


class FileTooLargeError(ValueError):
    """The file is larger than the per-file limit; nothing was kept."""

    def __init__(self, filename: str, limit: int) -> None:
        super().__init__(f"{filename!r} is larger than {limit} bytes")
        self.filename = filename
        self.limit = limit


class QuotaExceededError(ValueError):
    """The learner's files would exceed their quota; nothing was kept."""

    def __init__(self, filename: str, used: int, quota: int) -> None:
        super().__init__(f"{filename!r} does not fit: {used} of {quota} bytes used")
        self.filename = filename
        self.used = used
        self.quota = quota


@dataclass(frozen=True)
class Limits:
    """How large one file may be, and all of one learner's files together (bytes)."""

    max_bytes: int
    quota_bytes: int


def clean_filename(filename: str | None) -> str:
    """A file name fit to show and to offer for download: no folders, no control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    ).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        keep = MAX_NAME_CHARS - len(extension) - 1
        name = (
            f"{stem[:keep]}.{extension}"
            if dot and 0 < len(extension) < 16
            else name[:MAX_NAME_CHARS]
        )
    return name or "file"


def used_bytes(session: Session, user: User) -> int:
    """The total size of the learner's files."""
    return session.scalar(
        select(func.coalesce(func.sum(LearnerFile.size), 0)).where(LearnerFile.user_id == user.id)
    )


def unattached(session: Session, user: User) -> list[LearnerFile]:
    """The learner's files that belong to no reflection (their reflection was removed)."""
    return list(
        session.scalars(
            select(LearnerFile)
            .where(LearnerFile.user_id == user.id, LearnerFile.reflection_id.is_(None))
            .order_by(LearnerFile.created_at, LearnerFile.id)
        )
    )


def add_file(
    session: Session,
    user: User,
    reflection: Reflection,
    source: BinaryIO,
    filename: str | None,
    *,
    storage: Storage,
    limits: Limits,
) -> LearnerFile:
    """Store an uploaded file and attach it to the learner's reflection.

    Raises FileTooLargeError, QuotaExceededError or filetypes.UnsupportedFileError
    (with a message for the learner); in every case nothing is left on disk.
    """
    if reflection.user_id != user.id:
        raise ValueError("a learner attaches files to their own reflections only")
    name = clean_filename(filename)
    # Serialise a learner's uploads on PostgreSQL so two at once cannot both fit the quota.
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    used = used_bytes(session, user)
    room = limits.quota_bytes - used
    if room <= 0:
        raise QuotaExceededError(name, used, limits.quota_bytes)
    learner_file = LearnerFile(
        public_id=new_token(), user_id=user.id, reflection_id=reflection.id, filename=name
    )
    path = storage.learner_file_path(learner_file)
    try:
        sha256, size = write_atomic(path, source, max_bytes=min(limits.max_bytes, room))
    except TooLargeError:
        if room < limits.max_bytes:
            raise QuotaExceededError(name, used, limits.quota_bytes) from None
        raise FileTooLargeError(name, limits.max_bytes) from None
    try:
        file_type = filetypes.detect(path, name, filetypes.LEARNER_FILE_TYPES)
        learner_file.content_type = file_type.content_type
        learner_file.size = size
        learner_file.sha256 = sha256
        session.add(learner_file)
        session.flush()
    except BaseException:
        remove_paths([path])
        raise
    return learner_file


def delete_file(session: Session, learner_file: LearnerFile, storage: Storage) -> Path:
    """Forget the file; returns its path, to remove once the transaction has committed."""
    path = storage.learner_file_path(learner_file)
    session.delete(learner_file)
    session.flush()
    return path


def remove_paths(paths: Iterable[Path]) -> None:
    """Remove files or folders of learner files (missing ones are fine)."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
