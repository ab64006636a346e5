"""Failures answer with a plain page: 503 with a retry hint when the database is away."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, func, select

from lms import create_app
from lms.models import ReflectionRevision
from lms.web.database import database
from tests.conftest import csrf_token
from tests.factories import make_enrollment, make_module
from tests.servers import free_port


def test_database_down_answers_503_with_retry_after(environ):
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=2"
    app = create_app({**environ, "LMS_DATABASE_URL": unreachable}, {"TESTING": True})
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "email": "a@example.org", "password": "x" * 12}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_data(as_text=True)
    assert "try again in a few seconds" in body
    assert "Traceback" not in body
    assert "psycopg" not in body


def test_unexpected_error_is_a_500_page_without_details(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Nothing was saved" in body
    assert "secret internals" not in body


def test_a_full_database_answers_507_in_plain_words_logged_as_an_error(
    app, client, auth, db, make_user, caplog
):
    """SQLITE_FULL (here: the database at its page limit) is no room, not "busy"."""
    if app.config["LMS_DATABASE_URL"].startswith("postgresql"):
        pytest.skip("PostgreSQL's disk cannot be filled from a test; SQLSTATE 53100 is mapped")
    user = make_user()
    auth.login(user.email)
    module = make_module(db, lessons=1)
    make_enrollment(db, user, module)
    prompt = module.lessons[0].prompts[0]
    revisions_before = db.scalar(select(func.count()).select_from(ReflectionRevision))
    db.commit()  # the test's session holds no lock while the app works
    assert client.get(f"/modules/{module.slug}/lessons/lesson-1").status_code == 200
    engine = database(app).engine
    engine.dispose()

    @event.listens_for(engine, "connect")
    def full(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    caplog.set_level(logging.WARNING, logger="lms.web.errors")
    response = client.post(
        f"/prompts/{prompt.id}/answer",
        data={f"p{prompt.id}-body": "x" * 90_000 + " nearly lost", f"p{prompt.id}-revision": "0"},
        headers={"X-CSRFToken": csrf_token(client), "Accept": "application/json"},
    )
    event.remove(engine, "connect", full)
    engine.dispose()

    assert response.status_code == 507
    assert "no room left to store this right now, so nothing was saved" in response.json["error"]
    assert [(r.levelname, r.getMessage()[:13]) for r in caplog.records] == [
        ("ERROR", "no room left ")
    ]
    assert db.scalar(select(func.count()).select_from(ReflectionRevision)) == revisions_before
