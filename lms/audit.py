"""The audit log: what admins and facilitators did, recorded in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

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
