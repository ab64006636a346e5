"""The audit log: what admins and facilitators did, recorded in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from lms.models import AuditEvent, Base, User


def record(
    session: Session, actor: User | None, action: str, target: Base | None = None, **details: Any
) -> AuditEvent:
    """Add one event; it commits (or rolls back) with the action it describes."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None),
        details=details,
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class EventFilter:
    """What an admin narrows the log to; empty fields match everything."""

    action: str = ""  # exact ("user.role_changed") or a family ending in a dot ("cohort.")
    actor: str = ""  # part of the actor's email or name
    since: date | None = None  # first day included (UTC)
    until: date | None = None  # last day included (UTC)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def events(where: EventFilter) -> Select:
    """Events newest first, filtered; the actor is loaded with each event (one query a page)."""
    statement = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if where.action.endswith("."):
        statement = statement.where(AuditEvent.action.startswith(where.action, autoescape=True))
    elif where.action:
        statement = statement.where(AuditEvent.action == where.action)
    if where.actor:
        statement = statement.where(
            AuditEvent.actor_id.in_(select(User.id).where(User.matches(where.actor)))
        )
    if where.since:
        statement = statement.where(AuditEvent.created_at >= _start_of(where.since))
    if where.until:
        statement = statement.where(AuditEvent.created_at < _start_of(where.until + timedelta(1)))
    return statement
