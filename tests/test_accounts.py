"""Accounts: registration, sign-in and out, password change and reset by email, `lms users`."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lms.mail import outbox_dir
from lms.models import Role, User
from lms.people import credentials
from lms.web.database import database, get_session
from tests.conftest import PASSWORD, Auth, csrf_token

NEW_PASSWORD = "another long passphrase"
WRONG_PASSWORD = "not the passphrase at all"
NO_MATCH = "That email and password do not match an account we can sign in."
RESET_SENT = (
    "If an account uses that email, we have sent it a link to set a new password. "
    "The link works once, for 60 minutes."
)
LINK_DEAD = "This link no longer works"


# --- Helpers shared with other test files -------------------------------------------------


def is_signed_in(client: FlaskClient) -> bool:
    """True when the client's cookies sign it in (a signed-in-only page answers 200)."""
    response = client.get("/account/password")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def outbox(app: Flask) -> list[EmailMessage]:
    """The messages written to the outbox, oldest first."""
    folder = outbox_dir(app.config)
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def request_reset(client: FlaskClient, email: str, headers: dict[str, str] | None = None):
    """Ask for a reset link through the form; the mail is written when the response closes."""
    page = client.get("/reset", headers=headers).get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/reset", data={"email": email, "csrf_token": token}, headers=headers)
    response.close()
    return response


def reset_link(app: Flask) -> str:
    """The link in the newest message of the outbox."""
    messages = outbox(app)
    assert messages, "no message in the outbox"
    body = messages[-1].get_body(("plain",)).get_content()
    links = re.findall(r"https?://\S+", body)
    assert len(links) == 1, body
    return links[0]


def set_new_password(client: FlaskClient, link: str, password: str = NEW_PASSWORD):
    path = urlsplit(link).path
    return client.post(
        path,
        data={"password": password, "confirm": password, "csrf_token": csrf_token(client, path)},
    )


def reload(db: Session, user: User) -> User:
    """The user as stored now. The read's transaction ends at once: on SQLite the test's
    session begins IMMEDIATE, and holding it would lock the app out."""
    db.refresh(user)
    db.commit()
    return user


# --- Registration ---------------------------------------------------------------------------

REGISTRATION = {
    "display_name": "Amina",
    "email": "amina@example.org",
    "password": PASSWORD,
    "confirm": PASSWORD,
}


def test_registration_creates_a_learner_and_signs_in(client, auth, db):
    response = auth.post("/register", {**REGISTRATION, "email": "  Amina@Example.ORG "})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = db.scalar(select(User))
    assert user.email == "amina@example.org"
    assert user.display_name == "Amina"
    assert user.role == Role.LEARNER
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert "Welcome, Amina! Your account is ready." in client.get("/").get_data(as_text=True)
    assert is_signed_in(client)


def test_registration_hashes_the_password_outside_any_transaction(auth, monkeypatch):
    real_hash = credentials.generate_password_hash
    seen = []
    monkeypatch.setattr(
        credentials,
        "generate_password_hash",
        lambda password: seen.append(get_session().in_transaction()) or real_hash(password),
    )

    assert auth.post("/register", REGISTRATION).status_code == 302

    assert seen == [False]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"display_name": ""}, "This field is required."),
        ({"display_name": "   "}, "This field is required."),
        ({"display_name": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"email": ""}, "This field is required."),
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"password": "too short", "confirm": "too short"}, "Use at least 10 characters."),
        ({"confirm": "a different passphrase"}, "The two passwords differ."),
        ({"confirm": ""}, "This field is required."),
    ],
)
def test_registration_refuses_bad_input(client, auth, db, changes, message):
    response = auth.post("/register", {**REGISTRATION, **changes})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Please check the fields marked below." in page
    assert db.scalar(select(func.count()).select_from(User)) == 0
    assert not is_signed_in(client)


def test_registration_refuses_a_taken_email_whatever_its_case(client, auth, db, make_user):
    make_user(email="taken@example.org")

    response = auth.post("/register", {**REGISTRATION, "email": "Taken@Example.org"})

    assert response.status_code == 200
    assert "This email has an account." in response.get_data(as_text=True)
    taken = select(func.count()).select_from(User).where(User.email == "taken@example.org")
    assert db.scalar(taken) == 1
    assert not is_signed_in(client)


def test_a_sign_up_racing_another_for_one_email_hears_email_taken(db, make_user, monkeypatch):
    make_user(email="twice@example.org")
    # As if the other sign-up committed between our check and our insert.
    monkeypatch.setattr(credentials, "find_user", lambda *_args: None)

    with pytest.raises(credentials.EmailTakenError):
        credentials.create_user(db, "twice@example.org", "Second", PASSWORD)

    # Only the insert was undone: the session goes on working.
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_a_signed_in_person_is_sent_home_from_registration(client, auth, make_user):
    auth.login(make_user().email)
    response = client.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- Sign in --------------------------------------------------------------------------------


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


# --- The `lms users create` command ---------------------------------------------------------


def _create_user(runner, email: str, password: str = PASSWORD, role: str = "admin"):
    args = ["users", "create", "--email", email, "--name", "Ada", "--role", role]
    return runner.invoke(args=[*args, "--password", password])


def test_cli_creates_an_admin_who_can_sign_in(runner, client, auth, db):
    result = _create_user(runner, "ada@example.org")

    assert result.exit_code == 0, result.output
    assert "Created admin ada@example.org." in result.output
    user = db.scalar(select(User).where(User.email == "ada@example.org"))
    db.commit()
    assert user.role == Role.ADMIN
    assert auth.login("ada@example.org").status_code == 302
    assert client.get("/admin/people").status_code == 200


def test_cli_refuses_a_taken_email(runner, db, make_user):
    make_user(email="ada@example.org")

    result = _create_user(runner, "ADA@example.org")

    assert result.exit_code != 0
    assert "has an account already" in result.output
    count = select(func.count()).select_from(User).where(User.email == "ada@example.org")
    assert db.scalar(count) == 1


def test_cli_refuses_a_short_password(runner, db):
    result = _create_user(runner, "ada@example.org", password="short")

    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 0
