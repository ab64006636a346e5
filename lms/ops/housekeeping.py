"""Disk space that nothing refers to any more, taken back: `lms storage sweep`.

A process that dies at the wrong moment can leave a file the database never learnt
about: a learner's upload written but not committed, the folder of an account deleted
just before a crash, a temporary file of a write cut short. Blobs of attachments and
media that a newer module version no longer uses stay too. None of this is ever served
(every download starts from a row), but it takes space and, for learners' files, holds
personal data that should be gone.

Only files older than ``min_age`` are touched, so a request writing one right now is
never raced; blobs are swept under the same lock imports place theirs under, so an
import cannot commit a reference to a blob this removes (its publish step would see
the blob missing and fail cleanly instead).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from lms.packages import recover_abandoned_imports
from lms.storage import (
    TEMPORARY_PREFIX,
    Storage,
    is_sha256,
    referenced_blobs,
    referenced_learner_files,
    referenced_learner_folders,
)

BATCH = 500


@dataclass
class SweepReport:
    imports_undone: int = 0
    blobs_removed: int = 0
    learner_files_removed: int = 0
    temporary_files_removed: int = 0
    held_folders_removed: int = 0
    bytes_freed: int = 0

    def remove(self, path: Path, counter: str) -> None:
        """Remove a file or folder and count it (gone already: nothing to count)."""
        try:
            size = _size(path)
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            return
        setattr(self, counter, getattr(self, counter) + 1)
        self.bytes_freed += size


def sweep(
    session: Session, storage: Storage, *, min_age_seconds: int = 3600, now: float | None = None
) -> SweepReport:
    """Remove what nothing refers to and is older than ``min_age_seconds``; report it."""
    cutoff = (time.time() if now is None else now) - min_age_seconds
    report = SweepReport(imports_undone=recover_abandoned_imports(session, storage))
    session.rollback()
    for folder in storage.abandoned_held_folders():
        report.remove(folder, "held_folders_removed")
    _sweep_learner_files(session, storage, cutoff, report)
    session.rollback()
    with storage.placement_lock():
        _sweep_blobs(session, storage, cutoff, report)
        session.rollback()
    return report


def _sweep_learner_files(session: Session, storage: Storage, cutoff: float, report: SweepReport):
    root = storage.learner_files_dir
    if not root.is_dir():
        return
    folders = {int(f.name): f for f in root.iterdir() if f.is_dir() and f.name.isdigit()}
    for user_ids in _batches(sorted(folders)):
        living = referenced_learner_folders(session, user_ids)
        for user_id in user_ids:
            folder = folders[user_id]
            if user_id not in living:
                if _older(folder, cutoff):
                    report.remove(folder, "learner_files_removed")
                continue
            _sweep_folder(session, folder, user_id, cutoff, report)


def _sweep_folder(session: Session, folder: Path, user_id: int, cutoff: float, report):
    candidates = [p for p in folder.iterdir() if p.is_file() and _older(p, cutoff)]
    for paths in _batches(candidates):
        known = referenced_learner_files(session, user_id, [p.name for p in paths])
        for path in paths:
            if path.name.startswith(TEMPORARY_PREFIX):
                report.remove(path, "temporary_files_removed")
            elif path.name not in known:
                report.remove(path, "learner_files_removed")


def _sweep_blobs(session: Session, storage: Storage, cutoff: float, report: SweepReport):
    root = storage.blobs_dir
    if not root.is_dir():
        return
    blobs: dict[str, Path] = {}
    for path in (p for p in root.rglob("*") if p.is_file() and _older(p, cutoff)):
        if path.name.startswith(TEMPORARY_PREFIX):
            report.remove(path, "temporary_files_removed")
        elif is_sha256(path.parent.name + path.name):  # blobs/ab/cdef...: the hash, split
            blobs[path.parent.name + path.name] = path
    for hashes in _batches(blobs):
        referenced = referenced_blobs(session, hashes)
        for sha256 in hashes:
            if sha256 not in referenced:
                report.remove(blobs[sha256], "blobs_removed")


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(_size(p) for p in path.iterdir())
    with contextlib.suppress(FileNotFoundError):
        return path.stat().st_size
    return 0


def _batches(items: Iterable) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
