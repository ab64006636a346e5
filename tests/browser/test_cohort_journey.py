"""Cohort journeys: creating and joining a cohort; sharing, replying, feedback, the grid."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect

from lms.models import LessonProgress, ProgressStatus, Role
from tests.factories import make_cohort, make_module, make_reflection


def _sign_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill("a long test passphrase")
    page.get_by_role("button", name="Sign in").click()


def test_admin_creates_a_cohort_and_a_learner_joins_by_code(page, make_user, db):
    make_user(Role.ADMIN, email="admin@example.org")
    learner = make_user(email="learner@example.org", name="Amina")
    learner.time_zone = "Africa/Nairobi"
    db.commit()
    make_module(db, slug="listening", title="Listening", lessons=2)

    _sign_in(page, "admin@example.org")
    page.goto("/admin/cohorts/new")
    page.get_by_label("Name").fill("Spring circle")
    page.get_by_label("Listening").check()
    page.get_by_role("button", name="Save cohort").click()
    expect(page.get_by_role("status")).to_contain_text("The cohort Spring circle is ready.")
    code = page.locator("dd code").inner_text()

    page.get_by_role("link", name="Schedule a live session").click()
    page.get_by_label("Title").fill("Opening circle")
    page.get_by_label("Date").fill("2026-03-10")
    page.get_by_label("Start time").fill("18:30")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Length in minutes").fill("90")
    page.get_by_label("Join link").fill("https://meet.example.org/spring")
    page.get_by_role("button", name="Save live session").click()
    expect(page.get_by_role("status")).to_contain_text("The live session is scheduled.")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, "learner@example.org")
    page.goto("/cohorts/join")
    page.get_by_label("Join code").fill(code)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome to Spring circle!")
    expect(page.get_by_role("heading", name="Opening circle")).to_be_visible()
    # 17:30 UTC is 20:30 in Nairobi.
    expect(page.locator("time").first).to_have_text("March 10, 2026, 8:30\u202fPM")
    expect(page.get_by_role("link", name="Join link")).to_have_attribute(
        "href", "https://meet.example.org/spring"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_share_reply_feedback_and_the_progress_export(page, make_user, db):
    facilitator = make_user(Role.FACILITATOR, email="fac@example.org", name="Farah")
    amina = make_user(email="amina@example.org", name="Amina")
    bruno = make_user(email="bruno@example.org", name="Bruno")
    module = make_module(db, slug="listening", title="Listening", lessons=3)
    cohort = make_cohort(db, "Spring circle", [module], [facilitator], [amina, bruno])
    first = module.lessons[0]
    # The answer is submitted on the lesson page (another area); here it is arranged.
    make_reflection(db, amina, first.prompts[0], "Listening is an act of respect.")
    db.add(LessonProgress(user_id=amina.id, lesson_id=first.id, status=ProgressStatus.COMPLETE))
    db.commit()

    _sign_in(page, "amina@example.org")
    page.goto(f"/cohorts/{cohort.id}/gallery")
    page.get_by_role("button", name="Share with the cohort").click()
    expect(page.get_by_role("status")).to_contain_text("Your answer is shared")
    expect(page.get_by_text("Listening is an act of respect.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, "bruno@example.org")
    page.goto(f"/cohorts/{cohort.id}/gallery")
    page.locator("summary", has_text="Reply").click()
    page.get_by_label("Your reply").fill("Thank you, **Amina**.")
    page.get_by_role("button", name="Reply").click()
    expect(page.get_by_role("status")).to_contain_text("Your reply is posted.")
    expect(page.locator(".reply strong")).to_have_text("Amina")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, "fac@example.org")
    page.goto("/facilitate/reflections")
    page.get_by_label("Cohort").select_option(label="Spring circle")
    page.get_by_label("Module").select_option(label="Listening")
    page.get_by_label("State").select_option(label="New")
    page.get_by_role("button", name="Filter").click()
    # The filter is a GET form: measure the page it leads to, not the one it leaves.
    expect(page).to_have_url(re.compile(r"[?&]state=new"))
    expect(page.get_by_role("link", name="Amina")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Amina").click()
    page.get_by_label("Your feedback").fill("A *generous* answer.")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("status")).to_contain_text("marked reviewed")
    expect(page.locator(".feedback em")).to_have_text("generous")
    page.goto("/facilitate/reflections?state=new")
    expect(page.get_by_text("No submitted reflections match.")).to_be_visible()

    page.goto(f"/facilitate/cohorts/{cohort.id}/modules/{module.id}/progress")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    grid = [
        [cell.strip() for cell in row.split("\t")]
        for row in page.locator("tbody tr").all_inner_texts()
    ]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert [(r[0], r[2] + "%") for r in rows[1:]] == [(g[0], g[1]) for g in grid]
    assert rows[1][4:] == ["complete", "not_started", "not_started"]
    page.get_by_role("button", name="Sign out").click()

    # The learner is told of the feedback and reads it beside her answer.
    _sign_in(page, "amina@example.org")
    page.goto("/learning")
    page.get_by_role("link", name="You have 1 new piece of feedback on your answers.").click()
    expect(page.locator(".feedback em")).to_have_text("generous")
