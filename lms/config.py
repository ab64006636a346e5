"""Configuration, read from the environment when the app is created (never at import)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from lms.db import DEFAULT_LOCK_TIMEOUT_MS

CHECKOUT_DIR = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


class ConfigError(RuntimeError):
    """A setting in the environment cannot be used; the message says which and why."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """The key from the environment, or one generated once and kept in the data dir (0600)."""
    if env.get("LMS_SECRET_KEY"):
        return env["LMS_SECRET_KEY"]
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


# One function on purpose: it is the table of settings, one entry per LMS_* variable
# read in one place, and split it would scatter the defaults across helpers.
def from_environment(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """Build the Flask config from LMS_* variables, creating the data dir if needed."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("LMS_DATA_DIR") or CHECKOUT_DIR / "var").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    base_url = (env.get("LMS_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"LMS_BASE_URL must be an http(s) origin, got {base_url!r}")
    https = parts.scheme == "https"
    trusted = [h.strip() for h in env.get("LMS_TRUSTED_HOSTS", "").split(",") if h.strip()]
    upload_mb = _int(env, "LMS_MAX_UPLOAD_MB", 25)
    package_mb = _int(env, "LMS_MAX_PACKAGE_MB", 500)
    return {
        "SECRET_KEY": _secret_key(env, data_dir),
        "LMS_DATA_DIR": str(data_dir),
        "LMS_DATABASE_URL": env.get("LMS_DATABASE_URL") or f"sqlite:///{data_dir / 'lms.sqlite3'}",
        "LMS_BASE_URL": base_url,
        "TRUSTED_HOSTS": trusted or None,
        "LMS_PROXY_COUNT": _int(env, "LMS_PROXY_COUNT", 0),
        # Uploads and packages: per-file limit, per-learner quota, package size.
        "LMS_MAX_UPLOAD_BYTES": upload_mb * MIB,
        "LMS_LEARNER_QUOTA_BYTES": _int(env, "LMS_LEARNER_QUOTA_MB", 200) * MIB,
        "LMS_MAX_PACKAGE_BYTES": package_mb * MIB,
        # Every route's body: the longest answers of a lesson fit (a 100,000-character
        # answer in a non-Latin script is about 900 KB form-encoded); routes that take
        # files allow more (lms.web.request_limits.accepts_files).
        "MAX_CONTENT_LENGTH": 8 * MIB,
        # A long reflection is far beyond Flask's 500 KB default for one form field.
        "MAX_FORM_MEMORY_SIZE": 4 * MIB,
        "MAX_FORM_PARTS": 1000,
        # Mail: SMTP when a host is given, otherwise an outbox folder in the data dir.
        "LMS_SMTP_HOST": env.get("LMS_SMTP_HOST", ""),
        "LMS_SMTP_PORT": _int(env, "LMS_SMTP_PORT", 587),
        "LMS_SMTP_USER": env.get("LMS_SMTP_USER", ""),
        "LMS_SMTP_PASSWORD": env.get("LMS_SMTP_PASSWORD", ""),
        "LMS_SMTP_STARTTLS": env.get("LMS_SMTP_STARTTLS", "1") != "0",
        "LMS_MAIL_FROM": env.get("LMS_MAIL_FROM") or f"lms@{parts.hostname}",
        # Cohorts: may facilitators create their own (admins always may)?
        "LMS_FACILITATORS_CREATE_COHORTS": env.get("LMS_FACILITATORS_CREATE_COHORTS", "0") == "1",
        # How many days an invitation's link works after it is sent (or sent again).
        "LMS_INVITATION_DAYS": _int(env, "LMS_INVITATION_DAYS", 30),
        # Accounts.
        "LMS_PASSWORD_RESET_MAX_AGE": _int(env, "LMS_PASSWORD_RESET_MAX_AGE", 3600),
        "LMS_LOGIN_FAILURES_PER_ACCOUNT": _int(env, "LMS_LOGIN_FAILURES_PER_ACCOUNT", 5),
        "LMS_LOGIN_FAILURES_PER_ADDRESS": _int(env, "LMS_LOGIN_FAILURES_PER_ADDRESS", 30),
        "LMS_LOGIN_WINDOW_SECONDS": _int(env, "LMS_LOGIN_WINDOW_SECONDS", 900),
        # Expensive actions, counted per window: registrations per address, exports of
        # one's work and module downloads per account.
        "LMS_REGISTRATIONS_PER_ADDRESS": _int(env, "LMS_REGISTRATIONS_PER_ADDRESS", 10),
        "LMS_EXPORTS_PER_ACCOUNT": _int(env, "LMS_EXPORTS_PER_ACCOUNT", 10),
        "LMS_DOWNLOADS_PER_ACCOUNT": _int(env, "LMS_DOWNLOADS_PER_ACCOUNT", 30),
        "LMS_ACTION_WINDOW_SECONDS": _int(env, "LMS_ACTION_WINDOW_SECONDS", 3600),
        # How long a request waits for another's lock before answering 503 (Retry-After).
        "LMS_DB_LOCK_TIMEOUT_MS": _int(env, "LMS_DB_LOCK_TIMEOUT_MS", DEFAULT_LOCK_TIMEOUT_MS),
        # Pages compressed by the app itself (0 leaves it to nginx or Caddy in front).
        "LMS_COMPRESS": env.get("LMS_COMPRESS", "1") != "0",
        # Where lms/static is built under content-hashed names, once per version of its
        # files; hidden in the data dir by default, so that backups leave it out.
        "LMS_STATIC_DIR": str(Path(env.get("LMS_STATIC_DIR") or data_dir / ".static").resolve()),
        # Cookies: HttpOnly and SameSite=Lax always, Secure when served over https.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "SESSION_COOKIE_NAME": "lms_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_NAME": "lms_remember",
        "PREFERRED_URL_SCHEME": parts.scheme,
        # The CSRF token lives as long as the session: a learner writing for hours keeps it.
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LMS_LANGUAGES": ["en"],
    }
