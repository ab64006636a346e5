"""Files on disk under the data dir: streamed, written atomically, named by hash or id.

Layout of the data dir (nothing here is ever served directly):

- ``blobs/ab/cdef...``: module attachments and media (and the web-sized copies of lesson
  images), content-addressed by SHA-256;
- ``staging/<random>/``: files of an import in progress, moved into ``blobs/`` only
  when the database transaction that refers to them commits;
- ``uploads/<token>.zip``: a package an admin uploaded, waiting for confirmation, with
  ``<token>.json`` (who uploaded it) and ``<token>.status.json`` (how its import goes);
- ``learner-files/<user id>/<public id>``: the files learners attach to their reflections;
- ``.backup-<random>/``, ``.restore-<random>/``: folders a backup or a restore holds
  while it runs (``held_folder``); one a killed process left behind is swept.

Only this module builds paths under the data dir: everything else asks a ``Storage``
(the app builds one, ``lms.web.storage``), and which files the database's rows refer to
is answered here too, for backups, imports and the sweep alike.

Paths are built from hashes, ids and random tokens, never from a name a person gave.
Every write goes to a temporary file in the target's folder, is fsynced, and then
replaces the target in one ``os.replace``: a crash leaves the old file or the new
one, never half of one. Files are copied in chunks, never read whole.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from lms.models import Attachment, LearnerFile, Media, MediaVariant, User

CHUNK_BYTES = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# A journal line per blob an import placed, written before the blob moves.
_JOURNAL = "placed"


class TooLargeError(ValueError):
    """A stream was longer than the limit given for it; nothing was kept."""


class StorageFullError(OSError):
    """The disk (or the data dir's quota) has no room for a file; nothing was kept."""


# Files being written start with this, so a sweep can tell them from finished ones.
TEMPORARY_PREFIX = ".tmp-"

# Out of room, as the disk or a file system quota says it.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})

# Folders and files of the data dir that are not data: imports in progress, packages not
# confirmed yet, and the secret key (lms/ops/backup.py says why backups leave them out).
NOT_DATA = frozenset({"staging", "uploads", "secret_key"})

BACKUP_PINS_PREFIX = ".backup-"
RESTORE_WORK_PREFIX = ".restore-"


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in this folder durable (fsync the folder itself)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_hashed(
    source: BinaryIO, target: BinaryIO, max_bytes: int | None = None
) -> tuple[str, int]:
    """Copy a stream in chunks, returning its SHA-256 and size; stop past max_bytes."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_BYTES):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLargeError(f"more than {max_bytes} bytes")
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest(), size


def hash_stream(source: BinaryIO) -> tuple[str, int]:
    """The SHA-256 and size of a stream, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_BYTES):
        size += len(chunk)
        digest.update(chunk)
    return digest.hexdigest(), size


def write_atomic(path: Path, source: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
    """Stream into path through a fsynced temporary file; returns the SHA-256 and size.

    Raises TooLargeError past max_bytes and StorageFullError when the disk is full; in
    either case the temporary file is gone and the target is as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
    except OSError as error:
        _raise_if_full(error)
        raise
    try:
        with os.fdopen(fd, "wb") as target:
            sha256, size = copy_hashed(source, target, max_bytes)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        _raise_if_full(error)
        raise
    fsync_dir(path.parent)
    return sha256, size


def _raise_if_full(error: BaseException) -> None:
    if isinstance(error, OSError) and error.errno in _NO_ROOM:
        raise StorageFullError(error.errno, os.strerror(error.errno)) from error


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a small file atomically (status files, exports' manifests)."""
    write_atomic(path, io.BytesIO(data))


def is_sha256(value: str) -> bool:
    """True for a lower-case hex SHA-256, the only thing a blob path is built from."""
    return bool(_SHA256.match(value))


def is_token(value: str) -> bool:
    """True for a token as new_token() makes them: safe as a file name."""
    return bool(_TOKEN.match(value))


def new_token() -> str:
    """A random, file-name-safe token for uploads and staging areas."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Storage:
    """The data dir's files: blobs, staging areas, uploads, learner files, held folders."""

    data_dir: Path

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def learner_files_dir(self) -> Path:
        return self.data_dir / "learner-files"

    def path(self, name: str) -> Path:
        """The data dir's file at ``name``, a path relative to it as ``data_files`` gives."""
        return self.data_dir / name

    def data_files(self, skip: Collection[Path] = ()) -> Iterator[str]:
        """The data dir's files that are data, as sorted paths relative to it.

        Left out: ``NOT_DATA`` at the top, hidden files and folders (temporaries and
        held folders), symlinks, and the absolute paths in ``skip``.
        """
        root = self.data_dir.resolve()
        for folder, dirs, names in os.walk(root):
            here = Path(folder)
            top = here == root
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and not (top and d in NOT_DATA)
            )
            for name in sorted(names):
                path = here / name
                if name.startswith(".") or (top and name in NOT_DATA) or path in skip:
                    continue
                if path.is_symlink() or not path.is_file():
                    continue
                yield path.relative_to(root).as_posix()

    # --- folders held by a backup or a restore ---

    def new_held_folder(self, prefix: str) -> contextlib.AbstractContextManager[Path]:
        """A fresh hidden folder of the data dir, held while the ``with`` block runs."""
        return held_folder(self.data_dir / f"{prefix}{new_token()}")

    def abandoned_held_folders(self) -> Iterator[Path]:
        """Held folders no live process holds, each kept locked while the caller removes it."""
        folders = [
            *self.data_dir.glob(BACKUP_PINS_PREFIX + "*"),
            *self.data_dir.glob(RESTORE_WORK_PREFIX + "*"),
        ]
        for folder in folders:
            try:
                lock = _try_lock(folder)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if lock is None:
                continue  # a backup or restore is running and holds it
            try:
                yield folder
            finally:
                os.close(lock)

    # --- blobs ---

    def blob_path(self, sha256: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists)."""
        if not is_sha256(sha256):
            raise ValueError("not a SHA-256")
        return self.blobs_dir / sha256[:2] / sha256[2:]

    def has_blob(self, sha256: str) -> bool:
        """True when the blob is stored."""
        return self.blob_path(sha256).is_file()

    def open_blob(self, sha256: str) -> BinaryIO:
        """Open an attachment's or a media file's blob for reading (stream it, don't read it)."""
        return open(self.blob_path(sha256), "rb")  # noqa: SIM115  (the caller closes it)

    # --- learner files ---

    def learner_folder(self, user_id: int) -> Path:
        """The folder of one learner's files."""
        return self.learner_files_dir / str(int(user_id))

    def learner_file_path(self, learner_file: LearnerFile) -> Path:
        """Where a learner file's bytes are (built from ids only)."""
        return self.learner_folder(learner_file.user_id) / learner_file.public_id

    # --- staging ---

    def new_staging(self) -> Staging:
        """A fresh staging area for an import, locked while this process uses it."""
        token = new_token()
        # Made under a name recovery ignores and locked before it gets its real name, so
        # recovery never takes a new area for an abandoned one.
        nascent = self.staging_dir / f".new-{token}"
        nascent.mkdir(parents=True)
        lock = _try_lock(nascent)
        path = nascent.rename(self.staging_dir / token)
        return Staging(self, path, lock)

    def recover_abandoned(
        self, is_referenced: Callable[[Iterable[str]], set[str]], keep: Iterable[str] = ()
    ) -> int:
        """Undo what imports killed half way left behind; returns how many areas were undone.

        A staging area whose lock nobody holds belongs to a dead process. Blobs it placed
        that the database does not refer to (its transaction never committed) are removed,
        then the area itself; blobs in ``keep`` (the running import needs them) stay.
        """
        keep = set(keep)
        if not self.staging_dir.is_dir():
            return 0
        undone = 0
        with self.placement_lock():
            for area in sorted(self.staging_dir.iterdir()):
                if not area.is_dir() or not is_token(area.name):
                    continue
                lock = _try_lock(area)
                if lock is None:
                    continue  # a live import is using it
                try:
                    placed = _read_journal(area / _JOURNAL)
                    referenced = is_referenced(placed) if placed else set()
                    for sha256 in placed - referenced - keep:
                        with contextlib.suppress(FileNotFoundError):
                            self.blob_path(sha256).unlink()
                    shutil.rmtree(area, ignore_errors=True)
                    undone += 1
                finally:
                    os.close(lock)
        return undone

    @contextlib.contextmanager
    def placement_lock(self):
        """Held while blobs are placed and their transaction commits, and while recovering."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        # The lock is on the folder itself: no lock file is ever left in the data dir.
        fd = os.open(self.staging_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # --- exports on their way to a download ---

    def new_export_file(self) -> Path:
        """A new, empty hidden file for a package export (the caller removes it)."""
        fd, path = tempfile.mkstemp(dir=self.data_dir, prefix=".export-", suffix=".zip")
        os.close(fd)
        return Path(path)

    # --- uploads waiting for confirmation ---

    def upload_path(self, token: str) -> Path:
        """Where an uploaded package with this token waits."""
        return self._upload_file(token, ".zip")

    def upload_meta_path(self, token: str) -> Path:
        """Where what is known of an upload (who made it, when) is kept beside it."""
        return self._upload_file(token, ".json")

    def upload_status_path(self, token: str) -> Path:
        """Where the import of an upload records how it goes."""
        return self._upload_file(token, ".status.json")

    def _upload_file(self, token: str, suffix: str) -> Path:
        if not is_token(token):
            raise ValueError("not an upload token")
        return self.uploads_dir / f"{token}{suffix}"

    def save_upload(self, source: BinaryIO, max_bytes: int) -> str:
        """Keep an uploaded package until it is confirmed; returns its token."""
        token = new_token()
        try:
            write_atomic(self.upload_path(token), source, max_bytes)
        except TooLargeError:
            self.remove_upload(token)
            raise
        return token

    def remove_upload(self, token: str) -> None:
        """Forget an upload and anything kept beside it."""
        for path in self.uploads_dir.glob(f"{token}.*") if is_token(token) else []:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def remove_stale_uploads(self, max_age_seconds: int) -> None:
        """Remove uploads nobody confirmed in time."""
        if not self.uploads_dir.is_dir():
            return
        limit = time.time() - max_age_seconds
        for path in self.uploads_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    path.unlink()


@contextlib.contextmanager
def held_folder(path: Path) -> Iterator[Path]:
    """Make a private folder that lives while this process holds it, and remove it after.

    The lock goes with the process, so a sweep can tell a folder a killed process left
    behind (free to take) from one still in use, however long its work runs.
    """
    path.mkdir()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def _try_lock(folder: Path) -> int | None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _read_journal(path: Path) -> set[str]:
    try:
        lines = path.read_text().split()
    except FileNotFoundError:
        return set()
    return {line for line in lines if is_sha256(line)}


# --- What the database refers to ----------------------------------------------------
# The one place that knows which rows name which files: a backup checks its archive
# against it, an import and its recovery keep what it names, the sweep takes the rest.


def referenced_blobs(db: Session | Connection, hashes: Iterable[str]) -> set[str]:
    """Which of these hashes a row of the database refers to."""
    hashes = list(hashes)
    found: set[str] = set()
    for column in (Attachment.sha256, Media.sha256, MediaVariant.sha256, LearnerFile.sha256):
        found.update(db.scalars(select(column).where(column.in_(hashes)).distinct()))
    return found


def referenced_learner_folders(db: Session | Connection, user_ids: Iterable[int]) -> set[int]:
    """Which of these learners' folders the database refers to: those whose account exists."""
    return set(db.scalars(select(User.id).where(User.id.in_(list(user_ids)))))


def referenced_learner_files(
    db: Session | Connection, user_id: int, public_ids: Iterable[str]
) -> set[str]:
    """Which of these names in a learner's folder a row of the database refers to."""
    return set(
        db.scalars(
            select(LearnerFile.public_id).where(
                LearnerFile.user_id == user_id, LearnerFile.public_id.in_(list(public_ids))
            )
        )
    )


# Paths as a Storage builds them, relative to the data dir.
_LAYOUT = Storage(Path())


def referenced_files(db: Session | Connection) -> set[str]:
    """The data dir paths the database's rows refer to: blobs and learner files."""
    blobs = db.scalars(
        select(Attachment.sha256).union(select(Media.sha256), select(MediaVariant.sha256))
    )
    paths = {_LAYOUT.blob_path(sha256).as_posix() for sha256 in blobs}
    for row in db.execute(select(LearnerFile.user_id, LearnerFile.public_id)):
        paths.add(_LAYOUT.learner_file_path(row).as_posix())
    return paths


class Staging:
    """Files of one import, kept apart until its transaction commits.

    ``add`` streams a file in; ``publish`` moves the new blobs into place (journalled, so
    that a crash before the commit can be undone); ``unpublish`` takes back the blobs it
    placed; ``close`` removes the area. While it exists the area is locked, so that
    ``Storage.recover_abandoned`` leaves it alone.
    """

    def __init__(self, storage: Storage, path: Path, lock: int | None) -> None:
        self.storage = storage
        self.path = path
        self._lock = lock
        self.staged: dict[str, Path] = {}
        self.placed: list[str] = []
        # Blobs the transaction refers to that were stored already: checked at publish.
        self.required: set[str] = set()

    def add(self, source: BinaryIO) -> tuple[str, int]:
        """Stream a file into the area; returns its SHA-256 and size."""
        fd, temporary = tempfile.mkstemp(dir=self.path, prefix=TEMPORARY_PREFIX)
        with os.fdopen(fd, "wb") as target:
            sha256, size = copy_hashed(source, target)
            target.flush()
            os.fsync(target.fileno())
        final = self.path / sha256
        os.replace(temporary, final)
        self.staged[sha256] = final
        return sha256, size

    def publish(self) -> None:
        """Move staged blobs that are not stored yet into place, journalling each first.

        Call it under ``Storage.placement_lock``, held until the transaction ends.
        """
        with open(self.path / _JOURNAL, "a") as journal:
            for sha256, staged in self.staged.items():
                target = self.storage.blob_path(sha256)
                if target.exists():
                    continue
                journal.write(sha256 + "\n")
                journal.flush()
                os.fsync(journal.fileno())
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)
                self.placed.append(sha256)
                fsync_dir(target.parent)
        # Another import's rollback may have taken back a blob this one counted on.
        missing = [s for s in self.required if not self.storage.blob_path(s).is_file()]
        if missing:
            raise FileNotFoundError(f"blob {missing[0]} is gone; import the package again")

    def unpublish(self) -> None:
        """Remove the blobs this area placed (its transaction did not commit)."""
        for sha256 in reversed(self.placed):
            with contextlib.suppress(FileNotFoundError):
                self.storage.blob_path(sha256).unlink()
        self.placed.clear()

    def close(self) -> None:
        """Remove the area and release its lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
