"""A new learner works through modules on a phone-sized page, as a person would.

Module rows come from tests/factories.py, with real attachment files in the data dir.
Every learner page visited is checked with axe-core (conftest's assert_accessible):
no serious or critical violation. Autosave timers run on Playwright's clock, so no test
waits for them.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.factories import make_module

AUTOSAVE_MS = 3500  # a little more than autosave.js waits after the last keystroke


@pytest.fixture
def modules(app, db):
    data_dir = app.config["LMS_DATA_DIR"]
    wellness = make_module(
        db,
        slug="holistic-wellness",
        title="Holistic wellness",
        lessons=3,
        prompts=[{"text": "What helps you rest?"}],
        attachments=1,
        media=True,
        data_dir=data_dir,
    )
    stories = make_module(
        db,
        slug="storytelling",
        title="Storytelling and creative media",
        lessons=2,
        sequence="open",
        prompts=[{"text": "Share a story of change", "accepts_files": True}],
        data_dir=data_dir,
    )
    return wellness, stories


def _status(page):
    return page.locator(".flashes")


def _autosave(page):
    page.clock.run_for(AUTOSAVE_MS)


def _eventually_shows(page, text, tries=20):
    """Reload until the text is on the page (a keepalive save may land a moment later)."""
    for _ in range(tries):
        if page.get_by_text(text).count():
            return
        page.wait_for_timeout(100)
        page.reload()
    raise AssertionError(f"{text!r} never appeared on {page.url}")


def test_a_new_learner_works_through_a_module(page, context, modules, assert_accessible):
    page.clock.install()
    page.goto("/register")
    page.get_by_label("Your name").fill("Amina")
    page.get_by_label("Email").fill("amina@example.org")
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the new password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    assert_accessible(page)

    # The catalog, and one-click enrollment straight into lesson 1.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Modules").click()
    expect(page.get_by_role("heading", name="Holistic wellness")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Enroll in Holistic wellness").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson 1 of Holistic wellness")
    expect(page.get_by_role("img", name="A map")).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Lesson 2 is locked: the outline says so and offers no link.
    outline = page.get_by_role("navigation", name="Lessons of this module")
    expect(outline.get_by_role("link", name="Lesson 2 of Holistic wellness")).to_have_count(0)
    expect(outline.get_by_text("Locked")).to_have_count(2)
    page.goto("/modules/holistic-wellness/lessons/lesson-3")
    expect(page.get_by_role("heading", level=1)).to_have_text("This lesson is locked")
    assert_accessible(page)
    page.get_by_role("link", name="Go to Lesson 1 of Holistic wellness").click()

    # Type an answer: it saves itself; a reload finds it.
    answer = page.get_by_label("What helps you rest?")
    answer.fill("Walking by the river at dawn.")
    _autosave(page)
    expect(page.get_by_text(re.compile(r"^Saved "))).to_be_visible()
    page.reload()
    expect(page.get_by_label("What helps you rest?")).to_have_value("Walking by the river at dawn.")
    # Typed just before leaving, before any timer: it goes out as the page is left.
    page.get_by_label("What helps you rest?").fill("Walking by the river at dawn. And tea.")
    page.get_by_role("link", name="My work").click()
    _eventually_shows(page, "Walking by the river at dawn. And tea.")
    page.goto("/modules/holistic-wellness/lessons/lesson-1")

    page.get_by_role("button", name="Submit answer").click()
    expect(_status(page)).to_contain_text("Your answer is submitted.")
    page.get_by_role("button", name="Mark complete").click()
    expect(_status(page)).to_contain_text("Lesson complete.")
    expect(page.get_by_text("1 of 3 lessons complete (33%)")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "33")
    expect(outline.get_by_role("link", name="Lesson 2 of Holistic wellness")).to_be_visible()

    # The lesson's attachment, with its real name, size and type; the download counts.
    expect(page.get_by_text("worksheet-1.pdf · ")).to_contain_text("application/pdf")
    with page.expect_download() as download:
        page.get_by_role("link", name="Worksheet 1").click()
    assert download.value.suggested_filename == "worksheet-1.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")

    page.get_by_role("link", name="My learning").click()
    expect(page.get_by_text("1 of 3 lessons complete (33%)")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Continue with Holistic wellness").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson 2 of Holistic wellness")

    # A file attached to an answer in the storytelling module, with a progress bar.
    page.goto("/modules/storytelling")
    assert_accessible(page)
    page.get_by_role("button", name="Enroll").click()
    page.get_by_label("Attach files to your answer").set_input_files(
        files=[{"name": "my-story.txt", "mimeType": "text/plain", "buffer": b"Once, in our street"}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(_status(page)).to_contain_text("Attached 1 file to your answer.")
    expect(page.get_by_role("link", name="my-story.txt")).to_be_visible()
    assert_accessible(page)

    # My work lists it all; the export is a zip of everything written.
    page.get_by_role("link", name="My work").click()
    expect(page.get_by_text("Walking by the river at dawn.")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export my work").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    work = json.loads(archive.read("work.json"))
    assert work["reflections"][0]["text"] == "Walking by the river at dawn. And tea."
    assert archive.read("files/my-story.txt") == b"Once, in our street"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The same answer in two tabs: the older tab's save ends in the conflict view.
    lesson_1 = "/modules/holistic-wellness/lessons/lesson-1"
    page.goto(lesson_1)
    other = context.new_page()
    other.clock.install()
    other.goto(lesson_1)
    page.get_by_label("What helps you rest?").fill("Tab one: rivers and long walks.")
    _autosave(page)
    expect(page.get_by_text(re.compile(r"^Saved "))).to_be_visible()
    other.get_by_label("What helps you rest?").fill("Tab two: music with friends.")
    _autosave(other)
    expect(other.get_by_role("heading", level=1)).to_have_text("Two versions of your answer")
    expect(other.get_by_label("Newer saved text")).to_have_value("Tab one: rivers and long walks.")
    expect(other.get_by_label("Your text")).to_have_value("Tab two: music with friends.")
    assert_accessible(other)
    assert other.evaluate("document.documentElement.scrollWidth") <= 360
    other.get_by_role("button", name="Keep both texts, one after the other").click()
    expect(other.get_by_label("What helps you rest?")).to_have_value(
        "Tab one: rivers and long walks.\n\nTab two: music with friends."
    )
    other.close()


def test_keyboard_alone_takes_a_learner_to_the_certificate(page, make_user, db, assert_accessible):
    make_module(
        db,
        slug="arriving",
        title="Arriving",
        lessons=1,
        prompts=[{"text": "How did you arrive today?"}],
    )
    make_user(email="ben@example.org", name="Ben")
    page.goto("/login")
    keyboard = page.keyboard

    def tab_to(locator, limit=40):
        for _ in range(limit):
            keyboard.press("Tab")
            if locator.evaluate("element => element === document.activeElement"):
                return
        raise AssertionError(f"Tab never reached {locator}")

    tab_to(page.get_by_label("Email"))
    keyboard.type("ben@example.org")
    tab_to(page.get_by_label("Password", exact=True))
    keyboard.type(PASSWORD)
    keyboard.press("Enter")
    expect(page.get_by_text("Welcome back, Ben.")).to_be_visible()

    tab_to(page.get_by_role("link", name="Browse the modules"))
    keyboard.press("Enter")
    tab_to(page.get_by_role("button", name="Enroll in Arriving"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson 1 of Arriving")

    tab_to(page.get_by_label("How did you arrive today?"))
    keyboard.type("On foot, slowly.")
    tab_to(page.get_by_role("button", name="Submit answer"))
    keyboard.press("Enter")
    expect(page.locator(".flashes")).to_contain_text("Your answer is submitted.")
    tab_to(page.get_by_role("button", name="Mark complete"))
    keyboard.press("Enter")
    expect(page.locator(".flashes")).to_contain_text("You completed the whole module.")
    assert_accessible(page)

    tab_to(page.get_by_role("link", name="Your certificate"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ben")
    expect(page.get_by_text("Arriving", exact=True)).to_be_visible()
    assert_accessible(page)

    page.goto("/prompts/1/answer/revisions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Earlier versions of your answer")
    assert_accessible(page)
    page.goto("/account/delete")
    assert_accessible(page)
    page.goto("/")
    assert_accessible(page)
