"""A backup taken while the server keeps taking writes restores to a consistent instance."""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from lms import learner_files, reflections
from lms.models import (
    Enrollment,
    LessonProgress,
    Role,
)
from lms.ops import backup
from lms.storage import Storage
from tests import factories
from tests.backups import (
    LIMITS,
    all_rows,
    assert_referenced_files_present,
)
from tests.conftest import PASSWORD

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
    learner = factories.make_users(db, Role.LEARNER)[0]
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
