"""Registration: a new account is a signed-in learner; bad input and taken emails are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.models import Role, User
from lms.people import credentials
from lms.web.database import get_session
from tests.accounts import REGISTRATION, is_signed_in
from tests.conftest import PASSWORD


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
