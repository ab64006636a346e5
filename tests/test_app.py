"""The app's frame: configuration, security headers, error pages."""

from __future__ import annotations

import stat

import pytest

from lms import create_app
from lms.config import ConfigError, from_environment
from lms.web.security import CONTENT_SECURITY_POLICY


def test_secret_key_is_generated_once_with_private_mode(tmp_path):
    env = {"LMS_DATA_DIR": str(tmp_path)}
    first = from_environment(env)["SECRET_KEY"]
    second = from_environment(env)["SECRET_KEY"]
    assert first == second
    assert len(first) >= 40
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_secret_key_from_environment_wins(tmp_path):
    env = {"LMS_DATA_DIR": str(tmp_path), "LMS_SECRET_KEY": "from-env"}
    assert from_environment(env)["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_default_database_is_sqlite_in_the_data_dir(tmp_path):
    config = from_environment({"LMS_DATA_DIR": str(tmp_path)})
    assert config["LMS_DATABASE_URL"] == f"sqlite:///{tmp_path / 'lms.sqlite3'}"


@pytest.mark.parametrize(
    ("name", "value"),
    [("LMS_MAX_UPLOAD_MB", "lots"), ("LMS_LEARNER_QUOTA_MB", "-1"), ("LMS_BASE_URL", "ftp://x")],
)
def test_bad_settings_are_refused_with_their_name(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        from_environment({"LMS_DATA_DIR": str(tmp_path), name: value})


def test_https_base_url_makes_cookies_secure(tmp_path):
    config = from_environment(
        {"LMS_DATA_DIR": str(tmp_path), "LMS_BASE_URL": "https://lms.example"}
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


def test_a_long_reflection_fits_in_a_form(app):
    assert app.config["MAX_FORM_MEMORY_SIZE"] >= 2 * 1024 * 1024


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_load_no_external_resources(client):
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page
    assert "https://" not in page
    assert "//" not in page.replace("://", "")


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page." in response.get_data(as_text=True)


def test_trusted_hosts_are_enforced(environ):
    app = create_app({**environ, "LMS_TRUSTED_HOSTS": "lms.example"}, {"TESTING": True})
    client = app.test_client()
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "lms.example"}).status_code == 200


def test_a_signed_in_page_costs_a_fixed_number_of_queries(client, auth, make_user, count_queries):
    user = make_user()
    auth.login(user.email)
    with count_queries as queries:
        assert client.get("/").status_code == 200
    assert queries.count == 1, queries.statements  # the user, by session token


@pytest.mark.parametrize("path", ["/", "/learning", "/modules", "/account/password", "/cohorts"])
def test_signed_in_pages_are_never_stored_by_a_cache(client, auth, make_user, path):
    """Back after sign-out at a shared computer must not show the last person's page."""
    assert "Cache-Control" not in client.get("/login").headers
    auth.login(make_user().email)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    auth.logout()
    assert client.get("/login").headers.get("Cache-Control") is None


def test_static_files_keep_their_own_caching_when_signed_in(client, auth, make_user):
    auth.login(make_user().email)
    with client.get("/static/css/site.css") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] != "no-store"


def test_invitations_work_for_30_days_unless_configured(tmp_path):
    assert from_environment({"LMS_DATA_DIR": str(tmp_path)})["LMS_INVITATION_DAYS"] == 30
    env = {"LMS_DATA_DIR": str(tmp_path), "LMS_INVITATION_DAYS": "7"}
    assert from_environment(env)["LMS_INVITATION_DAYS"] == 7
