"""After sign-in the browser goes to a path on this site, never anywhere else."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from lms.models import Role
from lms.web.security import is_local_path
from tests.conftest import PASSWORD, csrf_token

# The `next` parameter exactly as it stands in the URL: some are percent-encoded, and
# browsers read tabs, newlines and backslashes in ways that lead off the site.
OFF_SITE = [
    "//evil.example",
    "/%09/evil.example",
    "http:evil.example",
    "/%0a/",
    "\\\\evil.example",
    "/\\evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x=1",
    "//[evil.example",
]
# More of the same, checked while signed in (a sign-in costs a password hash).
MORE_OFF_SITE = [
    "\\evil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/%2509/evil.example",
    "%20//evil.example",
    "http://[::1",
    "evil.example",
    "",
]


def _sign_in_at(client: FlaskClient, url: str, email: str):
    """Send the sign-in form from this URL of the login page, as the browser would."""
    return client.post(
        url, data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client, url)}
    )


@pytest.mark.parametrize("raw", OFF_SITE)
def test_sign_in_never_redirects_off_the_site(client, make_user, raw):
    response = _sign_in_at(client, f"/login?next={raw}", make_user().email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_signed_in_visit_to_login_never_redirects_off_the_site(client, auth, make_user):
    auth.login(make_user().email)

    for raw in OFF_SITE + MORE_OFF_SITE:  # one sign-in for the whole table
        response = client.get(f"/login?next={raw}")
        assert (response.status_code, response.headers["Location"]) == (302, "/"), raw


def test_sign_in_keeps_a_local_path_with_its_query(client, make_user):
    admin = make_user(Role.ADMIN)

    response = _sign_in_at(client, "/login?next=/admin/people%3Fx%3D1", admin.email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/people?x=1"
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_page_that_needs_sign_in_comes_back_after_it(client, make_user):
    admin = make_user(Role.ADMIN)

    to_login = client.get("/admin/people?x=1")
    assert to_login.status_code == 302
    login_url = to_login.headers["Location"]
    assert parse_qs(urlsplit(login_url).query)["next"] == ["/admin/people?x=1"]

    response = _sign_in_at(client, login_url, admin.email)
    assert response.headers["Location"] == "/admin/people?x=1"


@pytest.mark.parametrize(
    ("target", "local"),
    [
        ("/", True),
        ("/admin/people?x=1", True),
        ("/lessons/a%20b#part-2", True),
        ("/a//b", True),
        ("/caf%C3%A9?q=%26", True),
        (None, False),
        ("//evil.example", False),
        ("/\t/evil.example", False),
        ("/\n/", False),
        ("\\\\evil.example", False),
        ("/\\evil.example", False),
        ("/%5C%5Cevil.example", False),
        ("http:evil.example", False),
        ("HTTPS://evil.example", False),
        ("javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("/%00", False),
        ("/\x7f", False),
        ("//[evil.example", False),
        ("http://[::1", False),
        ("/%2F/evil.example", False),
        ("/%252F%252Fevil.example", False),
        ("/%0d%0aSet-Cookie:x=1", False),
        (" /evil.example", False),
        ("relative/path", False),
    ],
)
def test_is_local_path(target, local):
    assert is_local_path(target) is local


@pytest.mark.parametrize(
    "target",
    ["/prompts/1/answer", "/logout", "/modules/a/lessons/b/complete", "/no/such/page"],
)
def test_sign_in_never_goes_to_a_url_that_is_not_a_page(client, make_user, target):
    """Signing in cannot send a form again: an action's URL would answer 405."""
    response = _sign_in_at(client, f"/login?next={target}", make_user().email)

    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_a_post_that_needs_sign_in_comes_back_to_the_page_of_its_form(client, make_user):
    lesson = "/modules/wellness/lessons/lesson-1"
    token = csrf_token(client, "/login")

    response = client.post(
        f"{lesson}/complete",
        data={"csrf_token": token},
        headers={"Referer": f"http://localhost{lesson}"},
    )

    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert urlsplit(login_url).path == "/login"
    assert parse_qs(urlsplit(login_url).query)["next"] == [lesson]


@pytest.mark.parametrize(
    "referer", [None, "https://evil.example/modules/x", "http://localhost/prompts/1/answer"]
)
def test_a_post_from_nowhere_known_signs_in_to_home(client, make_user, referer):
    headers = {"Referer": referer} if referer else {}
    token = csrf_token(client, "/login")

    response = client.post("/logout", data={"csrf_token": token}, headers=headers)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
