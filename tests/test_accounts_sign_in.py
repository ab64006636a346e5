"""Signing in and out: the right password signs in, anything else gets one answer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from lms.models import User
from lms.people import credentials
from lms.web.database import database, get_session
from tests.accounts import NO_MATCH, WRONG_PASSWORD, is_signed_in, reload


def test_login_with_the_right_password_signs_in(client, auth, db, make_user):
    user = make_user(email="sam@example.org")

    response = auth.login("  SAM@example.org ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert reload(db, user).last_login_at is not None
    assert is_signed_in(client)


def _answer_without_secrets(response, email: str) -> str:
    page = response.get_data(as_text=True).replace(email, "EMAIL")
    page = re.sub(r'name="csrf-token" content="[^"]+"', "", page)
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, auth, make_user):
    user = make_user()

    wrong = auth.login(user.email, WRONG_PASSWORD)
    unknown = auth.login("nobody@example.org", WRONG_PASSWORD)

    assert wrong.status_code == unknown.status_code == 200
    assert NO_MATCH in wrong.get_data(as_text=True)
    assert _answer_without_secrets(wrong, user.email) == _answer_without_secrets(
        unknown, "nobody@example.org"
    )
    assert not is_signed_in(client)


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_every_sign_in_attempt_costs_one_password_hash(auth, make_user, monkeypatch, known):
    email = make_user().email if known else "nobody@example.org"
    credentials.check_password(None, "warm the dummy hash up")
    checks = []
    real_check = credentials.check_password_hash
    monkeypatch.setattr(
        credentials,
        "check_password_hash",
        lambda stored, given: checks.append(stored) or real_check(stored, given),
    )

    auth.login(email, WRONG_PASSWORD)

    assert len(checks) == 1
    assert checks[0].startswith("scrypt:")


def test_the_password_hash_runs_outside_any_transaction(app, client, auth, make_user, monkeypatch):
    """A tenth of a second of scrypt must not hold SQLite's one write lock."""
    user = make_user()
    real_check = credentials.check_password_hash
    seen = []

    def check_while_someone_else_writes(stored, given):
        seen.append(get_session().in_transaction())
        other = database(app).new_session(write=True)
        with other.begin():  # another request, signing another account out, say
            other.execute(update(User).where(User.id == user.id).values(locale="fr"))
        other.close()
        return real_check(stored, given)

    monkeypatch.setattr(credentials, "check_password_hash", check_while_someone_else_writes)

    auth.login(user.email)

    assert seen == [False]
    assert is_signed_in(client)


def test_an_account_disabled_during_the_hash_is_not_signed_in(
    app, client, auth, make_user, monkeypatch
):
    user = make_user()
    real_check = credentials.check_password_hash

    def disabled_meanwhile(stored, given):
        other = database(app).new_session(write=True)
        with other.begin():
            credentials.disable(other, other.get(User, user.id))
        other.close()
        return real_check(stored, given)

    monkeypatch.setattr(credentials, "check_password_hash", disabled_meanwhile)

    response = auth.login(user.email)

    assert NO_MATCH in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_a_disabled_account_cannot_sign_in(client, auth, db, make_user):
    user = make_user()
    credentials.disable(db, user)
    db.commit()

    response = auth.login(user.email)

    assert response.status_code == 200
    assert NO_MATCH in response.get_data(as_text=True)
    assert not is_signed_in(client)


# --- Sign out -------------------------------------------------------------------------------


def test_logout_by_get_is_not_allowed(client, auth, make_user):
    auth.login(make_user().email)
    assert client.get("/logout").status_code == 405
    assert is_signed_in(client)


def test_logout_signs_out_and_changes_the_session_token(client, auth, db, make_user):
    user = make_user()
    auth.login(user.email)
    token_before = reload(db, user).session_token

    response = auth.logout()

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "You are signed out on every device." in client.get("/login").get_data(as_text=True)
    assert not is_signed_in(client)
    assert reload(db, user).session_token != token_before
