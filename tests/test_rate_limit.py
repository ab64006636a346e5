"""Sign-in throttling: counts in the database shared by every process, blocks that end."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import Message
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select

from lms import create_app
from lms.db import now_utc
from lms.models import Role, Throttle, User
from lms.people import credentials, throttle
from lms.web.database import database
from tests.accounts import (
    NEW_PASSWORD,
    NO_MATCH,
    REGISTRATION,
    WRONG_PASSWORD,
    is_signed_in,
    request_reset,
    reset_link,
    set_new_password,
)
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.factories import make_enrollment, make_module, make_users
from tests.servers import LiveServer

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TOO_MANY = "Too many attempts."


@pytest.fixture
def throttled_app(environ) -> Iterator[Callable[..., Flask]]:
    """make(LMS_...="value"): the app on this test's database with these settings."""
    apps = []

    def make(**settings: str) -> Flask:
        app = create_app({**environ, **settings}, {"TESTING": True})
        apps.append(app)
        return app

    yield make
    for app in apps:
        database(app).engine.dispose()


def _throttle_row(db, key: str) -> Throttle | None:
    row = db.scalar(select(Throttle).where(Throttle.key == key))
    db.commit()  # end the read: on SQLite it would hold the app's writes back
    return row


# --- Across processes -----------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None


class Browser:
    """A urllib client with cookies of its own that shows redirects instead of following."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, Message, str]:
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=20) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers, error.read().decode()

    def login(self, email: str, password: str) -> tuple[int, Message, str]:
        token = CSRF_META.search(self.request("/login")[2]).group(1)
        return self.request("/login", {"email": email, "password": password, "csrf_token": token})


@pytest.mark.slow
def test_failures_on_two_servers_add_up_to_one_block(environ, db, make_user, tmp_path):
    email = make_user().email
    environ = {**environ, "LMS_LOGIN_FAILURES_PER_ACCOUNT": "3"}

    with (
        LiveServer(environ, workers=1, log_path=tmp_path / "a.log") as server_a,
        LiveServer(environ, workers=1, log_path=tmp_path / "b.log") as server_b,
    ):
        on_a, on_b = Browser(server_a.url), Browser(server_b.url)
        assert on_a.login(email, WRONG_PASSWORD)[0] == 200
        assert on_b.login(email, WRONG_PASSWORD)[0] == 200
        # Two on A and one on B: only a count the processes share reaches three.
        status, _, page = on_a.login(email, WRONG_PASSWORD)
        assert status == 200
        assert NO_MATCH in page

        status, headers, page = on_b.login(email, PASSWORD)
        assert status == 429
        assert 0 < int(headers["Retry-After"]) <= 900
        assert TOO_MANY in page
        assert on_a.login(email, PASSWORD)[0] == 429

    row = _throttle_row(db, throttle.account_key(email))
    assert row.attempts == 3
    assert row.blocked_until is not None


# --- A block never lasts --------------------------------------------------------------------


def test_a_block_ends_when_its_window_does(throttled_app, make_user):
    app = throttled_app(LMS_LOGIN_FAILURES_PER_ACCOUNT="2", LMS_LOGIN_WINDOW_SECONDS="2")
    email = make_user().email
    auth = Auth(app.test_client())
    auth.login(email, WRONG_PASSWORD)
    auth.login(email, WRONG_PASSWORD)

    blocked = auth.login(email)
    assert blocked.status_code == 429
    wait = int(blocked.headers["Retry-After"])
    assert 1 <= wait <= 2
    assert "please wait 1 minute, or reset your password" in blocked.get_data(as_text=True)

    time.sleep(wait)
    assert auth.login(email).status_code == 302


def test_a_password_reset_clears_the_block(throttled_app, db, make_user):
    app = throttled_app(LMS_LOGIN_FAILURES_PER_ACCOUNT="2")
    email = make_user().email
    attacker = Auth(app.test_client())
    attacker.login(email, WRONG_PASSWORD)
    attacker.login(email, WRONG_PASSWORD)
    assert Auth(app.test_client()).login(email).status_code == 429

    request_reset(app.test_client(), email)
    assert set_new_password(app.test_client(), reset_link(app)).status_code == 302

    assert _throttle_row(db, throttle.account_key(email)) is None
    assert Auth(app.test_client()).login(email, NEW_PASSWORD).status_code == 302


def test_a_successful_sign_in_forgets_earlier_failures(throttled_app, db, make_user):
    app = throttled_app(LMS_LOGIN_FAILURES_PER_ACCOUNT="2")
    email = make_user().email
    auth = Auth(app.test_client())
    auth.login(email, WRONG_PASSWORD)

    assert auth.login(email).status_code == 302

    assert _throttle_row(db, throttle.account_key(email)) is None


# --- What is counted ------------------------------------------------------------------------


def test_unknown_emails_are_limited_like_known_ones(throttled_app, make_user):
    app = throttled_app(LMS_LOGIN_FAILURES_PER_ACCOUNT="2")
    known = make_user().email
    answers = {}
    for email in (known, "nobody@example.org"):
        auth = Auth(app.test_client())
        auth.login(email, WRONG_PASSWORD)
        auth.login(email, WRONG_PASSWORD)
        answers[email] = auth.login(email, WRONG_PASSWORD)

    assert [r.status_code for r in answers.values()] == [429, 429]
    pages = [
        re.sub(r'(content|value)="[^"]{40,}"', "", r.get_data(as_text=True).replace(email, ""))
        for email, r in answers.items()
    ]
    assert pages[0] == pages[1]


def test_one_address_guessing_many_accounts_is_blocked(throttled_app, make_user):
    app = throttled_app(LMS_LOGIN_FAILURES_PER_ADDRESS="3")
    email = make_user().email
    from_one_address = Auth(app.test_client())
    for n in range(3):
        from_one_address.login(f"guess{n}@example.org", WRONG_PASSWORD)

    assert from_one_address.login(email).status_code == 429
    elsewhere = {"environ_base": {"REMOTE_ADDR": "192.0.2.7"}}
    assert Auth(app.test_client()).login(email, **elsewhere).status_code == 302


def test_guessing_the_current_password_on_the_change_form_is_limited(throttled_app, db, make_user):
    app = throttled_app(LMS_LOGIN_FAILURES_PER_ACCOUNT="2")
    user = make_user()
    client = app.test_client()
    auth = Auth(client)
    auth.login(user.email)
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    for _ in range(2):
        response = auth.post("/account/password", {**form, "current_password": WRONG_PASSWORD})
        assert response.status_code == 200

    blocked = auth.post("/account/password", {**form, "current_password": PASSWORD})

    assert blocked.status_code == 429
    assert TOO_MANY in blocked.get_data(as_text=True)
    db.refresh(user)
    db.commit()
    assert credentials.check_password(user, PASSWORD)
    assert is_signed_in(client)


# --- The counting itself --------------------------------------------------------------------

SETTINGS = {
    "LMS_LOGIN_FAILURES_PER_ACCOUNT": 5,
    "LMS_LOGIN_FAILURES_PER_ADDRESS": 30,
    "LMS_LOGIN_WINDOW_SECONDS": 900,
}


def test_counting_starts_from_the_stored_count_not_an_earlier_read(app):
    # A session that read the row earlier (and still holds it) must not count on from
    # that copy: another worker's failures in between would be lost.
    key = throttle.account_key("kim@example.org")
    this_worker = database(app).new_session(write=True)
    other_worker = database(app).new_session(write=True)
    try:
        throttle.record_attempt(other_worker, SETTINGS, [key])
        other_worker.commit()
        earlier_read = this_worker.scalar(select(Throttle).where(Throttle.key == key))
        assert earlier_read.attempts == 1
        this_worker.commit()
        throttle.record_attempt(other_worker, SETTINGS, [key])
        other_worker.commit()

        throttle.record_attempt(this_worker, SETTINGS, [key])
        this_worker.commit()

        assert earlier_read.attempts == 3
        other_worker.expire_all()
        stored = other_worker.scalar(select(Throttle).where(Throttle.key == key))
        assert stored.attempts == 3
    finally:
        this_worker.close()
        other_worker.close()


def test_a_block_starts_at_the_limit_and_lasts_the_rest_of_the_window(db):
    key = throttle.account_key("kim@example.org")
    start = now_utc()
    for n in range(4):
        throttle.record_attempt(db, SETTINGS, [key], now=start + timedelta(seconds=n))
    assert throttle.retry_after(db, [key], now=start + timedelta(seconds=4)) == 0

    throttle.record_attempt(db, SETTINGS, [key], now=start + timedelta(seconds=5))

    waits = [throttle.retry_after(db, [key], now=start + timedelta(seconds=n)) for n in (5, 899)]
    assert waits == [895, 1]
    assert throttle.retry_after(db, [key], now=start + timedelta(seconds=900)) == 0
    throttle.record_attempt(db, SETTINGS, [key], now=start + timedelta(seconds=901))
    row = db.scalar(select(Throttle).where(Throttle.key == key))
    assert (row.attempts, row.blocked_until) == (1, None)


# --- Expensive actions ----------------------------------------------------------------------


def _register(client, n: int, address: str):
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client, "/register")
    return client.post(
        "/register",
        data={**REGISTRATION, "email": f"person{n}@example.org", "csrf_token": token},
        environ_base=environ,
    )


def test_registrations_from_one_address_are_limited_per_hour(throttled_app, db):
    """An address may try only so many emails: "taken" answers tell which have accounts."""
    app = throttled_app(LMS_REGISTRATIONS_PER_ADDRESS="2")
    for n in range(2):
        client = app.test_client()
        assert _register(client, n, "198.51.100.7").status_code == 302
    refused = _register(app.test_client(), 2, "198.51.100.7")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 3000
    assert "Please wait 60 minutes" in refused.get_data(as_text=True)
    assert _register(app.test_client(), 3, "198.51.100.8").status_code == 302
    emails = set(db.scalars(select(User.email)))
    db.commit()
    assert emails == {"person0@example.org", "person1@example.org", "person3@example.org"}


def _status(client, path: str) -> int:
    with client.get(path) as response:  # a zip is a file the response must close
        return response.status_code


@pytest.mark.parametrize(
    ("setting", "path"),
    [("LMS_EXPORTS_PER_ACCOUNT", "/my-work/export"), ("LMS_DOWNLOADS_PER_ACCOUNT", "download")],
)
def test_zips_built_for_an_account_are_limited_per_hour(throttled_app, db, setting, path):
    app = throttled_app(**{setting: "2"})
    module = make_module(db, lessons=1)
    if path == "download":
        path = f"/modules/{module.slug}/download"
    answers = {}
    for user in make_users(db, Role.LEARNER, Role.LEARNER):
        make_enrollment(db, user, module)
        client = app.test_client()
        Auth(client).login(user.email)
        answers[user.id] = [_status(client, path) for _ in range(3)]
    assert list(answers.values()) == [[200, 200, 429], [200, 200, 429]]
