"""Failures answer with a plain page: 503 with a retry hint when the database is away."""

from __future__ import annotations

from lms import create_app
from tests.conftest import csrf_token
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
