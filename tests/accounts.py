"""What the account tests (and others) share: the texts a visitor reads, the registration
form, whether a browser is signed in, and a password reset through the mail it sends."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.mail import outbox_dir
from lms.models import User
from tests.conftest import csrf_token
from tests.factories import PASSWORD

NEW_PASSWORD = "another long passphrase"
WRONG_PASSWORD = "not the passphrase at all"
NO_MATCH = "That email and password do not match an account we can sign in."

REGISTRATION = {
    "display_name": "Amina",
    "email": "amina@example.org",
    "password": PASSWORD,
    "confirm": PASSWORD,
}


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
    """Post the reset link's form with a new password."""
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
