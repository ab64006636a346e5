"""`lms storage sweep`: files nothing refers to are taken back; nothing referred to is touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import Attachment, LearnerFile, Media
from lms.ops import housekeeping
from tests.factories import make_module, store_blob

HOUR = 3600


def _age(path: Path, seconds: int) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def _write(path: Path, data: bytes, age: int = 2 * HOUR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _age(path, age)


@pytest.fixture
def learner_with_a_file(app, db, make_user, storage):
    """A learner whose one file is in the database and on disk (an old one)."""
    learner = make_user()
    kept = LearnerFile(
        public_id="k" * 32,
        user_id=learner.id,
        filename="story.txt",
        content_type="text/plain",
        size=5,
        sha256="0" * 64,
    )
    db.add(kept)
    db.commit()
    path = storage.learner_file_path(kept)
    _write(path, b"story")
    return learner, path


def test_files_the_database_knows_are_kept_and_orphans_go(db, storage, learner_with_a_file):
    learner, kept = learner_with_a_file
    folder = kept.parent
    orphan = _write(folder / ("o" * 32), b"a crash left me here")
    half_written = _write(folder / ".tmp-abc123", b"half")
    young_orphan = _write(folder / ("y" * 32), b"being committed right now", age=60)

    report = housekeeping.sweep(db, storage, min_age_seconds=HOUR)

    assert kept.read_bytes() == b"story"
    assert not orphan.exists()
    assert not half_written.exists()
    assert young_orphan.exists()  # an upload in flight is never raced
    assert (report.learner_files_removed, report.temporary_files_removed) == (1, 1)
    assert report.bytes_freed == len(b"a crash left me here") + len(b"half")


def test_the_folder_of_an_account_that_is_gone_goes(db, storage, learner_with_a_file):
    gone = storage.learner_files_dir / "987654"
    _write(gone / ("g" * 32), b"deleted account's drawing")
    _age(gone, 2 * HOUR)

    report = housekeeping.sweep(db, storage, min_age_seconds=HOUR)

    assert not gone.exists()
    assert report.learner_files_removed == 1
    assert learner_with_a_file[1].exists()


def test_blobs_a_module_still_uses_are_kept_and_the_rest_go(app, db, storage):
    data_dir = app.config["LMS_DATA_DIR"]
    make_module(db, lessons=2, attachments=1, media=True, data_dir=data_dir)
    db.commit()
    used = set(db.scalars(select(Attachment.sha256))) | set(db.scalars(select(Media.sha256)))
    for sha256 in used:
        _age(storage.blob_path(sha256), 2 * HOUR)
    unused = store_blob(data_dir, b"an attachment of a version nobody uses")
    _age(storage.blob_path(unused), 2 * HOUR)
    fresh = store_blob(data_dir, b"placed a minute ago")

    report = housekeeping.sweep(db, storage, min_age_seconds=HOUR)

    assert all(storage.has_blob(sha256) for sha256 in used)
    assert not storage.has_blob(unused)
    assert storage.has_blob(fresh)
    assert report.blobs_removed == 1


def test_a_second_sweep_finds_nothing(db, storage, learner_with_a_file):
    _write(learner_with_a_file[1].parent / ("o" * 32), b"orphan")
    housekeeping.sweep(db, storage, min_age_seconds=HOUR)
    assert housekeeping.sweep(db, storage, min_age_seconds=HOUR) == housekeeping.SweepReport()


def test_an_empty_data_dir_is_fine(db, storage):
    assert housekeeping.sweep(db, storage) == housekeeping.SweepReport()


def _hold_in_another_process(folder: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from lms.storage import held_folder\n"
            "with held_folder(Path(sys.argv[1])) as pins:\n"
            "    (pins / 'pinned').write_bytes(b'x')\n"
            "    time.sleep(60)",
            str(folder),
        ]
    )
    deadline = time.monotonic() + 10
    while not (folder / "pinned").exists():
        assert holder.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return holder


@pytest.mark.parametrize("prefix", [".backup-", ".restore-"])
def test_a_killed_backups_pins_go_and_a_running_backups_stay(db, storage, prefix):
    pins = storage.data_dir / f"{prefix}running"
    holder = _hold_in_another_process(pins)
    try:
        report = housekeeping.sweep(db, storage, min_age_seconds=0)
        assert pins.is_dir()  # however young or old: its backup still holds it
        assert report.held_folders_removed == 0

        holder.send_signal(signal.SIGKILL)
        holder.wait()
        report = housekeeping.sweep(db, storage, min_age_seconds=HOUR)
    finally:
        holder.kill()
        holder.wait()

    assert not pins.exists()
    assert report.held_folders_removed == 1


def test_storage_sweep_command_reports_what_it_freed(runner, db, storage, learner_with_a_file):
    orphan = _write(learner_with_a_file[1].parent / ("o" * 32), b"orphan")
    recent = _write(learner_with_a_file[1].parent / ("r" * 32), b"recent", age=10 * 60)

    result = runner.invoke(args=["storage", "sweep", "--min-age-minutes", "30"])

    assert result.exit_code == 0, result.output
    assert "Freed 6 bytes: 1 learners' files, 0 blobs" in result.output
    assert not orphan.exists()
    assert recent.exists()
    assert learner_with_a_file[1].exists()


def test_storage_sweep_refuses_a_minimum_age_below_a_minute(runner):
    result = runner.invoke(args=["storage", "sweep", "--min-age-minutes", "0"])
    assert result.exit_code == 2
    assert "--min-age-minutes" in result.output
