"""Cohorts: creating and editing them, members joining or being added, live sessions.

Functions take the session and the acting user, flush, and never commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from markupsafe import Markup
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from lms import audit
from lms.accounts.credentials import normalise_email
from lms.db import now_utc
from lms.html import render_markdown
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

MAX_EMAILS_PER_UPLOAD = 2000


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
    """Make the user a learner of the cohort; returns the membership and whether it is new."""
    membership = session.scalar(
        select(Membership).where(Membership.cohort_id == cohort.id, Membership.user_id == user.id)
    )
    if membership is not None:
        return membership, False
    membership = Membership(cohort_id=cohort.id, user_id=user.id, role=MembershipRole.LEARNER)
    session.add(membership)
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


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The unused invitation with this token to an open cohort, or None."""
    return session.scalar(
        select(Invitation)
        .join(Cohort, Cohort.id == Invitation.cohort_id)
        .where(
            Invitation.token == token,
            Invitation.accepted_at.is_(None),
            Cohort.archived_at.is_(None),
        )
    )


def accept_invitation(session: Session, user: User, invitation: Invitation) -> Cohort:
    """Join the invitation's cohort and use the invitation up."""
    cohort = session.get_one(Cohort, invitation.cohort_id)
    join(session, user, cohort)
    invitation.accepted_at = now_utc()
    session.flush()
    return cohort


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


# --- Adding members by email -------------------------------------------------


@dataclass
class EmailList:
    """Addresses read from pasted text or a CSV file, and the entries that were not."""

    emails: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def _check(entries: Iterable[str]) -> EmailList:
    result = EmailList()
    seen: set[str] = set()
    for raw in entries:
        entry = raw.strip().strip("<>").strip()
        if not entry:
            continue
        try:
            email = normalise_email(validate_email(entry, check_deliverability=False).normalized)
        except EmailNotValidError:
            result.invalid.append(entry)
            continue
        if email not in seen:
            seen.add(email)
            result.emails.append(email)
    return result


def parse_email_text(text: str) -> EmailList:
    """Addresses separated by newlines, commas, semicolons or spaces."""
    for separator in ",;\t ":
        text = text.replace(separator, "\n")
    return _check(text.splitlines())


def parse_email_csv(data: bytes) -> EmailList:
    """Addresses from a CSV file: the column headed email, or else the first column."""
    text = data.decode("utf-8-sig", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if not rows:
        return EmailList()
    header = [cell.strip().lower() for cell in rows[0]]
    column = 0
    for name in ("email", "e-mail", "email address"):
        if name in header:
            column = header.index(name)
            rows = rows[1:]
            break
    else:
        if "@" not in rows[0][0]:
            rows = rows[1:]  # a header row with another name for the column
    return _check(row[column] if column < len(row) else "" for row in rows)


@dataclass
class AddedMembers:
    """What adding a list of emails did: joined, already there, or invited."""

    added: list[User] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    invited: list[Invitation] = field(default_factory=list)


def add_members(
    session: Session, actor: User, cohort: Cohort, emails: Sequence[str]
) -> AddedMembers:
    """Add people with accounts as learners; invite the other emails once; audited.

    The caller sends the invitations' emails after the transaction commits.
    """
    result = AddedMembers()
    emails = list(dict.fromkeys(emails))
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    member_ids = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.cohort_id == cohort.id,
                Membership.user_id.in_([u.id for u in users.values()]),
            )
        )
    )
    pending = set(
        session.scalars(
            select(Invitation.email).where(
                Invitation.cohort_id == cohort.id, Invitation.email.in_(emails)
            )
        )
    )
    for email in emails:
        user = users.get(email)
        if user is not None and user.id in member_ids:
            result.already.append(email)
        elif user is not None:
            session.add(
                Membership(cohort_id=cohort.id, user_id=user.id, role=MembershipRole.LEARNER)
            )
            result.added.append(user)
        elif email in pending:
            result.already.append(email)
        else:
            invitation = Invitation(cohort_id=cohort.id, email=email, invited_by_id=actor.id)
            session.add(invitation)
            result.invited.append(invitation)
    session.flush()
    audit.record(
        session,
        actor,
        "cohort.members_added",
        cohort,
        added=len(result.added),
        invited=len(result.invited),
    )
    return result


def pending_invitations(cohort: Cohort) -> Select:
    """The cohort's unused invitations, newest first (for paging)."""
    return (
        select(Invitation)
        .where(Invitation.cohort_id == cohort.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.invited_at.desc(), Invitation.id.desc())
    )


def resend_invitation(session: Session, actor: User, invitation: Invitation) -> None:
    """Record that the invitation is sent again; the caller mails it after commit; audited."""
    audit.record(session, actor, "invitation.resent", invitation, email=invitation.email)
    session.flush()


def cancel_invitation(session: Session, actor: User, invitation: Invitation) -> None:
    """Withdraw an invitation so its link stops working; audited."""
    audit.record(
        session,
        actor,
        "invitation.cancelled",
        invitation,
        email=invitation.email,
        cohort_id=invitation.cohort_id,
    )
    session.delete(invitation)
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


def notes_html(sessions: Iterable[LiveSession]) -> dict[int, Markup]:
    """Each live session's notes as sanitised HTML, by session id."""
    return {
        live.id: Markup(render_markdown(live.notes))  # noqa: S704  (sanitised by lms.html)
        for live in sessions
        if live.notes
    }


def _apply(live: LiveSession, details: LiveSessionDetails) -> None:
    live.title = details.title
    live.starts_at = details.starts_at
    live.time_zone = details.time_zone
    live.duration_minutes = details.duration_minutes
    live.join_url = details.join_url
    live.notes = details.notes


def add_live_session(
    session: Session, actor: User, cohort: Cohort, details: LiveSessionDetails
) -> LiveSession:
    """Schedule a live session for the cohort; audited."""
    live = LiveSession(cohort_id=cohort.id)
    _apply(live, details)
    session.add(live)
    session.flush()
    audit.record(session, actor, "live_session.created", live, cohort_id=cohort.id)
    return live


def update_live_session(
    session: Session, actor: User, live: LiveSession, details: LiveSessionDetails
) -> None:
    """Change a live session (its uid stays, so calendars update the event); audited."""
    _apply(live, details)
    audit.record(session, actor, "live_session.updated", live, cohort_id=live.cohort_id)
    session.flush()


def delete_live_session(session: Session, actor: User, live: LiveSession) -> None:
    """Cancel a live session; audited."""
    audit.record(
        session, actor, "live_session.deleted", live, cohort_id=live.cohort_id, title=live.title
    )
    session.delete(live)
    session.flush()
