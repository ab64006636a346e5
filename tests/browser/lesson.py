"""A learner's lesson page in the browser: its answer box, its status, the copy on the device."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from lms.models import Prompt
from tests.conftest import PASSWORD
from tests.faults import learners_on_a_prompt

AUTOSAVE_MS = 3500  # a little more than autosave.js waits after the last keystroke
SAVED = re.compile(r"^Saved \d")


class Lesson:
    """The learner's lesson page with its one answer box and that box's status."""

    def __init__(self, page, db, prompt_id: int, user) -> None:
        prompt = db.scalar(select(Prompt).where(Prompt.id == prompt_id))
        self.url = f"/modules/{prompt.lesson.module.slug}/lessons/{prompt.lesson.slug}"
        self.label = prompt.text
        self.key = f"lms-answer:{user.public_id}:{prompt_id}"
        db.rollback()  # no transaction left open: on SQLite the test's session writes
        self.page = page

    @property
    def box(self):
        return self.page.get_by_label(self.label, exact=True)

    @property
    def status(self):
        # The first live region of the answer the box is in (its upload has its own).
        return self.page.locator("[data-answer]", has=self.box).get_by_role("status").first

    def kept_on_device(self) -> str | None:
        copy = self.page.evaluate("key => window.localStorage.getItem(key)", self.key)
        return json.loads(copy)["body"] if copy else None

    def autosave(self) -> None:
        self.page.clock.run_for(AUTOSAVE_MS)

    def write_and_save(self, text: str) -> None:
        """Type a first answer and let autosave store it, as every test here starts."""
        self.box.fill(text)
        self.autosave()
        expect(self.status).to_have_text(SAVED)


def sign_in(page, email: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def signed_in_on_a_lesson(page, app, db) -> Lesson:
    """A learner signed in, on a lesson with a prompt, with the page's clock paused.

    Paused: timers fire only when the test moves the clock, so each state can be seen.
    """
    prompt_id, [user] = learners_on_a_prompt(db, app.config["LMS_DATA_DIR"], 1)
    now = datetime.now(UTC)
    page.clock.install(time=now)
    page.clock.pause_at(now + timedelta(seconds=1))
    email = user.email  # read now: after Lesson() a read would hold SQLite's write lock
    sign_in(page, email)
    lesson = Lesson(page, db, prompt_id, user)
    lesson.user, lesson.prompt_id, lesson.email = user, prompt_id, email
    page.goto(lesson.url)
    return lesson
