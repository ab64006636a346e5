"""A restore that cannot be made: a damaged, tampered or foreign archive, a target in use.

Every refusal says why and leaves the target database and data dir as they were.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lms.ops import backup
from tests.backups import (
    OTHER_KIND,
    data_files,
    leftovers,
    populate,
)
from tests.conftest import Target, _backend

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
