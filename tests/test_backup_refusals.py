"""A backup that cannot be made fails cleanly, and one raced by the app's writes holds.

Files written or removed around the database snapshot, a full disk half way, a file
lost from the data dir: the archive is complete, is taken again, or is not written.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from lms import learner_files
from lms.models import (
    LearnerFile,
    Reflection,
    User,
)
from lms.ops import backup
from lms.storage import Storage
from lms.web.database import database
from lms.web.storage import storage
from tests.backups import (
    LIMITS,
    all_rows,
    assert_referenced_files_present,
    leftovers,
    populate,
)
from tests.conftest import _backend

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
    # 13 files, and the copy of the image of populate()'s module.
    assert assert_referenced_files_present(target.engine, target.data_dir) == 14
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
