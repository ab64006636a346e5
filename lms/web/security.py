"""Response headers, the proxy boundary and local-only redirects."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from flask import Flask, Response, current_app, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: Flask-WTF's https referer check would then refuse every form.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


# Sent when a person signs out or deletes their account: the browser forgets what the
# site stored in it (local storage holds copies of reflections not saved yet, keyed by
# account) and the pages it cached (Back would show their words to the next person).
# Not "cookies": the session ends by itself, and the message saying so rides in it.
FORGET_THIS_BROWSER = {"Clear-Site-Data": '"cache", "storage"'}


def _readings(target: str) -> list[str]:
    """The target and each decoding of it that a proxy or a browser might make."""
    readings = [target]
    while len(readings) < 4 and unquote(readings[-1]) != readings[-1]:
        readings.append(unquote(readings[-1]))
    return readings


def is_local_path(target: str | None) -> bool:
    """True for a path on this site; false for anything a browser could take elsewhere."""
    if not target:
        return False
    for reading in _readings(target):
        # Browsers drop tabs and newlines from URLs and read backslashes as slashes, and a
        # newline in a header is an error: refuse these outright rather than guess how a
        # browser normalises them (the path is sent back as given, so it must be plain).
        if "\\" in reading or any(ord(ch) < 32 or ord(ch) == 127 for ch in reading):
            return False
        if not reading.startswith("/") or reading.startswith("//"):
            return False
    return True


def safe_next(target: str | None, default: str) -> str:
    """The target if it is a local path, otherwise the default."""
    return target if target is not None and is_local_path(target) else default


def is_page(target: str | None) -> bool:
    """True for a local path that a GET opens: a page, never the URL of an action (a POST)."""
    if target is None or not is_local_path(target):
        return False
    path = unquote(urlsplit(target).path)
    root = request.script_root
    if root:
        if not path.startswith(root + "/"):
            return False
        path = path[len(root) :]
    try:
        current_app.create_url_adapter(request).match(path, method="GET")
    except RequestRedirect:
        return True  # the same page with a trailing slash
    except HTTPException:
        return False
    return True


def sign_in_target(target: str | None, default: str) -> str:
    """Where sign-in goes: the target if it is a page of this site, otherwise the default."""
    return target if is_page(target) else default


def page_of_this_form() -> str | None:
    """The page a POST was sent from (its Referer on this site), if that is a page."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    target = urlunsplit(("", "", parts.path, parts.query, ""))
    return target if is_page(target) else None


def init_app(app: Flask) -> None:
    """Trust the configured number of proxies and add the security headers to every response."""
    if app.config["LMS_PROXY_COUNT"]:
        count = app.config["LMS_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if "_user_id" in session and "Cache-Control" not in response.headers:
            # What a signed-in person is shown is theirs: no browser or proxy cache may
            # keep it for the next person at a shared computer (Back after sign-out).
            response.headers["Cache-Control"] = "no-store"
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
