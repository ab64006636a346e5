"""Throttling, counted in the database so that every worker and host shares it.

Failed sign-ins are counted per account and per client address in a fixed window. An
account over its limit waits out the rest of the window, never longer, and a
password reset clears it: nobody can lock a person out for good by guessing.

Expensive actions are counted the same way, each use: registrations per address (an
address can try only so many emails to learn which have accounts), and per account
the exports of one's work and the downloads of a module (each builds a zip).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.db import now_utc, upsert
from lms.models import Throttle


def account_key(email: str) -> str:
    """The throttle key of an account, known or not (so limits reveal nothing)."""
    return f"account:{email.strip().lower()}"


def address_key(address: str | None) -> str:
    """The throttle key of a client address."""
    return f"address:{address or 'unknown'}"


def registration_key(address: str | None) -> str:
    """The throttle key of registrations from a client address."""
    return f"register:{address or 'unknown'}"


def export_key(user_id: int) -> str:
    """The throttle key of an account's exports of its work."""
    return f"export:{user_id}"


def download_key(user_id: int) -> str:
    """The throttle key of an account's module downloads."""
    return f"download:{user_id}"


# Each key's kind (the part before the colon): its limit's setting and its window's.
LIMITS = {
    "account": ("LMS_LOGIN_FAILURES_PER_ACCOUNT", "LMS_LOGIN_WINDOW_SECONDS"),
    "address": ("LMS_LOGIN_FAILURES_PER_ADDRESS", "LMS_LOGIN_WINDOW_SECONDS"),
    "register": ("LMS_REGISTRATIONS_PER_ADDRESS", "LMS_ACTION_WINDOW_SECONDS"),
    "export": ("LMS_EXPORTS_PER_ACCOUNT", "LMS_ACTION_WINDOW_SECONDS"),
    "download": ("LMS_DOWNLOADS_PER_ACCOUNT", "LMS_ACTION_WINDOW_SECONDS"),
}


def _limits(config: Mapping[str, Any], key: str) -> tuple[int, timedelta]:
    limit, window = LIMITS[key.split(":", 1)[0]]
    return config[limit], timedelta(seconds=config[window])


def _locked_row(session: Session, key: str, now: datetime) -> Throttle:
    """The key's row, created if missing and locked for this transaction."""
    session.execute(
        upsert(
            session, Throttle, {"key": key, "attempts": 0, "window_started_at": now}, key=["key"]
        )
    )
    # populate_existing: a copy read earlier in this session (by retry_after) may be
    # stale by now; counting on from it would lose another worker's failures.
    return session.scalars(
        select(Throttle)
        .where(Throttle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def retry_after(session: Session, keys: list[str], now: datetime | None = None) -> int:
    """Seconds until sign-in may be tried again for these keys; 0 when it may now."""
    now = now or now_utc()
    rows = session.scalars(select(Throttle).where(Throttle.key.in_(keys)))
    waits = [(row.blocked_until - now).total_seconds() for row in rows if row.blocked_until]
    return max(0, math.ceil(max(waits, default=0)))


def record_attempt(
    session: Session, config: Mapping[str, Any], keys: list[str], now: datetime | None = None
) -> None:
    """Count one attempt against every key; block a key that reaches its limit."""
    now = now or now_utc()
    for key in keys:
        limit, window = _limits(config, key)
        row = _locked_row(session, key, now)
        if now - row.window_started_at >= window:
            row.attempts, row.window_started_at, row.blocked_until = 0, now, None
        row.attempts += 1
        if row.attempts >= limit:
            row.blocked_until = row.window_started_at + window
    session.flush()


def use(session: Session, config: Mapping[str, Any], key: str, now: datetime | None = None) -> int:
    """Count one use of an expensive action; seconds to wait (nothing counted) when over.

    The use that reaches the limit is allowed; the next waits for the window's end.
    """
    wait = retry_after(session, [key], now)
    if not wait:
        record_attempt(session, config, [key], now)
    return wait


def clear(session: Session, keys: list[str]) -> None:
    """Forget the failures of these keys (after a successful sign-in or reset)."""
    for row in session.scalars(select(Throttle).where(Throttle.key.in_(keys))):
        session.delete(row)
    session.flush()
