"""What a learner types reaches their account, or stays on their device and they are told.

Issue 13's ways to lose work, each in real chromium against the app under gunicorn:
the next account on a shared browser, a session ended on another device, a text the
server refuses, U+0000, and a long answer typed just before leaving the page. Autosave
timers run on Playwright's paused clock; requests go over the real network.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.models import Reflection, ReflectionRevision, Role, User
from tests.browser.lesson import SAVED, sign_in, signed_in_on_a_lesson
from tests.conftest import PASSWORD
from tests.factories import make_enrollment, make_module, make_users
from tests.faults import revisions

RESTORED = re.compile(r"^Text you typed on this device that was not saved yet is back in the box")
SIGNED_OUT = re.compile(r"^Not saved: you are signed out .* sign in and it is saved\. Sign in$")
NUL_REMOVED = "An invisible character (U+0000) that cannot be stored was removed from your text."


@pytest.fixture
def lesson(page, app, db):
    return signed_in_on_a_lesson(page, app, db)


def _check_accessible(page, assert_accessible) -> None:
    """axe-core waits on timers of its own: the paused clock runs while it checks."""
    page.clock.resume()
    assert_accessible(page)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)


def _device_copies(page) -> list[str]:
    return page.evaluate(
        "Object.keys(window.localStorage).filter(k => k.startsWith('lms-answer:'))"
    )


def _eventually(check, page, tries=50):
    """Wait for what a keepalive save sent as the page was left (it lands a moment later)."""
    for _ in range(tries):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError("never happened")


def _register(page, name: str, email: str) -> None:
    page.goto("/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the new password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _sign_in_here(page, email: str, button: str = "Sign in") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name=button).click()


# --- 1. The next account on the same browser ------------------------------------------


def test_a_deleted_learners_text_never_reaches_the_next_account_here(page, db):
    make_module(db, slug="arriving", lessons=1, prompts=[{"text": "How did you arrive?"}])
    _register(page, "Amina", "amina@example.org")
    page.goto("/modules/arriving")
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_url("**/lessons/lesson-1")
    page.wait_for_load_state()  # the page's scripts listen before she types
    page.get_by_label("How did you arrive?").fill("Amina's private words")
    assert _device_copies(page)  # kept here as she types

    # She deletes her account at once, before anything else is sent.
    page.goto("/account/delete")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account and everything in it are deleted.")).to_be_visible()
    assert _device_copies(page) == []

    _register(page, "Ben", "ben@example.org")
    page.goto("/modules/arriving")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_label("How did you arrive?")).to_have_value("")
    page.wait_for_timeout(500)  # a copy put back would be sent at once
    ben = db.scalar(select(User).where(User.email == "ben@example.org"))
    assert db.scalars(select(Reflection).where(Reflection.user_id == ben.id)).all() == []
    assert db.scalars(select(ReflectionRevision.body)).all() == []
    db.rollback()


def test_signing_out_saves_what_was_typed_first_and_asks_when_it_cannot(lesson, page, db):
    lesson.box.fill("Typed just before signing out")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out on every device.")).to_be_visible()
    assert revisions(db, lesson.user, lesson.prompt_id) == [(1, "Typed just before signing out")]
    assert _device_copies(page) == []

    # The server cannot be reached: the learner is asked before the text is deleted.
    _sign_in_here(page, lesson.email)
    page.goto(lesson.url)
    page.route("**/answer", lambda route: route.abort())
    lesson.box.fill("Typed with no connection")
    answers = ["dismiss"]
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss() if answers.pop(0) == "dismiss" else dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Sign out").click()
    _eventually(lambda: len(asked) == 1, page)
    assert "Signing out deletes it from this device" in asked[0]
    expect(lesson.box).to_have_value("Typed with no connection")  # stayed, signed in
    assert lesson.kept_on_device() == "Typed with no connection"

    answers.append("accept")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out on every device.")).to_be_visible()
    assert _device_copies(page) == []


# --- 6. A session ended on another device ---------------------------------------------


def _signed_out_elsewhere(db, user) -> None:
    db.get(User, user.id).rotate_session_token()  # what signing out on a phone does
    db.commit()


def test_signed_out_elsewhere_the_text_stays_here_and_is_saved_after_signing_in(
    lesson, page, db, assert_accessible
):
    expect(page.get_by_text("Your answers save themselves as you type.")).to_be_visible()
    expect(page.get_by_text("Any button of this page keeps")).to_be_hidden()
    lesson.write_and_save("Walking by the river.")
    _signed_out_elsewhere(db, lesson.user)

    lesson.box.fill("Walking by the river. And tea.")
    lesson.autosave()

    expect(lesson.status).to_have_text(SIGNED_OUT)
    assert lesson.kept_on_device() == "Walking by the river. And tea."
    _check_accessible(page, assert_accessible)
    lesson.status.get_by_role("link", name="Sign in").click()
    _sign_in_here(page, lesson.email)
    expect(lesson.box).to_have_value("Walking by the river. And tea.")
    expect(lesson.status).to_have_text(RESTORED)
    page.clock.run_for(100)  # restored text is sent at once
    expect(lesson.status).to_have_text(SAVED)
    assert revisions(db, lesson.user, lesson.prompt_id) == [
        (1, "Walking by the river."),
        (2, "Walking by the river. And tea."),
    ]


def test_submit_after_the_session_ended_shows_the_text_and_signs_in_to_save_it(
    lesson, page, db, assert_accessible
):
    _signed_out_elsewhere(db, lesson.user)
    lesson.box.fill("What I meant to submit")

    lesson.page.get_by_role("button", name="Submit answer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your text is not saved yet")
    expect(page.get_by_label("What you wrote")).to_have_value("What I meant to submit")
    _check_accessible(page, assert_accessible)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _sign_in_here(page, lesson.email, button="Sign in and save")
    expect(page.get_by_text("You are signed in again.")).to_be_visible()
    expect(lesson.box).to_have_value("What I meant to submit")
    assert revisions(db, lesson.user, lesson.prompt_id) == [(1, "What I meant to submit")]


# --- 7. A text the server will not take -----------------------------------------------


def test_a_text_the_server_refuses_is_not_sent_again_and_later_edits_are(lesson, page, db):
    lesson.write_and_save("First.")
    sent = []

    def refuse(route):
        sent.append(route.request.url)
        route.fulfill(
            status=400,
            content_type="application/json",
            body=json.dumps({"error": "Not saved: the site cannot store this text."}),
        )

    page.route("**/answer", refuse)
    lesson.box.fill("First. Second.")
    lesson.autosave()
    expect(lesson.status).to_have_text(
        "Not saved: the site cannot store this text. Your text is kept on this device, "
        "and is sent again as soon as you change it."
    )
    page.clock.run_for(120_000)  # two minutes: no retry of the same text
    assert len(sent) == 1
    assert lesson.kept_on_device() == "First. Second."

    page.unroute("**/answer")
    lesson.box.press_sequentially(" Third.")
    lesson.autosave()
    expect(lesson.status).to_have_text(SAVED)
    assert revisions(db, lesson.user, lesson.prompt_id) == [
        (1, "First."),
        (2, "First. Second. Third."),
    ]


def test_a_nul_character_is_taken_out_of_the_box_and_said_once(lesson, page, db):
    # Pasted: the way a U+0000 gets into a box.
    lesson.box.evaluate(
        "box => { box.value = 'Tea\\u0000 time'; box.dispatchEvent(new Event('input')); }"
    )
    expect(lesson.box).to_have_value("Tea time")
    expect(lesson.status).to_have_text(NUL_REMOVED)
    lesson.autosave()
    expect(lesson.status).to_have_text(re.compile(r"^Saved \d.* " + re.escape(NUL_REMOVED)))
    lesson.box.fill("Tea time, later")
    lesson.autosave()
    expect(lesson.status).to_have_text(re.compile(r"^Saved \d[^.]*$"))
    assert revisions(db, lesson.user, lesson.prompt_id) == [(1, "Tea time"), (2, "Tea time, later")]


# --- 9. A long answer typed just before leaving ---------------------------------------


def test_a_long_cyrillic_answer_typed_then_left_reaches_the_server(lesson, page, db):
    """31,000 Cyrillic letters: 62 KB as UTF-8 (JSON), 186 KB form-urlencoded."""
    text = ("Прогулкавдольреки" * 2000)[:31_000]
    lesson.box.fill(text)

    page.get_by_role("link", name="My work").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    _eventually(lambda: revisions(db, lesson.user, lesson.prompt_id) == [(1, text)], page)


def test_an_answer_too_long_to_send_as_the_page_is_left_is_asked_about_then_restored(
    lesson, page, db
):
    """100,000 Cyrillic letters are 200 KB: more than a page may send as it is left."""
    text = "ж" * 100_000
    lesson.box.click()
    lesson.box.fill(text)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))

    page.get_by_role("link", name="My work").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    assert asked == ["beforeunload"]
    # As the page went, it was still tried without keepalive (a page hidden may come
    # back), which may or may not have reached the server: either is fine.
    page.goto(lesson.url)
    assert lesson.box.input_value() == text
    if RESTORED.match(lesson.status.inner_text()):
        page.clock.run_for(100)  # restored text is sent at once
        expect(lesson.status).to_have_text(SAVED)
    _eventually(lambda: revisions(db, lesson.user, lesson.prompt_id) == [(1, text)], page)
    assert lesson.kept_on_device() is None


# --- A save stored whose answer never came back --------------------------------------------


def test_a_save_stored_whose_answer_was_cut_off_is_no_conflict_with_itself(lesson, page, db):
    """The server went away between its commit and its reply (the soak's kill -9 does it)."""
    lesson.write_and_save("First.")

    def store_then_cut_off(route):
        route.fetch()  # the server stores it...
        route.abort("connectionreset")  # ...and its answer never reaches the page

    page.route("**/answer", store_then_cut_off, times=1)
    lesson.box.fill("First. Second.")
    lesson.autosave()
    expect(lesson.status).to_have_text(re.compile("^Not saved: no connection"))
    lesson.box.press_sequentially(" Third.")
    with page.expect_response(lambda r: r.url.endswith("/answer") and r.status == 409):
        lesson.autosave()  # the "newer" text is this page's own...
    # ...so it is sent again at once, based on it. The page handles the 409 a moment after
    # it arrives, and its timer runs only while the paused clock is moved on.
    for _ in range(30):
        page.clock.run_for(100)
        if SAVED.match(lesson.status.inner_text()):
            break
        page.wait_for_timeout(100)

    expect(lesson.status).to_have_text(SAVED)
    assert page.url.endswith(lesson.url)  # no conflict page
    assert revisions(db, lesson.user, lesson.prompt_id) == [
        (1, "First."),
        (2, "First. Second."),
        (3, "First. Second. Third."),
    ]
    assert lesson.kept_on_device() is None


# --- 8. Without JavaScript, no button loses another box ------------------------------------


def test_without_javascript_submitting_one_answer_keeps_the_others(browser, live_server, db):
    """axe needs scripts to run: the same page with them is checked by the tests above."""
    module = make_module(
        db, lessons=1, prompts=[{"text": "What helps you rest?"}, {"text": "Who do you call?"}]
    )
    [learner] = make_users(db, Role.LEARNER)
    make_enrollment(db, learner, module)
    email, url = learner.email, f"/modules/{module.slug}/lessons/lesson-1"
    db.commit()
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, email)
        page.goto(url)
        expect(page.get_by_text("Any button of this page keeps what you typed")).to_be_visible()
        expect(page.get_by_text("Your answers save themselves as you type")).to_be_hidden()
        page.get_by_label("What helps you rest?").fill("Walking by the river")
        page.get_by_label("Who do you call?").fill("My sister, on Sundays")
        first = page.locator("[data-answer]", has=page.get_by_label("What helps you rest?"))
        first.get_by_role("button", name="Submit answer").click()

        expect(page.get_by_label("Who do you call?")).to_have_value("My sister, on Sundays")
        expect(page.get_by_label("What helps you rest?")).to_have_value("Walking by the river")
        page.get_by_role("button", name="Mark complete").click()
        expect(page.get_by_label("Who do you call?")).to_have_value("My sister, on Sundays")
    finally:
        context.close()
    texts = {r.prompt.text: (r.current_body, r.state.value) for r in db.scalars(select(Reflection))}
    db.rollback()
    assert texts == {
        "What helps you rest?": ("Walking by the river", "submitted"),
        "Who do you call?": ("My sister, on Sundays", "draft"),
    }
