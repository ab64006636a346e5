"""What a request may carry and how often: its body's size per route, its text, its rate.

Every route reads at most ``MAX_CONTENT_LENGTH`` (a few MB: the longest answers of a
lesson fit); a view that takes files says how much with ``@accepts_files``. A body
announced as larger is refused with 413 before any of it is read, so an anonymous
200 MB post to the sign-in page costs nothing.

Text is checked once for every form field, query value, path part and JSON body,
before any view or CSRF check reads it: U+0000 cannot be stored by PostgreSQL (SQLite
would keep it, and then the two would differ), and a lone surrogate cannot be encoded
at all. Both are refused with a 400 in plain words, on both databases alike. A JSON
body must be an object of plain values, as a form is.

Expensive actions (registering, exporting one's work, downloading a module) are counted
per address or account with ``use_of``, in the shared throttle table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, NotFound

from lms.people import throttle
from lms.web.database import get_session, writing

F = TypeVar("F", bound=Callable[..., Any])

FORM_ALLOWANCE_BYTES = 1024 * 1024  # the fields and multipart framing around the files
PLAIN_JSON_VALUES = (str, int, float, bool, type(None))


class UnstorableTextError(BadRequest):
    """Text with a character no database here can store (U+0000, a lone surrogate)."""


class UnreadableBodyError(BadRequest):
    """A JSON body that is not an object of plain values, as a form would send."""


def accepts_files(limit_setting: str) -> Callable[[F], F]:
    """Let a view's request body be as large as the named setting (bytes), plus its form."""

    def mark(view: F) -> F:
        view.body_limit_setting = limit_setting  # type: ignore[attr-defined]
        return view

    return mark


def _body_limit() -> int | None:
    view = current_app.view_functions.get(request.endpoint or "")
    setting = getattr(view, "body_limit_setting", None)
    if setting is None:
        return None
    return current_app.config[setting] + FORM_ALLOWANCE_BYTES


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _texts(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, str))


def _check_json() -> list[str]:
    data = request.get_json(silent=True)
    if data is None and request.get_data(cache=True):
        raise UnreadableBodyError("the body is not JSON")
    if data is None:
        return []
    if not isinstance(data, dict):
        raise UnreadableBodyError("a JSON body must be an object")
    for key, value in data.items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, PLAIN_JSON_VALUES) for item in items):
            raise UnreadableBodyError(f"{key!r} is not a plain value")
    return [*data.keys(), *_texts(data.values())]


def check_request() -> None:
    """Refuse what no view should read: too large a body, unstorable text, odd JSON."""
    limit = _body_limit()
    if limit is not None:
        request.max_content_length = limit
    if any(_unstorable(value) for value in _texts((request.view_args or {}).values())):
        raise NotFound()
    texts = [*request.args.keys(), *_texts(request.args.listvalues())]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.is_json:
            texts += _check_json()
        else:
            texts += [*request.form.keys(), *_texts(request.form.listvalues())]
    if any(_unstorable(text) for text in texts):
        raise UnstorableTextError("text holds U+0000 or a lone surrogate")


def use_of(key: str) -> int:
    """Count one use of an expensive action now; the seconds to wait when over its limit.

    Counted in a short write transaction of its own, so the work that follows (a zip
    streamed to a slow phone) holds no write lock.
    """
    session = get_session()
    with writing(session):
        return throttle.use(session, current_app.config, key)


def minutes(seconds: int) -> int:
    """A wait in whole minutes, at least one, for messages."""
    return max(1, math.ceil(seconds / 60))


def init_app(app: Flask) -> None:
    """Check every request first: before CSRF protection or any view reads its body."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
