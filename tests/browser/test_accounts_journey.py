"""A person registers, signs out, signs back in and changes their password, as a person would."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_register_sign_out_sign_in_and_change_password(page):
    page.goto("/")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Your name").fill("Amina")
    page.get_by_label("Email").fill("amina@example.org")
    page.get_by_label("New password", exact=True).fill("rivers carry stories")
    page.get_by_label("Repeat the new password").fill("rivers carry stories")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome, Amina!")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("signed out")

    page.get_by_label("Email").fill("amina@example.org")
    page.get_by_label("Password", exact=True).fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")

    page.get_by_label("Password", exact=True).fill("rivers carry stories")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Welcome back, Amina.")).to_be_visible()

    page.get_by_role("link", name="Password").click()
    page.get_by_label("Current password").fill("rivers carry stories")
    page.get_by_label("New password", exact=True).fill("a new long passphrase")
    page.get_by_label("Repeat the new password").fill("a new long passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")


def test_page_fits_a_phone_without_sideways_scrolling(page):
    page.goto("/register")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
