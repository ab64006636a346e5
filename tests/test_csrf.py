"""CSRF: a form without this session's token changes nothing; scripts send it in a header."""

from __future__ import annotations

import time

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from lms.models import Role, Throttle, User
from lms.people import credentials
from tests.accounts import NEW_PASSWORD, REGISTRATION, is_signed_in, reload
from tests.conftest import PASSWORD, Auth, csrf_token

CHANGE = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


@pytest.fixture(params=["missing", "wrong", "another session's"])
def bad_token(request, app) -> dict[str, str]:
    """The csrf_token part of a form: absent, made up, or valid for another browser."""
    if request.param == "missing":
        return {}
    if request.param == "wrong":
        return {"csrf_token": "IjEyMyI.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"}
    return {"csrf_token": csrf_token(app.test_client())}


def _refused(response) -> None:
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_registration_without_a_valid_token_creates_nothing(client, db, bad_token):
    client.get("/register")

    _refused(client.post("/register", data={**REGISTRATION, **bad_token}))

    assert db.scalar(select(func.count()).select_from(User)) == 0
    assert not is_signed_in(client)


def test_sign_in_without_a_valid_token_does_not_count_or_sign_in(client, db, make_user, bad_token):
    user = make_user()
    client.get("/login")

    _refused(client.post("/login", data={"email": user.email, "password": PASSWORD, **bad_token}))

    assert not is_signed_in(client)
    assert db.scalar(select(func.count()).select_from(Throttle)) == 0


def test_password_change_without_a_valid_token_does_nothing(client, auth, db, make_user, bad_token):
    user = make_user()
    auth.login(user.email)

    _refused(client.post("/account/password", data={**CHANGE, **bad_token}))

    assert credentials.check_password(reload(db, user), PASSWORD)
    assert is_signed_in(client)


def test_logout_without_a_valid_token_keeps_the_session(client, auth, db, make_user, bad_token):
    user = make_user()
    auth.login(user.email)
    token_before = reload(db, user).session_token

    _refused(client.post("/logout", data=bad_token))

    assert is_signed_in(client)
    assert reload(db, user).session_token == token_before


def test_disabling_without_a_valid_token_changes_nothing(client, auth, db, make_user, bad_token):
    person = make_user()
    auth.login(make_user(Role.ADMIN).email)

    _refused(client.post(f"/admin/people/{person.id}/disable", data=bad_token))

    assert reload(db, person).is_active


def _header(client) -> dict[str, str]:
    return {"X-CSRFToken": csrf_token(client)}


def test_a_script_may_send_the_token_in_a_header(client, auth, db, make_user):
    user = make_user()
    auth.login(user.email)

    changed = client.post("/account/password", data=CHANGE, headers=_header(client))
    # The new session of this device has a new token: the next script reads it again.
    signed_out = client.post("/logout", headers=_header(client))

    assert changed.status_code == 302
    assert credentials.check_password(reload(db, user), NEW_PASSWORD)
    assert signed_out.status_code == 302
    assert not is_signed_in(client)


def test_a_header_with_a_wrong_token_is_refused(client, auth, make_user):
    auth.login(make_user().email)

    _refused(client.post("/logout", headers={"X-CSRFToken": "not the token"}))

    assert is_signed_in(client)


def test_the_token_lives_as_long_as_the_session(app, client, make_user, monkeypatch):
    # A learner may write a reflection for hours: the form must still go through.
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    user = make_user()
    with monkeypatch.context() as patch:
        day_ago = int(time.time()) - 24 * 3600
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: day_ago)
        token = csrf_token(client, "/login")

    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_token_changes_at_sign_in(client, make_user):
    user = make_user()
    before = csrf_token(client, "/login")
    Auth(client).login(user.email)

    assert csrf_token(client) != before


def test_the_token_is_signed_once_per_session_and_works_on_every_page(
    client, auth, make_user, monkeypatch
):
    user = make_user()
    auth.login(user.email)
    first = csrf_token(client)
    # Signed again, the token would carry a later time stamp.
    later = iter(range(int(time.time()) + 10, int(time.time()) + 100))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: next(later))
    # The page after it neither signs again nor sends the session cookie again.
    response = client.get("/")
    assert f'content="{first}"' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert csrf_token(client) == first

    accepted = client.post("/account/password", data={**CHANGE, "csrf_token": first})
    assert accepted.status_code == 302


def test_a_new_session_has_a_new_token_and_the_old_one_is_refused(client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    before = csrf_token(client)
    auth.logout()
    auth.login(user.email)
    after = csrf_token(client)
    assert after != before

    _refused(client.post("/account/password", data={**CHANGE, "csrf_token": before}))
