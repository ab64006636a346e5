"""A world: a site full of real objects, the names a test reaches them by, and its browsers.

Two builders fill one. ``tests/access_world.py`` arranges rows with the factories, so that
every id a URL can name has an object behind it (the access matrix); ``tests/hostile_site.py``
fills the site through its own forms with hostile text (the XSS tests). Both hand back a
``World``: who is who, what each URL argument names, and what to read once the site is full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import User
from tests.factories import PASSWORD


class Browser:
    """A test client, signed in through the login form, posting forms with its CSRF token."""

    def __init__(self, app: Flask, email: str | None = None) -> None:
        self.client = app.test_client()
        self._token: str | None = None
        self._token_page = "/login"
        if email is not None:
            response = self.post("/login", {"email": email, "password": PASSWORD})
            assert response.status_code == 302, f"{email} could not sign in"
            self._token, self._token_page = None, "/account/password"  # a new session

    def get(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict, **kw):
        """POST a form with the session's CSRF token, read from a page once as a browser would."""
        if self._token is None:
            page = self.get(self._token_page)
            self._token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        return self.client.post(path, data={**data, "csrf_token": self._token}, **kw)

    def read(self, path: str) -> list[tuple[str, str]]:
        """The page and the pages after it (a pager's "next" links), as (path, html)."""
        pages = []
        while path:
            html = self.get(path)
            pages.append((path, html))
            following = re.search(r'<a rel="next" href="([^"]+page=[^"]+)">', html)
            path = unescape(following.group(1)) if following else ""
        return pages


def signed_in(
    app: Flask, db: Session, user_id: int | None, csrf_secret: str | None = None
) -> FlaskClient:
    """A new browser, signed in as the user (None: anonymous), holding the CSRF secret.

    The session carries the account's current session token, as signing in through
    the form would leave it; every request still loads the user through the app's own
    user loader. A fresh browser per request keeps one row's sign-out, password change
    or new account from leaking into the next row.
    """
    client = app.test_client()
    token = None
    if user_id is not None:
        token = db.scalar(select(User.session_token).where(User.id == user_id))
        db.commit()  # end the read: on SQLite it would hold the app's writes back
    with client.session_transaction() as session:
        if token is not None:  # a deleted account stays signed out
            session["_user_id"] = token
            session["_fresh"] = True
        if csrf_secret is not None:
            session["csrf_token"] = csrf_secret
    return client


@dataclass
class World:
    """Who is who, every object a URL can name, and what to read once the site is full."""

    # A person's part in the story ("learner_a", "author") -> their user id, and email.
    users: dict[str, int]
    # URL argument values by name: ids, slugs, tokens.
    ids: dict[str, Any]
    emails: dict[str, str] = field(default_factory=dict)
    # The CSRF secret every browser of ``signed_in`` holds, and the token its pages carry.
    csrf_secret: str | None = None
    csrf_token: str | None = None
    # A module package an admin may upload.
    package_zip: bytes = b""
    # Browsers signed in through the form, by part.
    browsers: dict[str, Browser] = field(default_factory=dict)
    # Pages to read, each as someone, once the site is full; pages read on the way there
    # (where, html); downloads (offline zips) to open, each as someone.
    pages: list[tuple[Browser, str]] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)
    downloads: list[tuple[Browser, str]] = field(default_factory=list)
