"""The app runs under gunicorn exactly as `lms serve` runs it."""

import urllib.request


def test_gunicorn_serves_the_app(live_server):
    with urllib.request.urlopen(live_server.url + "/login") as response:  # noqa: S310
        assert response.status == 200
        assert "Sign in" in response.read().decode()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
