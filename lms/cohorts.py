"""Cohorts: creating and editing them, members joining and leaving, live sessions.

Functions take the session and the acting user, flush, and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session, contains_eager

from lms import audit
from lms.db import now_utc
from lms.models import (
    Cohort,
    Invitation,
    LiveSession,
    Membership,
    MembershipRole,
    Module,
    Role,
    User,
    new_token,
)
from lms.people.credentials import normalise_email
from lms.visibility import member_cohort_ids


@dataclass
class CohortDetails:
    """What an admin types about a cohort."""

    name: str
    description: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    module_ids: Sequence[int] = ()
    facilitator_ids: Sequence[int] = ()
    closed: bool = False


def _set_modules(session: Session, cohort: Cohort, module_ids: Sequence[int]) -> None:
    modules = session.scalars(select(Module).where(Module.id.in_(set(module_ids)))).all()
    cohort.modules = list(modules)


def _set_facilitators(session: Session, cohort: Cohort, user_ids: Sequence[int]) -> None:
    """Make exactly these staff the cohort's facilitators; learners stay learners."""
    wanted = set(
        session.scalars(
            select(User.id).where(
                User.id.in_(set(user_ids)), User.role.in_([Role.FACILITATOR, Role.ADMIN])
            )
        )
    )
    current = {
        m.user_id: m
        for m in session.scalars(select(Membership).where(Membership.cohort_id == cohort.id))
    }
    for user_id, membership in current.items():
        if membership.role == MembershipRole.FACILITATOR and user_id not in wanted:
            session.delete(membership)
    for user_id in wanted:
        membership = current.get(user_id)
        if membership is None:
            session.add(
                Membership(cohort_id=cohort.id, user_id=user_id, role=MembershipRole.FACILITATOR)
            )
        else:
            membership.role = MembershipRole.FACILITATOR


def create_cohort(session: Session, actor: User, details: CohortDetails) -> Cohort:
    """Add a cohort with its modules and facilitators; audited."""
    cohort = Cohort(
        name=details.name,
        description=details.description,
        starts_on=details.starts_on,
        ends_on=details.ends_on,
        created_by_id=actor.id,
    )
    session.add(cohort)
    session.flush()
    _set_modules(session, cohort, details.module_ids)
    _set_facilitators(session, cohort, details.facilitator_ids)
    audit.record(session, actor, "cohort.created", cohort, name=cohort.name)
    session.flush()
    return cohort


def update_cohort(session: Session, actor: User, cohort: Cohort, details: CohortDetails) -> None:
    """Change a cohort's name, dates, modules and facilitators; audited."""
    cohort.name = details.name
    cohort.description = details.description
    cohort.starts_on = details.starts_on
    cohort.ends_on = details.ends_on
    if details.closed != (cohort.archived_at is not None):
        cohort.archived_at = now_utc() if details.closed else None
    _set_modules(session, cohort, details.module_ids)
    _set_facilitators(session, cohort, details.facilitator_ids)
    audit.record(session, actor, "cohort.updated", cohort, name=cohort.name, closed=details.closed)
    session.flush()


def create_own_cohort(session: Session, facilitator: User, details: CohortDetails) -> Cohort:
    """A facilitator starts a cohort of their own: they facilitate it, whoever else does."""
    if facilitator.id not in details.facilitator_ids:
        details = replace(details, facilitator_ids=[*details.facilitator_ids, facilitator.id])
    return create_cohort(session, facilitator, details)


def teachable_modules(session: Session) -> list[Module]:
    """Every module a cohort may take, by title."""
    return list(session.scalars(select(Module).order_by(Module.title, Module.id)))


def possible_facilitators(session: Session) -> list[User]:
    """Everyone who may facilitate a cohort: facilitators and admins not disabled, by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.role.in_([Role.FACILITATOR, Role.ADMIN]), User.disabled_at.is_(None))
            .order_by(User.display_name, User.id)
        )
    )


def every_cohort() -> Select:
    """Every cohort of the site, by name (the admin's list)."""
    return select(Cohort).order_by(Cohort.name, Cohort.id)


def member_cohorts(user: User) -> Select:
    """The cohorts the user belongs to in any role, by name."""
    return (
        select(Cohort)
        .where(Cohort.id.in_(member_cohort_ids(user)))
        .order_by(Cohort.name, Cohort.id)
    )


def members(cohort: Cohort) -> Select:
    """The cohort's memberships with their people, facilitators first, then by name."""
    return (
        select(Membership)
        .join(Membership.user)
        .options(contains_eager(Membership.user))
        .where(Membership.cohort_id == cohort.id)
        .order_by(Membership.role.desc(), User.display_name, User.id)
    )


def calendar_token(session: Session, user: User, cohort: Cohort) -> str | None:
    """The secret of the user's calendar feed of the cohort; None unless a member."""
    return session.scalar(
        select(Membership.calendar_token).where(
            Membership.cohort_id == cohort.id, Membership.user_id == user.id
        )
    )


def facilitator_ids(session: Session, cohort: Cohort) -> list[int]:
    """The user ids of the cohort's facilitators."""
    return list(
        session.scalars(
            select(Membership.user_id).where(
                Membership.cohort_id == cohort.id, Membership.role == MembershipRole.FACILITATOR
            )
        )
    )


def join(session: Session, user: User, cohort: Cohort) -> tuple[Membership, bool]:
    """Make the user a learner of the cohort; returns the membership and whether it is new.

    An invitation to the cohort for the user's address is used up: they are in.
    """
    membership = session.scalar(
        select(Membership).where(Membership.cohort_id == cohort.id, Membership.user_id == user.id)
    )
    if membership is not None:
        return membership, False
    membership = Membership(cohort_id=cohort.id, user_id=user.id, role=MembershipRole.LEARNER)
    session.add(membership)
    session.execute(
        update(Invitation)
        .where(
            Invitation.cohort_id == cohort.id,
            Invitation.email == normalise_email(user.email),
            Invitation.accepted_at.is_(None),
        )
        .values(accepted_at=now_utc())
    )
    session.flush()
    return membership, True


def find_by_code(session: Session, code: str) -> Cohort | None:
    """The open (not archived) cohort with this join code, or None."""
    code = code.strip()
    if not code:
        return None
    return session.scalar(
        select(Cohort).where(Cohort.join_code == code, Cohort.archived_at.is_(None))
    )


def new_join_code(session: Session, actor: User, cohort: Cohort) -> None:
    """Replace the join code, so the old one stops working; audited."""
    cohort.join_code = new_token()
    audit.record(session, actor, "cohort.join_code_changed", cohort)
    session.flush()


def new_calendar_link(session: Session, user: User, membership: Membership) -> None:
    """Replace the member's calendar token, so the old feed URL stops working; audited."""
    membership.calendar_token = new_token()
    audit.record(session, user, "calendar_link.reset", membership.cohort)
    session.flush()


def remove_member(session: Session, actor: User, cohort: Cohort, learner: User) -> None:
    """Take a learner out of a cohort; their work stays theirs; audited."""
    session.execute(
        delete(Membership).where(
            Membership.cohort_id == cohort.id,
            Membership.user_id == learner.id,
            Membership.role == MembershipRole.LEARNER,
        )
    )
    audit.record(session, actor, "cohort.member_removed", cohort, user_id=learner.id)
    session.flush()


# --- Live sessions -----------------------------------------------------------


@dataclass
class LiveSessionDetails:
    """What a facilitator types about a live session; starts_at is aware UTC."""

    title: str
    starts_at: datetime
    time_zone: str
    duration_minutes: int
    join_url: str = ""
    notes: str = ""


def _apply(live_session: LiveSession, details: LiveSessionDetails) -> None:
    live_session.title = details.title
    live_session.starts_at = details.starts_at
    live_session.time_zone = details.time_zone
    live_session.duration_minutes = details.duration_minutes
    live_session.join_url = details.join_url
    live_session.notes = details.notes


def add_live_session(
    session: Session, actor: User, cohort: Cohort, details: LiveSessionDetails
) -> LiveSession:
    """Schedule a live session for the cohort; audited."""
    live_session = LiveSession(cohort_id=cohort.id)
    _apply(live_session, details)
    session.add(live_session)
    session.flush()
    audit.record(session, actor, "live_session.created", live_session, cohort_id=cohort.id)
    return live_session


def update_live_session(
    session: Session, actor: User, live_session: LiveSession, details: LiveSessionDetails
) -> None:
    """Change a live session (its uid stays, so calendars update the event); audited."""
    _apply(live_session, details)
    audit.record(
        session, actor, "live_session.updated", live_session, cohort_id=live_session.cohort_id
    )
    session.flush()


def delete_live_session(session: Session, actor: User, live_session: LiveSession) -> None:
    """Cancel a live session; audited."""
    audit.record(
        session,
        actor,
        "live_session.deleted",
        live_session,
        cohort_id=live_session.cohort_id,
        title=live_session.title,
    )
    session.delete(live_session)
    session.flush()
