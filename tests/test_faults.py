"""No lost work under faults: the real server under load, locks, a database that goes away.

The tests that cross processes run gunicorn as production does (sync workers) against
this test's own database, SQLite or PostgreSQL, and assert on what the database holds
afterwards: each save the server acknowledged is there as a revision, in order, and
nothing half-written. A full disk is a real small file system where the test may mount
one (root), else the disk's "no space left" raised by the write itself.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import learner_files, storage
from lms.models import LearnerFile
from lms.ops import housekeeping
from tests.faults import (
    LOCK_TIMEOUT_MS,
    Learner,
    Outage,
    current_text,
    learners_on_a_prompt,
    locked,
    mount_tmpfs,
    revisions,
)
from tests.servers import LiveServer

LEARNERS = 50
SECONDS = 20


def assert_plain_503(answer) -> None:
    """A 503 that says when to come back and shows nothing of the server's insides."""
    assert answer.status == 503, answer
    assert answer.headers["Retry-After"] == "5"
    body = answer.body.decode()
    for inside in ("Traceback", "sqlite", "psycopg", "OperationalError", "locked", "SELECT"):
        assert inside not in body


@pytest.fixture
def server_environ(environ: dict[str, str]) -> dict[str, str]:
    """The test's environment with a short lock timeout, for the servers it starts."""
    return {**environ, "LMS_DB_LOCK_TIMEOUT_MS": str(LOCK_TIMEOUT_MS)}


# --- 50 learners at once ------------------------------------------------------------


@dataclass
class Saves:
    """One learner's autosaves: each acknowledged (text number, revision), and 503s."""

    acknowledged: list[tuple[int, int]] = field(default_factory=list)
    busy: int = 0


def keep_saving(learner: Learner, saves: Saves, start: threading.Barrier, seconds: float):
    """Save "n=1", "n=2", ... each based on the revision the last save returned.

    A 503 is retried with the same text after its Retry-After, as autosave.js does.
    """
    start.wait(timeout=60)
    stop_at = time.monotonic() + seconds
    revision, n = 0, 0
    while time.monotonic() < stop_at:
        n += 1
        answer = learner.autosave(f"n={n}", revision)
        while answer.status == 503:
            saves.busy += 1
            time.sleep(min(int(answer.headers["Retry-After"]), 10))
            answer = learner.autosave(f"n={n}", revision)
        assert answer.status == 200, (answer.status, answer.body[:300])
        revision = answer.json()["revision"]
        saves.acknowledged.append((n, revision))


@pytest.mark.slow
def test_fifty_learners_autosaving_for_twenty_seconds_lose_and_reorder_nothing(
    app, db, environ, tmp_path
):
    prompt_id, users = learners_on_a_prompt(db, app.config["LMS_DATA_DIR"], LEARNERS)
    with LiveServer(environ, workers=3, log_path=tmp_path / "gunicorn.log") as server:
        learners = [Learner(server.url, prompt_id) for _ in users]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(Learner.sign_in, learners, [u.email for u in users]))
        start = threading.Barrier(LEARNERS)
        saves = [Saves() for _ in users]
        errors: list[BaseException] = []

        def run(learner: Learner, mine: Saves) -> None:
            try:
                keep_saving(learner, mine, start, SECONDS)
            except BaseException as error:  # noqa: BLE001  (reported by the test)
                errors.append(error)

        threads = [
            threading.Thread(target=run, args=pair) for pair in zip(learners, saves, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)

    for user, mine in zip(users, saves, strict=True):
        assert mine.acknowledged, f"{user.email} saved nothing"
        # Every acknowledged save is a revision, in the order sent, and nothing else is.
        expected = [(revision, f"n={n}") for n, revision in mine.acknowledged]
        assert revisions(db, user, prompt_id) == expected
        assert [number for number, _ in expected] == list(range(1, len(expected) + 1))
        assert current_text(db, user, prompt_id) == f"n={mine.acknowledged[-1][0]}"
    total = sum(len(mine.acknowledged) for mine in saves)
    busy = sum(mine.busy for mine in saves)
    print(f"\n{total} saves by {LEARNERS} learners in {SECONDS} s, {busy} answered 503 (retried)")


# --- The database locked --------------------------------------------------------------


@pytest.mark.slow
def test_a_locked_database_answers_503_then_the_same_save_succeeds(
    app, db, server_environ, database_url, tmp_path
):
    prompt_id, [user] = learners_on_a_prompt(db, app.config["LMS_DATA_DIR"], 1)
    with LiveServer(server_environ, workers=1, log_path=tmp_path / "gunicorn.log") as server:
        learner = Learner(server.url, prompt_id)
        learner.sign_in(user.email)
        assert learner.autosave("First thoughts.", 0).status == 200

        with locked(database_url):
            began = time.monotonic()
            answer = learner.autosave("First thoughts, and more.", 1)
            waited = time.monotonic() - began
            assert_plain_503(answer)
            assert "is sent again in a few seconds" in answer.json()["error"]
            # The Save button's form (no script) gets a page that says the same.
            page = learner.request(
                f"/prompts/{prompt_id}/answer",
                f"p{prompt_id}-body=x&p{prompt_id}-revision=1&csrf_token={learner.token}".encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert_plain_503(page)
            assert "try again in a few seconds" in page.body.decode()
        # It waited for the lock as long as configured, not the default ten seconds.
        assert LOCK_TIMEOUT_MS / 1000 <= waited < 5

        assert revisions(db, user, prompt_id) == [(1, "First thoughts.")]
        answer = learner.autosave("First thoughts, and more.", 1)
        assert answer.status == 200
        assert answer.json()["revision"] == 2
    assert revisions(db, user, prompt_id) == [
        (1, "First thoughts."),
        (2, "First thoughts, and more."),
    ]


# --- The database down for a few seconds ----------------------------------------------

OUTAGE_SECONDS = 2


@pytest.mark.slow
def test_the_database_down_for_a_few_seconds_answers_503_and_then_saves_go_on(
    app, db, server_environ, database_url, tmp_path
):
    prompt_id, [user] = learners_on_a_prompt(db, app.config["LMS_DATA_DIR"], 1)
    outage = Outage(database_url, server_environ)
    log = tmp_path / "gunicorn.log"
    try:
        with LiveServer(outage.environ, workers=2, log_path=log) as server:
            learner = Learner(server.url, prompt_id)
            learner.sign_in(user.email)
            assert learner.autosave("Before the outage.", 0).status == 200

            outage.down()
            answers = []
            stop_at = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < stop_at:  # the page keeps trying, as autosave.js does
                answers.append(learner.autosave("During the outage.", 1))
                answers.append(learner.request("/my-work"))
            outage.up()
            saves, pages = answers[0::2], answers[1::2]
            for answer in saves:
                assert_plain_503(answer)  # never a 500
            assert "is sent again in a few seconds" in saves[0].json()["error"]
            for page in pages:
                if outage.reads_go_on:
                    assert page.status == 200
                else:
                    assert_plain_503(page)
                    assert "try again in a few seconds" in page.body.decode()

            after = learner.autosave("During the outage.", 1)
            assert after.status == 200, after
            assert after.json()["revision"] == 2
            assert learner.request("/my-work").status == 200
    finally:
        outage.close()
    assert revisions(db, user, prompt_id) == [(1, "Before the outage."), (2, "During the outage.")]
    print(f"\n{len(saves)} saves answered 503 in {OUTAGE_SECONDS} s without the database")


# --- A worker killed mid-request ------------------------------------------------------


def wait_for(condition, seconds: float = 20, every: float = 0.001):
    """Poll until condition() is true (returning it); fail after the given time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError(f"{condition.__doc__ or condition} did not happen in {seconds} s")


@pytest.mark.slow
def test_a_worker_killed_while_it_writes_an_upload_is_replaced_and_nothing_is_half_kept(
    app, db, environ, tmp_path
):
    data_dir = app.config["LMS_DATA_DIR"]
    prompt_id, [user] = learners_on_a_prompt(db, data_dir, 1)
    folder = storage.Storage(Path(data_dir)).learner_folder(user.id)
    with LiveServer(environ, workers=1, log_path=tmp_path / "gunicorn.log") as server:
        learner = Learner(server.url, prompt_id)
        learner.sign_in(user.email)
        assert learner.autosave("Before the crash.", 0).status == 200
        [worker] = server.worker_pids()

        body, headers = learner.multipart("long.txt", b"a line of a long file\n" * 1_000_000)
        outcome: list = []

        def send() -> None:
            try:
                outcome.append(learner.request(f"/prompts/{prompt_id}/answer/files", body, headers))
            except (OSError, http.client.HTTPException) as error:
                outcome.append(error)

        thread = threading.Thread(target=send)
        thread.start()

        def writing() -> bool:
            """the worker part-way through writing the upload into the data dir"""
            with contextlib.suppress(FileNotFoundError):
                return any(
                    p.name.startswith(".tmp-") and p.stat().st_size > 0 for p in folder.iterdir()
                )
            return False

        wait_for(writing)
        os.kill(worker, signal.SIGKILL)
        thread.join(timeout=30)
        # The learner's request got no answer: the worker died in the middle of it.
        assert len(outcome) == 1
        assert not hasattr(outcome[0], "status"), outcome[0]

        # gunicorn starts another worker, which serves the next request.
        wait_for(lambda: server.worker_pids() - {worker}, every=0.05)
        after = learner.autosave("After the crash.", 1)
        assert after.status == 200, after
        assert learner.request("/my-work").status == 200

    assert revisions(db, user, prompt_id) == [(1, "Before the crash."), (2, "After the crash.")]
    assert list(db.scalars(select(LearnerFile.id).where(LearnerFile.user_id == user.id))) == []
    db.rollback()
    # What the dead worker wrote is there without a row (never served: every download
    # starts from a row), and the housekeeping sweep takes it back.
    left = {p.name: p.stat().st_size for p in folder.iterdir()}
    assert left, "the kill came too late to catch the worker writing"
    report = housekeeping.sweep(db, storage.Storage(Path(data_dir)), min_age_seconds=0)
    db.rollback()
    assert report.temporary_files_removed + report.learner_files_removed == len(left)
    assert list(folder.iterdir()) == []
    print(f"\nthe killed worker left {left} (bytes), swept")


# --- An unexpected error ----------------------------------------------------------------


def test_an_unexpected_error_answers_the_autosave_script_in_plain_words(app):
    @app.post("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert "What you typed stays on this device" in response.json["error"]
    assert "secret internals" not in response.get_data(as_text=True)


# --- The disk full during an upload ---------------------------------------------------

DISK_BYTES = 64 * 1024


class FillingFile:
    """A file on a disk with ``room`` bytes left: it writes what fits, then ENOSPC."""

    def __init__(self, target, disk: dict[str, int]) -> None:
        self.target = target
        self.disk = disk

    def write(self, chunk: bytes) -> int:
        fits = min(len(chunk), self.disk["room"])
        self.target.write(chunk[:fits])
        self.disk["room"] -= fits
        if fits < len(chunk):
            raise OSError(errno.ENOSPC, "No space left on device")
        return fits


@pytest.fixture
def small_disk(app, monkeypatch) -> Iterator[str]:
    """Learner files on a disk of 64 KiB: a tmpfs mounted there, or the write made to fail."""
    area = storage.Storage(Path(app.config["LMS_DATA_DIR"])).learner_files_dir
    area.mkdir(parents=True)
    if mount_tmpfs(area, DISK_BYTES):
        try:
            yield "tmpfs"
        finally:
            subprocess.run(["umount", str(area)], check=True)
        return
    # Not allowed to mount: the disk's answer comes from the write, past the same size.
    disk = {"room": DISK_BYTES}
    copy = storage.copy_hashed
    monkeypatch.setattr(
        storage,
        "copy_hashed",
        lambda source, target, max_bytes=None: copy(source, FillingFile(target, disk), max_bytes),
    )
    yield "ENOSPC from the write"


def test_a_full_disk_fails_an_upload_cleanly_and_keeps_the_quota(app, client, auth, db, small_disk):
    prompt_id, [user] = learners_on_a_prompt(db, app.config["LMS_DATA_DIR"], 1)
    auth.login(user.email)
    folder = storage.Storage(Path(app.config["LMS_DATA_DIR"])).learner_folder(user.id)

    def upload(name: str, content: bytes, **kw):
        data = {f"u{prompt_id}-files": (io.BytesIO(content), name)}
        path = f"/prompts/{prompt_id}/answer/files"
        return auth.post(path, data, content_type="multipart/form-data", **kw)

    def stored() -> tuple[list[str], int, list[str]]:
        names = list(db.scalars(select(LearnerFile.filename).order_by(LearnerFile.id)))
        used = learner_files.used_bytes(db, user)
        db.rollback()
        return names, used, sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    assert upload("notes.txt", b"My notes.\n" * 1000).status_code == 302
    names, used, on_disk = stored()
    assert names == ["notes.txt"]
    assert used == 10_000
    # 310 KB: more than the disk holds (and less than the test client spools to a file).
    story = b"A long story, line after line.\n" * 10_000

    page = upload("story.txt", story)
    assert page.status_code == 507
    body = page.get_data(as_text=True)
    assert "no room left to store this right now, so nothing was saved" in body
    for inside in ("Traceback", "No space left", "ENOSPC", "Errno", str(folder)):
        assert inside not in body
    script = upload("story.txt", story, headers={"Accept": "application/json"})
    assert script.status_code == 507
    assert "nothing was saved" in script.json["error"]

    # No row, no partial or temporary file, the quota as it was; the first file intact.
    assert stored() == (names, used, on_disk)
    assert (folder / on_disk[0]).read_bytes() == b"My notes.\n" * 1000
    print(f"\ndisk full by {small_disk}")
