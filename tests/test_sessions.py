"""Sessions: cookie flags, a fresh session at sign-in, and revocation that old cookies obey."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms import create_app
from lms.web.database import database
from tests.accounts import NEW_PASSWORD, is_signed_in
from tests.conftest import PASSWORD, Auth

SESSION = "lms_session"
REMEMBER = "lms_remember"


def _cookie(client: FlaskClient, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _client_with(app: Flask, name: str, value: str) -> FlaskClient:
    """A new browser that carries only this one cookie."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def _set_cookie_header(response, name: str) -> str:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


@pytest.fixture
def remembered(app, client, auth, make_user) -> dict[str, str]:
    """Sign the client in with "keep me signed in"; its two cookies, copied."""
    user = make_user(email="kim@example.org")
    assert auth.login(user.email, remember=True).status_code == 302
    return {SESSION: _cookie(client, SESSION), REMEMBER: _cookie(client, REMEMBER)}


# --- Cookie flags ---------------------------------------------------------------------------


def test_cookies_are_httponly_and_samesite_lax_and_not_secure_over_http(app, make_user):
    user = make_user()
    client = app.test_client()

    first_visit = client.get("/login")
    login = Auth(client).login(user.email, remember=True)

    headers = [_set_cookie_header(first_visit, SESSION)]
    headers += [_set_cookie_header(login, name) for name in (SESSION, REMEMBER)]
    for header in headers:
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" not in header


def test_cookies_are_secure_when_the_base_url_is_https(environ, make_user):
    user = make_user()
    app = create_app({**environ, "LMS_BASE_URL": "https://lms.test"}, {"TESTING": True})
    client = app.test_client()
    # Flask-WTF checks the Referer of forms sent over https.
    https = {"base_url": "https://lms.test", "headers": {"Referer": "https://lms.test/login"}}
    try:
        page = client.get("/login", **https)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
        data = {"email": user.email, "password": PASSWORD, "remember": "y"}
        login = client.post("/login", data={**data, "csrf_token": token.group(1)}, **https)
    finally:
        database(app).engine.dispose()

    assert login.status_code == 302
    headers = [_set_cookie_header(page, SESSION)]
    headers += [_set_cookie_header(login, name) for name in (SESSION, REMEMBER)]
    for header in headers:
        assert "Secure" in header
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
    assert login.headers["Strict-Transport-Security"].startswith("max-age=")


# --- A fresh session at sign-in -------------------------------------------------------------


def test_sign_in_starts_a_new_session(client, auth, make_user):
    user = make_user()
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by someone who handed this browser a session"
        csrf_before = before["csrf_token"]
    cookie_before = _cookie(client, SESSION)

    auth.login(user.email)

    assert _cookie(client, SESSION) != cookie_before
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"] == user.session_token
        assert after.get("csrf_token") != csrf_before


# --- Revocation: copied cookies stop working ------------------------------------------------


def test_a_session_outlives_a_change_of_address_and_browser(app, client, auth, make_user):
    """A phone moves between networks: the session cookie alone decides, and it is not
    rewritten on the way (nothing marks it, nothing re-signs it)."""
    auth.login(make_user().email)
    assert client.get("/learning").status_code == 200  # shows (and drops) the welcome
    moved = {"REMOTE_ADDR": "203.0.113.9"}
    response = client.get("/learning", environ_base=moved, headers={"User-Agent": "Other/1.0"})
    assert response.status_code == 200
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION)]
    assert is_signed_in(client)


@pytest.mark.parametrize("name", [SESSION, REMEMBER])
def test_each_cookie_alone_signs_in_while_the_session_lives(app, remembered, name):
    # The replay tests below would pass for nothing if a copied cookie never worked.
    assert is_signed_in(_client_with(app, name, remembered[name]))


@pytest.mark.parametrize("name", [SESSION, REMEMBER])
def test_a_cookie_copied_before_logout_is_dead_after_it(app, auth, remembered, name):
    assert auth.logout().status_code == 302

    assert not is_signed_in(_client_with(app, name, remembered[name]))


@pytest.mark.parametrize("name", [SESSION, REMEMBER])
def test_a_cookie_copied_before_a_password_change_is_dead_after_it(app, auth, remembered, name):
    response = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302

    assert not is_signed_in(_client_with(app, name, remembered[name]))


def test_the_device_that_changed_the_password_stays_remembered(app, client, auth, remembered):
    auth.post(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    new_remember = _cookie(client, REMEMBER)
    assert new_remember != remembered[REMEMBER]
    assert is_signed_in(_client_with(app, REMEMBER, new_remember))


def test_logout_deletes_the_remember_cookie(client, auth, remembered):
    response = auth.logout()

    assert "Expires=Thu, 01 Jan 1970" in _set_cookie_header(response, REMEMBER)
    assert client.get_cookie(REMEMBER) is None


def test_logout_on_one_device_signs_out_every_device(app, client, auth, make_user):
    user = make_user()
    phone = app.test_client()
    Auth(phone).login(user.email, remember=True)
    auth.login(user.email)

    auth.logout()

    assert not is_signed_in(phone)
    assert not is_signed_in(client)
