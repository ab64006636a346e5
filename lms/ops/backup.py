"""Backup and restore: one archive holding a snapshot of the database and the data dir.

The archive is a plain (uncompressed) tar file, written and read as a stream:

- ``database.sqlite3`` (SQLite, a copy made with SQLite's online backup API) or
  ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``);
- ``files/<path>``: every file of the data dir, at its path under the data dir;
- ``manifest.json``, last: the format and its version, when the backup was made, the
  database kind, its Alembic revision and row count per table, and the size and SHA-256
  of the database member and of every file.

Left out of the data dir: the live SQLite database (the snapshot stands for it), the
staging and uploads folders (imports in progress, packages not confirmed yet), the
secret key (restoring it elsewhere would let the backup's holder forge sessions on
that site; a new one is made on the first start, and everyone signs in again) and hidden
files, which are only ever half-written temporaries.

Why the order "files pinned, database snapshot, files pinned again" is consistent
------------------------------------------------------------------------------------
Every file a row refers to is on disk before that row commits: blobs are moved into
``blobs/`` under the placement lock before the import's commit, and learner files are
written before the transaction that records them. So every file the snapshot refers
to existed when the snapshot was taken. Files are never changed in place (each write
is a new file renamed into place), and blobs are never removed once a committed row
refers to them. What can happen is a deletion after the snapshot: a learner removing a
file, or an account being erased, commits the row's deletion and then unlinks the file.
So before the snapshot every data file is hard-linked into a hidden folder of the data
dir ("pinned"; links cost no space and keep the bytes of a file the app deletes), and
after it the files written meanwhile are pinned too; the archive is copied from the
pins. Only a file written after the first pass and deleted before the second escapes,
so the backup does not assume, it checks: every file the snapshot refers to must be in
the archive, or the whole backup is taken again (a few times, then it fails and names
the files). Where the file system has no hard links, files are copied from the data dir
itself under the same check.

Restore verifies everything before it changes anything: the archive is unpacked into a
hidden folder of the target data dir and every file is checked against the manifest;
only then is the database loaded, in one transaction (SQLite's backup API into the
target file, or ``pg_restore --single-transaction``), and the files are moved into
place with renames on the same file system.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.pool import NullPool

from lms.db import Base, now_utc
from lms.ops import migrate
from lms.storage import (
    BACKUP_PINS_PREFIX,
    NOT_DATA,
    RESTORE_WORK_PREFIX,
    Storage,
    copy_hashed,
    fsync_dir,
    referenced_files,
)

FORMAT = "lms-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = "files/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ATTEMPTS = 3


class BackupError(Exception):
    """A backup or a restore cannot be done; the message says why, for the person running it."""


@dataclass(frozen=True)
class FileEntry:
    """One file of the archive: its path under the data dir, size and SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    """What an archive holds, as written in its manifest.json."""

    created_at: str
    kind: str
    schema_revision: str
    database: FileEntry
    tables: dict[str, int]
    files: list[FileEntry] = field(default_factory=list)

    def to_json(self) -> bytes:
        """The manifest as the archive stores it."""
        return json.dumps(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": self.created_at,
                "database": {
                    "kind": self.kind,
                    "schema_revision": self.schema_revision,
                    "member": self.database.path,
                    "size": self.database.size,
                    "sha256": self.database.sha256,
                    "tables": self.tables,
                },
                "files": [
                    {"path": entry.path, "size": entry.size, "sha256": entry.sha256}
                    for entry in self.files
                ],
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Read a manifest; BackupError when it is not one this version understands."""
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise BackupError("The archive's manifest is not an lms backup manifest.")
            if raw.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"The archive is in backup format {raw.get('format_version')!r}; "
                    f"this version of the app reads format {FORMAT_VERSION}."
                )
            db = raw["database"]
            files = [FileEntry(f["path"], int(f["size"]), str(f["sha256"])) for f in raw["files"]]
            manifest = cls(
                created_at=str(raw["created_at"]),
                kind=str(db["kind"]),
                schema_revision=str(db["schema_revision"]),
                database=FileEntry(str(db["member"]), int(db["size"]), str(db["sha256"])),
                tables={str(k): int(v) for k, v in db["tables"].items()},
                files=files,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BackupError("The archive's manifest is damaged.") from None
        if manifest.database.path != DATABASE_MEMBERS.get(manifest.kind):
            raise BackupError("The archive's manifest names an unknown database kind.")
        for entry in manifest.files:
            if not _is_safe_path(entry.path):
                raise BackupError(f"The archive's manifest names an unsafe path: {entry.path!r}.")
        if len({entry.path for entry in manifest.files}) != len(manifest.files):
            raise BackupError("The archive's manifest names a file twice.")
        return manifest


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote."""

    manifest: Manifest
    size: int
    attempts: int


@dataclass(frozen=True)
class RestoreResult:
    """What a restore brought back."""

    manifest: Manifest
    upgraded_to: str | None


# --- The data dir ---------------------------------------------------------------------


def database_kind(engine: Engine) -> str:
    """'sqlite' or 'postgresql': the kinds of database a backup can hold."""
    kind = engine.dialect.name
    if kind not in DATABASE_MEMBERS:
        raise BackupError(f"Backups support SQLite and PostgreSQL databases, not {kind}.")
    return kind


def _sqlite_path(engine: Engine) -> Path:
    name = engine.url.database
    if not name or name == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(name).resolve()


def _live_database_files(engine: Engine) -> set[Path]:
    """The live SQLite database and its journals: never copied as files."""
    if engine.dialect.name != "sqlite":
        return set()
    path = _sqlite_path(engine)
    return {path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))}


def data_files(storage: Storage, engine: Engine) -> Iterator[str]:
    """The data dir's files a backup holds, as sorted paths relative to it."""
    return storage.data_files(skip=_live_database_files(engine))


def _is_safe_path(path: str) -> bool:
    pure = PurePosixPath(path)
    return (
        bool(path)
        and "\\" not in path
        and "\x00" not in path
        and not pure.is_absolute()
        and pure.as_posix() == path
        and all(part not in ("", ".", "..") and not part.startswith(".") for part in pure.parts)
        and pure.parts[0] not in NOT_DATA
    )


def _schema_revision(connection: Connection) -> str:
    if not inspect(connection).has_table("alembic_version"):
        raise BackupError("The database has no schema yet: run `lms db upgrade` first.")
    revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    if revision is None:
        raise BackupError("The database has no schema revision: run `lms db upgrade` first.")
    return revision


def _row_counts(connection: Connection) -> dict[str, int]:
    return {
        t.name: connection.scalar(select(func.count()).select_from(t))
        for t in Base.metadata.sorted_tables
    }


@dataclass(frozen=True)
class _Snapshot:
    revision: str
    tables: dict[str, int]
    referenced: set[str]


def _facts(connection: Connection) -> _Snapshot:
    return _Snapshot(
        _schema_revision(connection), _row_counts(connection), referenced_files(connection)
    )


# --- Database snapshots ----------------------------------------------------------------


def _snapshot_sqlite(engine: Engine, target: Path) -> _Snapshot:
    """Copy the live database with SQLite's online backup API, in one step."""
    source_path = _sqlite_path(engine)
    if not source_path.is_file():
        raise BackupError(f"The SQLite database {source_path.name} does not exist.")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # All pages in one step: the copy is the database as of one moment, while the
        # app's writers carry on (WAL readers do not block them).
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    snapshot = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with snapshot.connect() as connection:
            return _facts(connection)
    finally:
        snapshot.dispose()


def _pg_env(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq URI for the engine's database (no password in it) and the environment."""
    url = engine.url
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools of the "
            "same major version as the server (e.g. the postgresql-client package)."
        )
    return path


def _run_pg_tool(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(  # noqa: S603  (a fixed program from PATH, list argv, no shell)
        argv, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.strip() or f"exit status {done.returncode}"
        raise BackupError(f"{what} failed: {message}")


def _snapshot_postgresql(engine: Engine, target: Path) -> _Snapshot:
    """pg_dump of a snapshot that the referenced-files query reads too.

    A REPEATABLE READ transaction exports its snapshot; pg_dump runs on that snapshot
    (``--snapshot``) while the transaction stays open, so the dump, the row counts and
    the list of referenced files all see the database as of one moment.
    """
    pg_dump = _pg_tool("pg_dump")
    uri, env = _pg_env(engine)
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
        argv = [
            pg_dump,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot_id}",
            f"--file={target}",
            f"--dbname={uri}",
        ]
        _run_pg_tool(argv, env, "pg_dump")
        return _facts(connection)


# --- Backup ----------------------------------------------------------------------------


class _HashingReader:
    """Reads a file for tarfile while hashing what passes through."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.digest.update(chunk)
        return chunk


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> FileEntry | None:
    """Stream one file into the archive; None when it was deleted before it was opened."""
    try:
        source = open(path, "rb")  # noqa: SIM115  (closed below; opened apart to catch a deletion)
    except FileNotFoundError:
        return None
    with source:
        stat = os.fstat(source.fileno())
        info = tarfile.TarInfo(name)
        info.size = stat.st_size
        info.mtime = int(stat.st_mtime)
        info.mode = 0o600
        reader = _HashingReader(source)
        # Files are never changed in place, so the size read from the open file holds.
        archive.addfile(info, reader)
    return FileEntry(name, stat.st_size, reader.digest.hexdigest())


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(now_utc().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _pin(storage: Storage, engine: Engine, pins: Path) -> set[str] | None:
    """Hard-link the data files not pinned yet into ``pins``; returns every path seen.

    A link keeps a file's bytes however long the copy takes, even when the app deletes
    the file meanwhile. None when the file system does not support hard links.
    """
    seen = set()
    for path in data_files(storage, engine):
        pinned = pins / path
        if not pinned.exists():
            pinned.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(storage.path(path), pinned)
            except FileNotFoundError:
                continue  # deleted since the walk listed it
            except OSError:
                return None
        seen.add(path)
    return seen


def _write_archive(
    engine: Engine, storage: Storage, target: BinaryIO, work: Path
) -> tuple[Manifest, set[str]]:
    """One attempt: pin, snapshot, pin again, then copy; returns the manifest and what is missing.

    The files pinned before the snapshot hold every file it refers to that existed then,
    whatever is deleted later; the second pass pins files written since. The archive
    takes the files present at the second pass, and the pinned ones the snapshot refers
    to that were deleted in between.
    """
    kind = database_kind(engine)
    member = DATABASE_MEMBERS[kind]
    dump = work / member
    created_at = now_utc().isoformat(timespec="seconds")
    with storage.new_held_folder(BACKUP_PINS_PREFIX) as pins:
        before = _pin(storage, engine, pins)
        snapshot = (_snapshot_sqlite if kind == "sqlite" else _snapshot_postgresql)(engine, dump)
        after = _pin(storage, engine, pins) if before is not None else None
        if before is None or after is None:
            locate, paths = storage.path, list(data_files(storage, engine))  # no hard links here
        else:
            locate, paths = pins.joinpath, sorted(after | (before & snapshot.referenced))
        with tarfile.open(fileobj=target, mode="w|", format=tarfile.PAX_FORMAT) as archive:
            database = _add_file(archive, member, dump)
            assert database is not None  # noqa: S101  (written just above, in a private folder)
            dump.unlink()
            files = []
            for path in paths:
                entry = _add_file(archive, FILES + path, locate(path))
                if entry is not None:
                    files.append(FileEntry(path, entry.size, entry.sha256))
            manifest = Manifest(
                created_at, kind, snapshot.revision, database, snapshot.tables, files
            )
            _add_bytes(archive, MANIFEST, manifest.to_json())
    missing = snapshot.referenced - {entry.path for entry in files}
    return manifest, missing


def write_backup(engine: Engine, storage: Storage, out: Path) -> BackupResult:
    """Write a consistent backup of the database and the data dir to ``out`` (a tar file).

    The archive appears under its name only once it is complete (a temporary file in the
    same folder, fsynced, then renamed); on any failure nothing is left behind.
    """
    out = out.absolute()
    if out.resolve().is_relative_to(storage.data_dir.resolve()):
        raise BackupError("Write the backup outside the data dir (it would back itself up).")
    if not out.parent.is_dir():
        raise BackupError(f"The folder {out.parent} does not exist.")
    missing: set[str] = set()
    for attempt in range(1, ATTEMPTS + 1):
        fd, partial = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
        try:
            with (
                tempfile.TemporaryDirectory(dir=out.parent, prefix=".lms-backup-") as work,
                os.fdopen(fd, "wb") as target,
            ):
                manifest, missing = _write_archive(engine, storage, target, Path(work))
                target.flush()
                os.fsync(target.fileno())
            if not missing:
                os.replace(partial, out)
                fsync_dir(out.parent)
                return BackupResult(manifest, out.stat().st_size, attempt)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
    example = sorted(missing)[:5]
    raise BackupError(
        f"The database refers to {len(missing)} file(s) that are not in the data dir "
        f"({', '.join(example)}), in each of {ATTEMPTS} attempts. If learners were deleting "
        "files, try again; otherwise these files are lost from the data dir."
    )


# --- Restore ---------------------------------------------------------------------------


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"There is no backup archive at {path}.")
    try:
        return tarfile.open(path, mode="r:")
    except tarfile.TarError:
        raise BackupError(f"{path} is not a backup archive (not a tar file).") from None


def read_manifest(path: Path) -> Manifest:
    """The manifest of the archive at ``path``; BackupError when it is missing or damaged."""
    with _open_archive(path) as archive:
        return _read_manifest(archive, path)


def _read_manifest(archive: tarfile.TarFile, path: Path) -> Manifest:
    try:
        member = archive.getmember(MANIFEST)
        stream = archive.extractfile(member)
        data = stream.read() if stream is not None else b""
    except KeyError:
        raise BackupError(
            f"{path} has no manifest: it is not an lms backup, or cut short."
        ) from None
    except (tarfile.TarError, OSError, EOFError):
        raise BackupError(
            f"{path} is damaged or was cut short: the tar file cannot be read to its end."
        ) from None
    return Manifest.from_json(data)


def _check_revision(revision: str) -> str:
    """The head revision of this app; BackupError when the backup's is unknown to it."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    try:
        known = scripts.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"The backup's database is at schema revision {revision}, which this version "
            "of the app does not know (the backup comes from a newer version): restore it "
            "with that version."
        )
    return scripts.get_current_head()


def database_tables_with_rows(engine: Engine) -> list[str]:
    """The target database's tables that hold rows (the Alembic version table aside)."""
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return [
            name
            for name in sorted(names)
            if name != "alembic_version"
            and connection.scalar(select(1).select_from(table(name)).limit(1)) is not None
        ]


def _check_target_empty(engine: Engine, storage: Storage) -> None:
    tables = database_tables_with_rows(engine)
    files = list(data_files(storage, engine)) if storage.data_dir.is_dir() else []
    problems = []
    if tables:
        problems.append(f"the database has data (in {', '.join(tables[:5])})")
    if files:
        problems.append(f"the data dir has {len(files)} file(s) (such as {files[0]})")
    if problems:
        raise BackupError(
            f"Nothing was restored: {' and '.join(problems)}. Restore into an empty "
            "database and data dir, or add --force to replace what is there."
        )


def _unpack(archive: tarfile.TarFile, manifest: Manifest, work: Path) -> Path:
    """Unpack and verify every member into ``work``; returns the database member's path."""
    expected = {FILES + entry.path: entry for entry in manifest.files}
    expected[manifest.database.path] = manifest.database
    seen: set[str] = set()
    for member in archive:
        if member.name == MANIFEST:
            continue
        entry = expected.get(member.name)
        if entry is None or not member.isfile() or member.name in seen:
            raise BackupError(f"The archive holds an unexpected member: {member.name!r}.")
        seen.add(member.name)
        target = work / member.name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        with source, open(target, "wb") as out:
            sha256, size = copy_hashed(source, out)
            out.flush()
            os.fsync(out.fileno())
        if size != entry.size or sha256 != entry.sha256:
            raise BackupError(
                f"{member.name} does not match the manifest's checksum: the archive is damaged."
            )
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"The archive lacks {len(missing)} member(s), such as {missing[0]}.")
    return work / manifest.database.path


def _check_sqlite_snapshot(path: Path, manifest: Manifest) -> None:
    connection = sqlite3.connect(path)
    try:
        if connection.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise BackupError("The backup's SQLite database fails its integrity check.")
    except sqlite3.DatabaseError:
        raise BackupError("The backup's database member is not a SQLite database.") from None
    finally:
        connection.close()
    snapshot = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with snapshot.connect() as db:
            if _schema_revision(db) != manifest.schema_revision or (
                _row_counts(db) != manifest.tables
            ):
                raise BackupError("The backup's database does not match its manifest.")
    finally:
        snapshot.dispose()


def _load_sqlite(engine: Engine, snapshot: Path) -> None:
    """Copy the snapshot over the target database in one transaction (SQLite backup API)."""
    target_path = _sqlite_path(engine)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(snapshot)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _load_postgresql(engine: Engine, dump: Path) -> None:
    """pg_restore in one transaction, replacing the tables the dump holds."""
    pg_restore = _pg_tool("pg_restore")
    uri, env = _pg_env(engine)
    argv = [
        pg_restore,
        "--single-transaction",
        "--exit-on-error",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        f"--dbname={uri}",
        str(dump),
    ]
    _run_pg_tool(argv, env, "pg_restore")


def _move_files(source: Path, storage: Storage, manifest: Manifest) -> None:
    for entry in manifest.files:
        target = storage.path(entry.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source / entry.path, target)


def restore(
    archive_path: Path, engine: Engine, storage: Storage, *, force: bool = False
) -> RestoreResult:
    """Restore a backup into the database and data dir; refuses targets that hold data.

    With ``force`` the database's tables and the data dir's files are replaced. Every
    check runs before anything changes; the database loads in one transaction, and the
    files, verified already, are renamed into place after it.
    """
    kind = database_kind(engine)
    with _open_archive(archive_path) as archive:
        manifest = _read_manifest(archive, archive_path)
        if manifest.kind != kind:
            raise BackupError(
                f"The backup holds a {_label(manifest.kind)} database and the target is "
                f"{_label(kind)}: restore it into a {_label(manifest.kind)} database "
                "(backups do not convert between kinds)."
            )
        head = _check_revision(manifest.schema_revision)
        if not force:
            _check_target_empty(engine, storage)
        storage.data_dir.mkdir(parents=True, exist_ok=True)
        with storage.new_held_folder(RESTORE_WORK_PREFIX) as work:
            try:
                dump = _unpack(archive, manifest, work)
            except (tarfile.TarError, OSError, EOFError) as error:
                raise BackupError(f"{archive_path} is damaged: {error}") from None
            if kind == "sqlite":
                _check_sqlite_snapshot(dump, manifest)
                engine.dispose()
                _load_sqlite(engine, dump)
            else:
                engine.dispose()
                _load_postgresql(engine, dump)
            upgraded_to = None
            if manifest.schema_revision != head:
                migrate.upgrade(engine)
                upgraded_to = head
            if force:
                old = work / "replaced"
                for path in list(data_files(storage, engine)):
                    (old / path).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(storage.path(path), old / path)
            _move_files(work / FILES.rstrip("/"), storage, manifest)
    return RestoreResult(manifest, upgraded_to)


def _label(kind: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(kind, kind)
