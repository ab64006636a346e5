"""Backup and restore: a populated instance comes back row for row and byte for byte.

Each test backs up the test's own database and data dir through `lms backup` and
restores into a second, fresh database and data dir (a "target") through `lms restore`.
The same tests run on SQLite and on PostgreSQL (LMS_TEST_DATABASE). The other stories:
test_backup_under_load.py, test_backup_refusals.py, test_restore_refusals.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import create_app, learner_files
from lms.models import (
    LearnerFile,
    Role,
)
from lms.ops import backup
from lms.storage import Storage
from lms.web.database import database
from tests import factories
from tests.backups import (
    all_rows,
    assert_referenced_files_present,
    data_files,
    leftovers,
    populate,
)
from tests.conftest import _backend

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
    factories.make_users(db, Role.LEARNER)
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
