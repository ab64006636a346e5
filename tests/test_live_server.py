"""The app runs under gunicorn exactly as `lms serve` runs it."""

import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest

from tests.servers import LiveServer


def test_gunicorn_serves_the_app(live_server):
    with urllib.request.urlopen(live_server.url + "/login") as response:  # noqa: S310
        assert response.status == 200
        assert "Sign in" in response.read().decode()
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def _sign_in_attempt(url: str, headers: dict[str, str]) -> tuple[int, str]:
    """A sign-in form sent back with its token and cookie, with extra headers and no Referer."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(url + "/login") as page:  # noqa: S310
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.read().decode())
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": "nobody@example.org", "password": "x" * 12}
    ).encode()
    request = urllib.request.Request(url + "/login", data=data, headers=headers)  # noqa: S310
    try:
        with opener.open(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.parametrize("proxies", ["0", "1"])
def test_forwarded_headers_are_believed_only_as_lms_proxy_count_says(environ, proxies):
    """From 127.0.0.1 too: gunicorn believes X-Forwarded-Proto from there unless told not to.

    Believed, the request is https, and Flask-WTF then wants a Referer of this origin:
    without one the form is refused. With no proxy configured it is plain http.
    """
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with LiveServer({**environ, "LMS_PROXY_COUNT": proxies}) as server:
        status, body = _sign_in_attempt(server.url, https)
    if proxies == "0":
        assert status == 200
        assert "do not match an account" in body
    else:
        assert status == 400
        assert "form could not be sent" in body
