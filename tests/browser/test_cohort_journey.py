"""An admin creates a cohort with a live session; a learner joins it by its code."""

from __future__ import annotations

from playwright.sync_api import expect

from lms.models import Role
from tests.cohort_data import make_module


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
    make_module(db, "listening")

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
    expect(page.locator("time").first).to_have_text("2026-03-10 20:30")
    expect(page.get_by_role("link", name="Join link")).to_have_attribute(
        "href", "https://meet.example.org/spring"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
