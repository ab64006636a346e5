"""One database session per request or command, and how a request that reads first writes.

A safe request (GET, HEAD, OPTIONS) gets a read session; any other a write session,
whose transactions begin IMMEDIATE on SQLite (lms/db.py says why), unless its view is
marked ``reads_first``. A request that reads, then writes (a view marked
``reads_first``, a GET that records something) writes in a ``with writing(session):``
block: one short write transaction, committed as the block ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from lms.db import Database

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Attach the database to the app and close each request's session at teardown."""
    app.extensions["lms.db"] = Database(
        app.config["LMS_DATABASE_URL"], app.config["LMS_DB_LOCK_TIMEOUT_MS"]
    )

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def database(app: Flask | None = None) -> Database:
    """The Database of the given or current app."""
    return (app or current_app).extensions["lms.db"]


def get_session() -> Session:
    """This request's (or command's) session; state-changing requests write."""
    if "db_session" not in g:
        reads = has_request_context() and (request.method in SAFE_METHODS or _reads_first())
        g.db_session = database().new_session(write=not reads)
    return g.db_session


def reads_first(view: F) -> F:
    """Mark a state-changing view that reads, then writes in a ``writing`` block.

    Its request's session starts as a read one, so the signed-in user, the objects and
    the form are loaded without SQLite's one write lock, which is then held only for the
    writes. What was read may be stale by then: the writes must check it (a conditional
    UPDATE, a unique index), as a reflection's save does.
    """
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def _reads_first() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "reads_first", False)


def writing(session: Session):
    """Write in one short transaction after reading (``lms.db.Database.writing``)."""
    return database().writing(session)
