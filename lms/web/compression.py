"""Responses compressed by the app itself (Flask-Compress), where no one can read a secret by it.

`lms serve` answers learners directly, often over slow metered connections, so pages,
exports and feeds go out compressed: brotli when the client accepts it, else gzip, as
they are when it asks for neither. Static files never come here: WhiteNoise serves them,
compressed once when they are built (lms/web/static_files.py).

BREACH: a compressed page's length tells something about what it holds, and pages hold
a CSRF token and reflect what their query strings say. A page that another site made
the browser request, with this site's cookies, could be measured request after request
with chosen query strings until the token is guessed. So a response is compressed only
when no other site can have caused the request: the browser says so
(``Sec-Fetch-Site: same-origin``, or ``none`` for an address typed or bookmarked), or
the request carries neither the session nor the remember cookie, so that its page holds
no one's secret. Cookies are SameSite=Lax, so the cross-site requests that do carry them
are top-level navigations, which browsers mark ``cross-site`` or ``same-site``.

Files (attachments, learner files, media, zips) go out as they are stored: never
recompressed (they are sent with ``direct_passthrough``, so that ranges and lengths
stay theirs). Streams stay streams: Flask-Compress (since 1.21) compresses a streamed
response chunk by chunk as it goes out, never holding it whole.

``LMS_COMPRESS=0`` leaves all of it to a proxy in front (README).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_compress import Compress

# HTML, CSS, JavaScript, JSON, SVG, CSV and calendars: text that shrinks by two thirds.
COMPRESSED_TYPES = (
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "text/csv",
    "text/calendar",
)

ENCODINGS = ("br", "gzip")

SETTINGS = {
    "COMPRESS_MIMETYPES": list(COMPRESSED_TYPES),
    # In this order when a client accepts both: at these levels brotli is a little smaller
    # and cheaper. No zstd or deflate: every browser that accepts them accepts these.
    "COMPRESS_ALGORITHM": list(ENCODINGS),
    # Streams too: gzip streams well (zlib's compressobj), whatever the library's
    # default list says, and a client that accepts only gzip gets the CSV compressed.
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
    "COMPRESS_STREAMS": True,
    # Cheap levels, since every page is compressed as it is served (a lesson page of
    # 20 KB, on this project's 2-core machine: brotli 4, 6.5 KB in 0.2 ms; brotli 5
    # is 5% smaller for 40% more time and 11 takes 20 ms; gzip 6, 6.6 KB in 0.27 ms,
    # where 9 takes a third longer for the same size).
    "COMPRESS_BR_LEVEL": 4,
    "COMPRESS_LEVEL": 6,
    # Smaller answers (an autosave's) gain a few hundred bytes at most: not worth the time.
    "COMPRESS_MIN_SIZE": 500,
}

# Requests no other site can have made: same-origin ones, and typed addresses or bookmarks.
SAFE_FETCH_SITES = frozenset({"same-origin", "none"})


def may_compress(response: Response) -> bool:
    """True for a response generated here in a type worth compressing (not a stored file)."""
    return response.mimetype in COMPRESSED_TYPES and not response.direct_passthrough


def no_other_site_can_read_it() -> bool:
    """True when compressing this request's response cannot help another site guess a secret."""
    if request.headers.get("Sec-Fetch-Site") in SAFE_FETCH_SITES:
        return True
    config = current_app.config
    cookies = request.cookies
    return config["SESSION_COOKIE_NAME"] not in cookies and (
        config["REMEMBER_COOKIE_NAME"] not in cookies
    )


def init_app(app: Flask) -> None:
    """Compress the app's responses where it is safe, unless LMS_COMPRESS=0.

    Called before any other hook is registered: after_request hooks run in reverse
    order, so this one sees the response last, when nothing will change it any more.
    """
    if not app.config["LMS_COMPRESS"]:
        return
    for name, value in SETTINGS.items():
        app.config.setdefault(name, value)
    # Flask-Compress's own hook would compress every response: ours decides, then calls it.
    app.config["COMPRESS_REGISTER"] = False
    compress = Compress(app)

    @app.after_request
    def compress_response(response: Response) -> Response:
        if not may_compress(response):
            return response
        # Said even when not compressed: another request for it may be.
        response.vary.add("Accept-Encoding")
        if not no_other_site_can_read_it():
            return response
        # Flask-Compress (1.25) takes an encoding refused with q=0 as accepted: Werkzeug's
        # reading of the header decides whether any is, Flask-Compress then which.
        if request.accept_encodings.best_match(ENCODINGS) is None:
            return response
        return compress.after_request(response)
