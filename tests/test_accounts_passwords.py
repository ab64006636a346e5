"""Passwords: changing one, and setting a new one through a reset link sent by email."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from lms.models import User
from lms.people import credentials
from tests.accounts import (
    NEW_PASSWORD,
    WRONG_PASSWORD,
    is_signed_in,
    outbox,
    reload,
    request_reset,
    reset_link,
    set_new_password,
)
from tests.conftest import PASSWORD, Auth, csrf_token

RESET_SENT = (
    "If an account uses that email, we have sent it a link to set a new password. "
    "The link works once, for 60 minutes."
)
LINK_DEAD = "This link no longer works"


# --- Change password ------------------------------------------------------------------------


def _change_password(auth: Auth, current: str, new: str = NEW_PASSWORD, confirm: str | None = None):
    return auth.post(
        "/account/password",
        {"current_password": current, "password": new, "confirm": confirm or new},
    )


def test_change_password_refuses_a_wrong_current_password(client, auth, db, make_user):
    user = make_user()
    auth.login(user.email)

    response = _change_password(auth, WRONG_PASSWORD)

    assert response.status_code == 200
    assert "That is not your current password." in response.get_data(as_text=True)
    assert credentials.check_password(reload(db, user), PASSWORD)


def test_change_password_refuses_a_mismatched_confirmation(auth, db, make_user):
    user = make_user()
    auth.login(user.email)

    response = _change_password(auth, PASSWORD, confirm="a different passphrase")

    assert response.status_code == 200
    assert "The two passwords differ." in response.get_data(as_text=True)
    assert credentials.check_password(reload(db, user), PASSWORD)


def test_change_password_keeps_this_device_and_ends_the_others(app, client, auth, make_user):
    user = make_user()
    other_device = app.test_client()
    Auth(other_device).login(user.email)
    auth.login(user.email)

    response = _change_password(auth, PASSWORD)

    assert response.status_code == 302
    assert is_signed_in(client)
    assert not is_signed_in(other_device)
    assert Auth(app.test_client()).login(user.email, NEW_PASSWORD).status_code == 302
    assert Auth(app.test_client()).login(user.email, PASSWORD).status_code == 200


# --- Password reset by email ----------------------------------------------------------------


def test_reset_link_is_built_from_the_base_url_not_the_host_header(app, client, make_user):
    user = make_user()

    response = request_reset(client, user.email, headers={"Host": "evil.example"})

    assert response.status_code == 302
    (message,) = outbox(app)
    assert message["To"] == user.email
    assert message["From"] == "lms@lms.test"
    link = reset_link(app)
    assert link.startswith("http://lms.test/reset/")
    assert "evil.example" not in message.as_string()
    assert "open this link within 60 minutes" in message.get_body().get_content()


def test_reset_sets_a_new_password_and_the_link_works_once(app, client, db, make_user):
    user = make_user()
    request_reset(client, user.email)
    link = reset_link(app)
    visitor = app.test_client()

    assert visitor.get(urlsplit(link).path).status_code == 200
    response = set_new_password(visitor, link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_signed_in(visitor)
    assert credentials.check_password(reload(db, user), NEW_PASSWORD)
    again = app.test_client().get(urlsplit(link).path)
    assert again.status_code == 404
    assert LINK_DEAD in again.get_data(as_text=True)
    replay = set_new_password(app.test_client(), link, "a third long passphrase")
    assert replay.status_code == 404
    assert credentials.check_password(reload(db, user), NEW_PASSWORD)


def test_reset_form_checks_the_new_password(app, client, db, make_user):
    user = make_user()
    request_reset(client, user.email)
    path = urlsplit(reset_link(app)).path

    response = client.post(
        path, data={"password": "short", "confirm": "short", "csrf_token": csrf_token(client, path)}
    )

    assert response.status_code == 200
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert credentials.check_password(reload(db, user), PASSWORD)
    assert client.get(path).status_code == 200


def _token_signed_seconds_ago(app: Flask, user: User, seconds: int, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: int(time.time()) - seconds)
        return credentials.make_reset_token(app.config, user)


@pytest.mark.parametrize(
    ("max_age", "seconds_ago", "status"),
    [(3600, 3500, 200), (3600, 3700, 404), (60, 30, 200), (60, 90, 404)],
)
def test_reset_link_expires(app, client, make_user, monkeypatch, max_age, seconds_ago, status):
    app.config["LMS_PASSWORD_RESET_MAX_AGE"] = max_age
    token = _token_signed_seconds_ago(app, make_user(), seconds_ago, monkeypatch)

    response = client.get(f"/reset/{token}")

    assert response.status_code == status


def test_reset_link_dies_when_the_password_changes(app, client, auth, make_user):
    user = make_user()
    request_reset(app.test_client(), user.email)
    link = reset_link(app)
    auth.login(user.email)
    _change_password(auth, PASSWORD)

    assert app.test_client().get(urlsplit(link).path).status_code == 404


def test_reset_link_dies_when_the_account_is_disabled(app, client, db, make_user):
    user = make_user()
    request_reset(client, user.email)
    credentials.disable(db, user)
    db.commit()

    assert client.get(urlsplit(reset_link(app)).path).status_code == 404


def test_a_forged_reset_link_is_refused(app, client, make_user):
    user = make_user()
    other_key = credentials.make_reset_token({**app.config, "SECRET_KEY": "another key"}, user)
    signer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=credentials.RESET_SALT)
    odd_payloads = [signer.dumps([str(user.id), "x"]), signer.dumps([user.id]), signer.dumps(7)]
    no_fingerprint = signer.dumps([user.id, "0" * 32])

    for token in ["nonsense", other_key, *odd_payloads, no_fingerprint]:
        response = client.get(f"/reset/{token}")
        assert response.status_code == 404, token
        assert LINK_DEAD in response.get_data(as_text=True)


def test_reset_answers_the_same_for_unknown_and_disabled_emails(app, db, make_user):
    known, disabled = make_user().email, make_user()
    credentials.disable(db, disabled)
    db.commit()
    answers = []
    for email in (known, "nobody@example.org", disabled.email):
        client = app.test_client()
        response = request_reset(client, email)
        answers.append((response.status_code, response.headers["Location"]))
        assert RESET_SENT in client.get("/login").get_data(as_text=True)

    assert answers == [(302, "/login")] * 3
    assert [m["To"] for m in outbox(app)] == [known]
