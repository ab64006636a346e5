"""Backup and restore: a populated instance comes back row for row and byte for byte.

Each test backs up the test's own database and data dir through `lms backup` and
restores into a second, fresh database and data dir (a "target") through `lms restore`.
The same tests run on SQLite and on PostgreSQL (LMS_TEST_DATABASE).
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import io
import json
import os
import re
import shutil
import tarfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from lms import create_app, learner_files, reflections, review
from lms.audit import record
from lms.db import Base
from lms.models import (
    Attachment,
    Enrollment,
    LearnerFile,
    LessonProgress,
    Media,
    Module,
    ProgressStatus,
    Reflection,
    Role,
    User,
)
from lms.ops import backup
from lms.storage import Storage
from lms.web.database import database
from lms.web.storage import storage
from tests import cohort_data, factories
from tests.conftest import PASSWORD, _backend, _postgres_admin, _postgres_url
from tests.fixtures.packages.kit import MINIMAL

LIMITS = learner_files.Limits(max_bytes=1_000_000, quota_bytes=100_000_000)
OTHER_KIND = {"sqlite": ("postgresql", "PostgreSQL"), "postgresql": ("sqlite", "SQLite")}


# --- Targets: a second, fresh database and data dir --------------------------------


@dataclass
class Target:
    """A fresh database and data dir to restore into, with an app over them."""

    app: Flask
    data_dir: Path

    @property
    def engine(self) -> Engine:
        return database(self.app).engine

    def restore(self, archive: Path, *args: str):
        return self.app.test_cli_runner().invoke(args=["restore", str(archive), *args])


@pytest.fixture
def make_target(database_template: str, tmp_path: Path) -> Iterator[Callable[..., Target]]:
    """make_target(migrated=True): a new database (migrated, or with no schema at all)."""
    apps: list[Flask] = []
    databases: list[str] = []
    admin = _postgres_admin() if _backend() == "postgresql" else None

    def make(migrated: bool = True) -> Target:
        n = len(apps) + 1
        if _backend() == "postgresql":
            name = f"lms_restore_{uuid.uuid4().hex[:12]}"
            template = f' TEMPLATE "{database_template}"' if migrated else ""
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
            databases.append(name)
            url = _postgres_url(name)
        else:
            path = tmp_path / f"target-{n}.sqlite3"
            if migrated:
                shutil.copyfile(database_template, path)
            url = f"sqlite:///{path}"
        data_dir = tmp_path / f"target-{n}-data"
        environ = {
            "LMS_DATA_DIR": str(data_dir),
            "LMS_DATABASE_URL": url,
            "LMS_SECRET_KEY": "test secret key, not for production",
            "LMS_BASE_URL": "http://lms.test",
        }
        app = create_app(environ, {"TESTING": True})
        apps.append(app)
        return Target(app, data_dir)

    yield make
    for app in apps:
        database(app).engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            for name in databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- A populated instance ------------------------------------------------------------


def populate(app: Flask, db: Session, runner) -> None:
    """People, an imported module, a cohort, answers with revisions, feedback, files, audit."""
    data_dir = app.config["LMS_DATA_DIR"]
    imported = runner.invoke(args=["modules", "import", str(MINIMAL)])
    assert imported.exit_code == 0, imported.output
    learner, other, facilitator, admin = cohort_data.quick_users(
        db, Role.LEARNER, Role.LEARNER, Role.FACILITATOR, Role.ADMIN
    )
    module = factories.make_module(
        db,
        lessons=2,
        prompts=[{"accepts_files": True}],
        attachments=1,
        module_attachments=1,
        media=True,
        data_dir=data_dir,
    )
    listening = db.scalar(select(Module).where(Module.slug != module.slug))
    cohort_data.make_cohort(db, "Spring cohort", [module, listening], [facilitator], [learner])
    for person in (learner, other):
        lesson = module.lessons[0]
        db.add(Enrollment(user_id=person.id, module_id=module.id, last_lesson_id=lesson.id))
        db.add(LessonProgress(user_id=person.id, lesson_id=lesson.id))
        prompt = lesson.prompts[0]
        draft = reflections.save_draft(db, person, prompt, "A first thought", based_on=0)
        reflections.save_draft(db, person, prompt, "A first thought, longer", based_on=1)
        answer = reflections.submit(
            db, person, prompt, "What I learned about listening\n\n« ça » 🕊", based_on=2
        )
        assert answer.id == draft.id
        db.flush()
        review.give_feedback(db, facilitator, answer, "Thank you for **this**.")
        for n in range(3):
            learner_files.add_file(
                db,
                person,
                answer,
                io.BytesIO(f"Notes {n} of {person.display_name}\n".encode() * (n + 1)),
                f"notes-{n}.txt",
                storage=Storage(Path(data_dir)),
                limits=LIMITS,
            )
    db.add(
        LessonProgress(
            user_id=learner.id,
            lesson_id=module.lessons[1].id,
            status=ProgressStatus.COMPLETE,
        )
    )
    record(db, admin, "user.role_changed", other, old="learner", new="facilitator")
    db.commit()
    # Mail written to the outbox (no SMTP here) is part of the data dir as well.
    outbox = Path(data_dir) / "outbox"
    outbox.mkdir(exist_ok=True)
    (outbox / "20260301T090000-abcdefgh.eml").write_bytes(b"Subject: Welcome\n\nHello\n")


# --- What is compared ------------------------------------------------------------------


def all_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (and the Alembic revision), in primary key order."""
    with engine.connect() as conn:
        rows = {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
        rows["alembic_version"] = conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).all()
    return rows


def data_files(data_dir: Path | str) -> dict[str, str]:
    """path -> SHA-256 of every file that is data (what a backup must carry)."""
    root = Path(data_dir)
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in ("staging", "uploads", "secret_key") or not path.is_file():
            continue
        if path.name.startswith("lms.sqlite3") or any(p.startswith(".") for p in relative.parts):
            continue
        found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_referenced_files_present(engine: Engine, data_dir: Path | str) -> int:
    """Every file a row refers to is in the data dir with the bytes the row's hash says."""
    blobs = Path(data_dir) / "blobs"
    with engine.connect() as conn:
        expected = {
            blobs / sha[:2] / sha[2:]: sha
            for sha in conn.scalars(select(Attachment.sha256).union(select(Media.sha256)))
        }
        for row in conn.execute(select(LearnerFile)):
            path = Storage(Path(data_dir)).learner_folder(row.user_id) / row.public_id
            expected[path] = row.sha256
    for path, sha256 in expected.items():
        assert path.is_file(), f"{path.name} is referenced but missing"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    return len(expected)


def leftovers(folder: Path) -> list[str]:
    """Anything a failed backup or restore might leave: partial files, work folders."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- Round trips -------------------------------------------------------------------


@pytest.mark.parametrize("migrated", [True, False], ids=["migrated-target", "empty-target"])
def test_round_trip_restores_every_row_and_every_file(
    app, db, runner, make_target, tmp_path, migrated
):
    populate(app, db, runner)
    archive = tmp_path / "backups" / "lms.tar"
    archive.parent.mkdir()

    started = time.monotonic()
    made = runner.invoke(args=["backup", str(archive)])
    backup_seconds = time.monotonic() - started
    assert made.exit_code == 0, made.output
    assert re.search(r"Wrote .*lms\.tar \(.+\): the \w+ database", made.output)
    assert leftovers(archive.parent) == []
    assert leftovers(Path(app.config["LMS_DATA_DIR"])) == []

    target = make_target(migrated=migrated)
    started = time.monotonic()
    restored = target.restore(archive)
    restore_seconds = time.monotonic() - started
    assert restored.exit_code == 0, restored.output

    source_rows, target_rows = all_rows(database(app).engine), all_rows(target.engine)
    assert source_rows == target_rows
    assert all(source_rows[t] for t in ("user", "reflection_revision", "feedback", "cohort"))
    assert len(source_rows["learner_file"]) == 6
    source_files = data_files(app.config["LMS_DATA_DIR"])
    assert source_files == data_files(target.data_dir)
    assert any(p.startswith("learner-files/") for p in source_files)
    assert any(p.startswith("outbox/") for p in source_files)
    assert assert_referenced_files_present(target.engine, target.data_dir) == len(source_files) - 1
    assert leftovers(target.data_dir) == []
    print(  # the figures of the report: pytest -s shows them
        f"\nround trip ({_backend()}): {sum(map(len, source_rows.values()))} rows in "
        f"{len(source_rows)} tables, {len(source_files)} files, archive "
        f"{archive.stat().st_size} bytes; backup {backup_seconds:.2f} s, "
        f"restore {restore_seconds:.2f} s"
    )


def test_the_manifest_describes_the_archive(app, db, runner, tmp_path):
    populate(app, db, runner)
    archive = tmp_path / "lms.tar"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        contents = {
            name: hashlib.sha256(tar.extractfile(name).read()).hexdigest()
            for name in names
            if name != "manifest.json"
        }
    kind = _backend()
    assert names[-1] == "manifest.json"
    assert names[0] == {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[kind]
    assert manifest["format"] == "lms-backup"
    assert manifest["format_version"] == 1
    assert manifest["database"]["kind"] == kind
    assert (
        manifest["database"]["schema_revision"]
        == all_rows(database(app).engine)["alembic_version"][0][0]
    )
    assert manifest["database"]["tables"]["learner_file"] == 6
    assert contents[manifest["database"]["member"]] == manifest["database"]["sha256"]
    assert {f"files/{f['path']}": f["sha256"] for f in manifest["files"]} == {
        name: sha for name, sha in contents.items() if name.startswith("files/")
    }
    assert {f["path"] for f in manifest["files"]} == set(data_files(app.config["LMS_DATA_DIR"]))


def test_what_is_left_out_of_the_archive(app, runner, tmp_path):
    data_dir = Path(app.config["LMS_DATA_DIR"])
    for name in ("staging/abc/file", "uploads/token.zip", ".tmp-123", "blobs/ab/.tmp-x"):
        (data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / name).write_bytes(b"temporary")
    (data_dir / "secret_key").write_text("not in backups")
    (data_dir / "kept.txt").write_text("data")
    archive = tmp_path / "lms.tar"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    assert [f.path for f in backup.read_manifest(archive).files] == ["kept.txt"]


def test_a_sqlite_database_inside_the_data_dir_is_not_copied_as_a_file(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "blobs").mkdir(parents=True)
    (data_dir / "blobs" / "file").write_bytes(b"x")
    for name in ("lms.sqlite3", "lms.sqlite3-wal", "lms.sqlite3-shm"):
        (data_dir / name).write_bytes(b"live")
    engine = database(create_app({"LMS_DATA_DIR": str(data_dir)})).engine
    assert list(backup.data_files(Storage(data_dir), engine)) == ["blobs/file"]


def test_restore_with_force_replaces_an_instance(app, db, runner, tmp_path):
    populate(app, db, runner)
    archive = tmp_path / "lms.tar"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    before_rows = all_rows(database(app).engine)
    before_files = data_files(app.config["LMS_DATA_DIR"])
    # Work goes on after the backup: a new account, a new file, a file removed.
    cohort_data.quick_users(db, Role.LEARNER)
    data_dir = Path(app.config["LMS_DATA_DIR"])
    (data_dir / "outbox" / "later.eml").write_bytes(b"later")
    learner_file = db.scalars(select(LearnerFile)).first()
    path = learner_files.delete_file(db, learner_file, Storage(data_dir))
    db.commit()
    path.unlink()
    db.close()

    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code == 1
    assert "the database has data" in refused.output
    assert "--force" in refused.output

    restored = runner.invoke(args=["restore", str(archive), "--force"])
    assert restored.exit_code == 0, restored.output
    assert all_rows(database(app).engine) == before_rows
    assert data_files(data_dir) == before_files
    assert leftovers(data_dir) == []


# --- A backup while the server keeps taking writes ----------------------------------


class Browser:
    """A learner's browser against the live server: cookies, CSRF, forms, uploads."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})  # noqa: S310
        with self.opener.open(req, timeout=30) as response:
            return response.status, response.read()

    def refresh_token(self, path: str = "/login") -> None:
        page = self.request(path)[1].decode()
        self.token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, path: str, fields: dict[str, str]):
        body = urllib.parse.urlencode({**fields, "csrf_token": self.token}).encode()
        return self.request(path, body, {"Accept": "application/json"})

    def upload(self, path: str, field: str, filename: str, content: bytes):
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{self.token}\r\n".encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
            + content
            + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
        }
        return self.request(path, b"".join(parts), headers)


def keep_writing(
    browser: Browser, prompt_id: int, revision: int, stop: threading.Event, done: list
) -> None:
    """Autosave, upload and remove files until told to stop; count what succeeded."""
    uploaded: list[str] = []
    n = 0
    while not stop.is_set():
        n += 1
        status, body = browser.post(
            f"/prompts/{prompt_id}/answer",
            {f"p{prompt_id}-body": f"Draft {n}", f"p{prompt_id}-revision": str(revision)},
        )
        assert status == 200
        revision = json.loads(body)["revision"]
        done.append("save")
        status, _ = browser.upload(
            f"/prompts/{prompt_id}/answer/files", f"u{prompt_id}-files", f"n{n}.txt", b"x" * n
        )
        assert status == 200
        done.append("upload")
        page = browser.request("/my-work")[1].decode()
        uploaded = re.findall(r'/files/([A-Za-z0-9_-]{20,64})/delete"', page)
        if n % 3 == 0 and uploaded:
            browser.post(f"/files/{uploaded[0]}/delete", {})
            done.append("delete")


@pytest.mark.slow
def test_backup_while_the_server_takes_writes_is_consistent(
    app, db, runner, live_server, make_target, tmp_path
):
    data_dir = app.config["LMS_DATA_DIR"]
    learner = cohort_data.quick_users(db, Role.LEARNER)[0]
    module = factories.make_module(
        db, lessons=1, prompts=[{"accepts_files": True}], attachments=1, data_dir=data_dir
    )
    lesson = module.lessons[0]
    db.add(Enrollment(user_id=learner.id, module_id=module.id, last_lesson_id=lesson.id))
    db.add(LessonProgress(user_id=learner.id, lesson_id=lesson.id))
    db.commit()
    prompt_id = lesson.prompts[0].id
    # Enough files that copying them takes a while the writes go on.
    answer = reflections.save_draft(db, learner, lesson.prompts[0], "Start", based_on=0)
    for n in range(150):
        learner_files.add_file(
            db,
            learner,
            answer,
            io.BytesIO(os.urandom(10_000).hex().encode()),
            f"f{n}.txt",
            storage=Storage(Path(data_dir)),
            limits=LIMITS,
        )
    db.commit()
    db.close()

    browser = Browser(live_server.url)
    browser.refresh_token()
    status, _ = browser.post("/login", {"email": learner.email, "password": PASSWORD})
    assert status == 200
    browser.refresh_token("/my-work")
    stop, done, errors = threading.Event(), [], []

    def writer() -> None:
        try:
            keep_writing(browser, prompt_id, answer.revision_count, stop, done)
        except BaseException as error:  # noqa: BLE001  (reported by the test below)
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    archives = []
    try:
        while len(done) < 6 and thread.is_alive():
            time.sleep(0.05)
        for n in range(3):
            before = len(done)
            archive = tmp_path / f"live-{n}.tar"
            made = runner.invoke(args=["backup", str(archive)])
            assert made.exit_code == 0, made.output
            archives.append((archive, len(done) - before))
            print(f"\n{made.output.strip()} [{len(done) - before} writes meanwhile]")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert errors == []
    assert sum(writes for _, writes in archives) > 0, "no write happened during the backups"

    for archive, _writes in archives:
        target = make_target()
        restored = target.restore(archive)
        assert restored.exit_code == 0, restored.output
        manifest = backup.read_manifest(archive)
        rows = all_rows(target.engine)
        assert {name: len(rows[name]) for name in manifest.tables} == manifest.tables
        assert assert_referenced_files_present(target.engine, target.data_dir) > 150


# --- A backup that cannot be made ------------------------------------------------------


def test_backup_refuses_to_write_into_the_data_dir(app, runner):
    out = Path(app.config["LMS_DATA_DIR"]) / "lms.tar"
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 1
    assert "outside the data dir" in result.output
    assert not out.exists()


def test_a_backup_that_fails_half_way_leaves_nothing(app, db, runner, tmp_path, monkeypatch):
    populate(app, db, runner)
    calls = []
    add_file = backup._add_file

    def failing(archive, name, path):
        calls.append(name)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return add_file(archive, name, path)

    monkeypatch.setattr(backup, "_add_file", failing)
    out = tmp_path / "backups" / "lms.tar"
    out.parent.mkdir()
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code != 0
    assert list(out.parent.iterdir()) == []


@pytest.mark.skipif(_backend() != "postgresql", reason="pg_dump is PostgreSQL's")
def test_backup_without_pg_dump_says_what_to_install(app, runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "lms.tar"
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 1
    assert "pg_dump was not found on PATH" in result.output
    assert "same major version" in result.output
    assert list(tmp_path.glob("*lms.tar*")) == []


def around_the_snapshot(monkeypatch, before=None, after=None) -> None:
    """Run before() just before the database snapshot and after() just after it."""
    for name in ("_snapshot_sqlite", "_snapshot_postgresql"):
        snapshot = getattr(backup, name)

        def wrapped(engine, target, snapshot=snapshot):
            if before:
                before()
            taken = snapshot(engine, target)
            if after:
                after()
            return taken

        monkeypatch.setattr(backup, name, wrapped)


def remove_a_learner_file(app: Flask, public_id: str | None = None) -> str:
    """Remove a learner file as the app does: the row commits, then the file goes."""
    data_dir = app.config["LMS_DATA_DIR"]
    with database(app).new_session(write=True) as session:
        query = select(LearnerFile).order_by(LearnerFile.id)
        if public_id:
            query = query.where(LearnerFile.public_id == public_id)
        learner_file = session.scalars(query).first()
        public_id = learner_file.public_id
        path = learner_files.delete_file(session, learner_file, Storage(Path(data_dir)))
        session.commit()
    path.unlink()
    return public_id


def test_a_file_removed_after_the_snapshot_is_still_in_the_archive(
    app, db, runner, make_target, tmp_path, monkeypatch
):
    populate(app, db, runner)
    before_rows = all_rows(database(app).engine)
    removed = []
    around_the_snapshot(monkeypatch, after=lambda: removed.append(remove_a_learner_file(app)))
    archive = tmp_path / "lms.tar"
    result = backup.write_backup(database(app).engine, storage(app), archive)
    assert result.attempts == 1
    assert result.manifest.tables["learner_file"] == 6

    target = make_target()
    assert target.restore(archive).exit_code == 0
    assert all_rows(target.engine) == before_rows
    assert assert_referenced_files_present(target.engine, target.data_dir) == 13
    assert removed[0] in {f.public_id for f in select_all(target.engine, LearnerFile)}


def select_all(engine: Engine, model) -> list:
    with engine.connect() as conn:
        return conn.execute(select(model.__table__)).all()


def test_a_file_written_and_removed_around_the_snapshot_makes_it_start_again(
    app, db, runner, tmp_path, monkeypatch
):
    populate(app, db, runner)
    data_dir = app.config["LMS_DATA_DIR"]
    added = []

    def upload() -> None:
        if added:
            return
        with database(app).new_session(write=True) as session:
            answer = session.get(
                Reflection, session.scalars(select(LearnerFile)).first().reflection_id
            )
            learner_file = learner_files.add_file(
                session,
                session.get(User, answer.user_id),
                answer,
                io.BytesIO(b"written between the passes\n"),
                "late.txt",
                storage=Storage(Path(data_dir)),
                limits=LIMITS,
            )
            session.commit()
            added.append(learner_file.public_id)

    def remove() -> None:
        if len(added) == 1:
            remove_a_learner_file(app, added[0])
            added.append("removed")

    around_the_snapshot(monkeypatch, before=upload, after=remove)
    result = backup.write_backup(database(app).engine, storage(app), tmp_path / "lms.tar")
    assert result.attempts == 2
    assert result.manifest.tables["learner_file"] == 6
    assert leftovers(Path(data_dir)) == []


def test_a_file_lost_from_the_data_dir_is_named(app, db, runner, tmp_path):
    populate(app, db, runner)
    learner_file = db.scalars(select(LearnerFile)).first()
    Storage(Path(app.config["LMS_DATA_DIR"])).learner_file_path(learner_file).unlink()
    out = tmp_path / "lms.tar"
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 1
    assert f"learner-files/{learner_file.user_id}/{learner_file.public_id}" in result.output
    assert list(tmp_path.glob("*lms.tar*")) == []


# --- A restore that cannot be made ------------------------------------------------------


@pytest.fixture
def archive(app, db, runner, tmp_path) -> Path:
    """A backup of a populated instance."""
    populate(app, db, runner)
    out = tmp_path / "lms.tar"
    made = runner.invoke(args=["backup", str(out)])
    assert made.exit_code == 0, made.output
    return out


def rewrite(archive: Path, out: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """A copy of the archive with each member's bytes passed through change(name, data)."""
    with tarfile.open(archive) as source, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as copy:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return out


def edit_manifest(archive: Path, out: Path, edit: Callable[[dict], None]) -> Path:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return rewrite(archive, out, change)


def assert_nothing_restored(target: Target) -> None:
    assert backup.database_tables_with_rows(target.engine) == []
    assert data_files(target.data_dir) == {}
    assert leftovers(target.data_dir) == []


def _flip_a_byte(name: str, data: bytes) -> bytes:
    if name.startswith("files/learner-files/"):
        return bytes([data[0] ^ 1]) + data[1:]
    return data


def _set_kind(manifest: dict) -> None:
    kind, _label = OTHER_KIND[manifest["database"]["kind"]]
    manifest["database"]["kind"] = kind
    manifest["database"]["member"] = backup.DATABASE_MEMBERS[kind]


def _unknown_revision(manifest: dict) -> None:
    manifest["database"]["schema_revision"] = "ffffffffffff"


def _future_format(manifest: dict) -> None:
    manifest["format_version"] = 2


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "There is no backup archive at"),
        ("not-a-tar", "is not a backup archive"),
        ("cut-short", "cut short"),
        ("checksum", "does not match the manifest's checksum"),
        ("other-kind", "Restore it into a"),
        ("unknown-revision", "which this version of the app does not know"),
        ("future-format", "this version of the app reads format 1"),
    ],
)
def test_a_bad_archive_is_refused_and_nothing_is_left(
    archive, make_target, tmp_path, damage, message
):
    bad = tmp_path / "bad.tar"
    if damage == "not-a-tar":
        bad.write_bytes(os.urandom(4096))
    elif damage == "cut-short":
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    elif damage == "checksum":
        rewrite(archive, bad, _flip_a_byte)
    elif damage == "other-kind":
        edit_manifest(archive, bad, _set_kind)
    elif damage == "unknown-revision":
        edit_manifest(archive, bad, _unknown_revision)
    elif damage == "future-format":
        edit_manifest(archive, bad, _future_format)
    target = make_target()
    result = target.restore(bad)
    assert result.exit_code == 1
    assert message.lower() in result.output.lower(), result.output
    assert "Traceback" not in result.output
    assert_nothing_restored(target)


def test_a_backup_of_the_other_kind_names_both(archive, make_target, tmp_path):
    bad = edit_manifest(archive, tmp_path / "other.tar", _set_kind)
    result = make_target().restore(bad)
    other = OTHER_KIND[_backend()][1]
    assert f"The backup holds a {other} database" in result.output


def test_restore_refuses_a_target_with_files(archive, make_target):
    target = make_target()
    (target.data_dir / "learner-files" / "1").mkdir(parents=True)
    (target.data_dir / "learner-files" / "1" / "old").write_bytes(b"someone's file")
    result = target.restore(archive)
    assert result.exit_code == 1
    assert "the data dir has 1 file(s)" in result.output
    assert backup.database_tables_with_rows(target.engine) == []
    assert (target.data_dir / "learner-files" / "1" / "old").read_bytes() == b"someone's file"
