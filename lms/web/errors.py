"""Error pages: a plain answer for every failure, never a stack trace, nothing half-written."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from lms.storage import StorageFullError
from lms.web.request_limits import UnreadableBodyError, UnstorableTextError, minutes, use_of

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    try:
        return render_template("errors/error.html", title=title, message=message), status
    except Exception:
        # The page itself failed (the database is gone, the Host is refused): plain words.
        log.warning("error page could not be rendered", exc_info=True)
        return f"<!doctype html><title>{escape(title)}</title><p>{escape(message)}</p>", status


def _is_disk_full(error: BaseException) -> bool:
    """The database's disk (or its size limit) is full: SQLite's SQLITE_FULL, SQLSTATE 53100.

    SQLite rolls the whole transaction back on SQLITE_FULL, so inside a savepoint the
    error that arrives is the failed ROLLBACK TO; the full disk is in its context.
    """
    seen: BaseException | None = error
    while seen is not None:
        cause = getattr(seen, "orig", None) or seen
        if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        if getattr(cause, "sqlstate", None) == "53100":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _no_room(error: Exception):
    """507 in plain words: nothing was saved; this needs the site's team, not a retry now."""
    log.error("no room left to store data: %s", error)
    message = gettext(
        "The site has no room left to store this right now, so nothing was saved. "
        "Please try again later, and tell the site's team if it happens again."
    )
    return _answer(507, gettext("No room to store this"), message)


def unstorable_text_answer():
    """400 for text with U+0000 or a lone surrogate, saying what to do about it."""
    _rollback()
    return _answer(
        400,
        gettext("A character that cannot be stored"),
        gettext(
            "Nothing was saved: the text holds an invisible character (U+0000) that this "
            "site cannot store. It often comes with text pasted from another document. "
            "Delete the pasted part and paste it again as plain text, or type it."
        ),
    )


def too_many(wait_seconds: int, message: str):
    """429 with Retry-After, for an action done more often than its limit allows."""
    body, status = _answer(429, gettext("Please wait a little"), message)
    return body, status, {"Retry-After": str(wait_seconds)}


def over_limit(key: str, message: Callable[[int], str]):
    """Count one use of an expensive action: None within its limit, else its 429.

    ``message`` says, for a wait in whole minutes, why and how long to wait.
    """
    wait = use_of(key)
    if not wait:
        return None
    return too_many(wait, message(minutes(wait)))


def _answer(status: int, title: str, message: str):
    """The failure in plain words: JSON for the page's scripts, a page for people."""
    if wants_json():
        return jsonify(error=message), status
    return _page(status, title, message)


def wants_json() -> bool:
    """True when the request asks for JSON (the page's scripts), not a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _http_message(code: int) -> str | None:
    """Plain words for the HTTP errors people meet; None for the others."""
    messages = {
        400: gettext("The request could not be understood. Please go back and try again."),
        403: gettext("You do not have access to this page."),
        404: gettext("We could not find that page."),
        405: gettext("That action is not possible here."),
        413: gettext("That is larger than this site accepts."),
        429: gettext("Too many attempts. Please wait a little and try again."),
    }
    return messages.get(code)


def http_error(error: HTTPException):
    """An HTTP error (404, 405, 413…) in plain words, keeping its status and headers."""
    _rollback()
    if error.code is None or error.code < 400:
        return error
    message = _http_message(error.code) or error.description or ""
    response = error.get_response()
    if wants_json():
        response.set_data(jsonify(error=message).get_data())
        response.content_type = "application/json"
        return response
    body, status = _page(error.code, error.name, message)
    response.set_data(body)
    response.status_code = status
    response.content_type = "text/html; charset=utf-8"
    return response


def unstorable_text(_error: UnstorableTextError):
    """Text with U+0000 or a lone surrogate, anywhere in the request."""
    return unstorable_text_answer()


def unreadable_body(_error: UnreadableBodyError):
    """A JSON body that is not an object of plain values."""
    _rollback()
    return _answer(
        400,
        gettext("Bad Request"),
        gettext("The request could not be understood. Please go back and try again."),
    )


def csrf_error(_error: CSRFError):
    """A form whose CSRF token is missing or expired: nothing done, what was typed kept."""
    _rollback()
    return _answer(
        400,
        gettext("Your form expired"),
        gettext(
            "For your safety this form could not be sent. Go back, reload the page and "
            "send it again: what you typed is still in the page you came from."
        ),
    )


def database_unavailable(error: OperationalError):
    """The database is busy or gone (503, to retry), or its disk is full (507)."""
    _rollback()
    if _is_disk_full(error):
        return _no_room(error)
    log.warning("database unavailable: %s", error.orig)
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        message = gettext(
            "Not saved yet: the site is busy for a moment. What you typed stays on this "
            "device and is sent again in a few seconds."
        )
        return jsonify(error=message, retry_after=RETRY_AFTER_SECONDS), 503, retry
    body, status = _page(
        503,
        gettext("Busy for a moment"),
        gettext("The site is busy. Please try again in a few seconds."),
    )
    return body, status, retry


def storage_full(error: StorageFullError):
    """The data dir's disk is full: 507."""
    _rollback()
    return _no_room(error)


def unexpected(error: Exception):
    """Any other failure: logged, rolled back, 500 in plain words."""
    _rollback()
    log.exception("unhandled error")
    if wants_json():
        message = gettext(
            "Not saved: something went wrong on our side. What you typed stays on this "
            "device and is sent again shortly."
        )
        return jsonify(error=message), 500
    return _page(
        500,
        gettext("Something went wrong"),
        gettext("Something went wrong on our side. Nothing was saved. Please try again."),
    )


def init_app(app: Flask) -> None:
    """Register the handlers that turn failures into friendly pages."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(UnstorableTextError, unstorable_text)
    app.register_error_handler(UnreadableBodyError, unreadable_body)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(StorageFullError, storage_full)
    app.register_error_handler(Exception, unexpected)
