"""A learner's answer survives the server going away, a busy database and a reload.

The server really stops (gunicorn terminated) and comes back on the same port with the
same database; the database is really locked by another connection. The page must say
plainly, in its status live region, that the text is not saved, keep it on the device,
send it when the server answers again, and the database must end with every word.
Autosave timers run on Playwright's paused clock; requests go over the real network.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from lms.models import LearnerFile
from lms.web.storage import storage
from tests.browser.lesson import SAVED, Lesson, signed_in_on_a_lesson
from tests.faults import LOCK_TIMEOUT_MS, locked, mount_tmpfs, revisions

pytestmark = [pytest.mark.slow, pytest.mark.browser]

RETRY_MS = 10_500  # a little more than it waits after a failure without Retry-After
OFFLINE = (
    "Not saved: no connection. Your text is kept on this device and will be saved when "
    "the connection is back."
)
BUSY = re.compile(r"^Not saved yet: the site is busy for a moment\. What you typed stays on")
RESTORED = re.compile(r"^Text you typed on this device that was not saved yet is back in the box")


@pytest.fixture
def environ(environ: dict[str, str]) -> dict[str, str]:
    """A lock held elsewhere fails a request after half a second, not ten."""
    return {**environ, "LMS_DB_LOCK_TIMEOUT_MS": str(LOCK_TIMEOUT_MS)}


@pytest.fixture
def lesson(page, app, db) -> Lesson:
    """A learner signed in, on a lesson with a prompt, with the page's clock paused."""
    return signed_in_on_a_lesson(page, app, db)


def test_the_server_stops_while_the_learner_types_and_nothing_is_lost(lesson, live_server, db):
    lesson.write_and_save("Walking by the river.")

    live_server.stop()
    lesson.box.press_sequentially(" And tea with my sister.")
    lesson.autosave()
    expect(lesson.status).to_have_text(OFFLINE)
    expect(lesson.box).to_have_value("Walking by the river. And tea with my sister.")
    assert lesson.kept_on_device() == "Walking by the river. And tea with my sister."

    live_server.start()  # the same port, data dir and database
    lesson.page.clock.run_for(RETRY_MS)
    expect(lesson.status).to_have_text(SAVED)
    assert lesson.kept_on_device() is None  # the server has it now

    lesson.page.reload()
    expect(lesson.box).to_have_value("Walking by the river. And tea with my sister.")
    assert revisions(db, lesson.user, lesson.prompt_id) == [
        (1, "Walking by the river."),
        (2, "Walking by the river. And tea with my sister."),
    ]


def test_a_busy_database_keeps_the_text_and_it_is_sent_again(lesson, live_server, db, database_url):
    lesson.write_and_save("First thoughts.")

    with locked(database_url):
        lesson.box.fill("First thoughts, then second ones.")
        lesson.autosave()
        expect(lesson.status).to_have_text(BUSY)  # the server answered 503
        assert lesson.kept_on_device() == "First thoughts, then second ones."
    # Nothing half-written; the retry waits on the page's clock, which has not moved.
    assert revisions(db, lesson.user, lesson.prompt_id) == [(1, "First thoughts.")]

    lesson.page.clock.run_for(5_500)  # the 503's Retry-After, sooner than a lost connection
    expect(lesson.status).to_have_text(SAVED)
    assert lesson.kept_on_device() is None
    assert revisions(db, lesson.user, lesson.prompt_id) == [
        (1, "First thoughts."),
        (2, "First thoughts, then second ones."),
    ]


def test_a_reload_while_offline_brings_back_the_unsent_text(lesson, live_server, db):
    lesson.write_and_save("What I saved.")

    live_server.stop()
    lesson.box.press_sequentially(" What I typed offline.")
    # The learner reloads at once: the browser shows its own error page.
    with pytest.raises(PlaywrightError, match="ERR_CONNECTION_REFUSED"):
        lesson.page.reload()

    live_server.start()
    lesson.page.goto(lesson.url)
    expect(lesson.box).to_have_value("What I saved. What I typed offline.")
    expect(lesson.status).to_have_text(RESTORED)
    lesson.page.clock.run_for(100)  # restored text is sent at once
    expect(lesson.status).to_have_text(SAVED)
    assert revisions(db, lesson.user, lesson.prompt_id) == [
        (1, "What I saved."),
        (2, "What I saved. What I typed offline."),
    ]


def test_a_full_disk_is_named_by_the_upload_script_not_blamed_on_the_connection(lesson, app, db):
    area = storage(app).learner_files_dir
    area.mkdir(parents=True, exist_ok=True)
    if not mount_tmpfs(area, 64 * 1024):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        lesson.page.get_by_label("Attach files to your answer").set_input_files(
            files=[{"name": "story.txt", "mimeType": "text/plain", "buffer": b"A line.\n" * 40_000}]
        )
        lesson.page.get_by_role("button", name="Upload").click()
        upload_status = lesson.page.locator("[data-upload]").get_by_role("status")
        expect(upload_status).to_contain_text("nothing was saved")
        expect(upload_status).not_to_contain_text("connection")
    finally:
        subprocess.run(["umount", str(area)], check=True)
    assert db.scalar(select(LearnerFile)) is None
