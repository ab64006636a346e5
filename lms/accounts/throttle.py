"""Sign-in throttling, counted in the database so that every worker and host shares it.

Failures are counted per account and per client address in a fixed window. An
account over its limit waits out the rest of the window, never longer, and a
password reset clears it: nobody can lock a person out for good by guessing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lms.db import now_utc
from lms.models import Throttle


def account_key(email: str) -> str:
    """The throttle key of an account, known or not (so limits reveal nothing)."""
    return f"account:{email.strip().lower()}"


def address_key(address: str | None) -> str:
    """The throttle key of a client address."""
    return f"address:{address or 'unknown'}"


def _limits(config: Mapping[str, Any], key: str) -> tuple[int, timedelta]:
    window = timedelta(seconds=config["LMS_LOGIN_WINDOW_SECONDS"])
    if key.startswith("account:"):
        return config["LMS_LOGIN_FAILURES_PER_ACCOUNT"], window
    return config["LMS_LOGIN_FAILURES_PER_ADDRESS"], window


def _locked_row(session: Session, key: str, now: datetime) -> Throttle:
    """The key's row, created if missing and locked for this transaction."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Throttle)
        .values(key=key, attempts=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
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


def record_failure(
    session: Session, config: Mapping[str, Any], keys: list[str], now: datetime | None = None
) -> None:
    """Count one failed sign-in against every key; block a key that reaches its limit."""
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


def clear(session: Session, keys: list[str]) -> None:
    """Forget the failures of these keys (after a successful sign-in or reset)."""
    for row in session.scalars(select(Throttle).where(Throttle.key.in_(keys))):
        session.delete(row)
    session.flush()
