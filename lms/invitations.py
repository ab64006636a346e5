"""Invitations to a cohort by email: reading address lists, sending, accepting, withdrawing.

Functions take the session and the acting user, flush, and never commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lms import audit
from lms.accounts.credentials import normalise_email
from lms.cohorts import join
from lms.db import now_utc
from lms.models import Cohort, Invitation, Membership, MembershipRole, User

MAX_EMAILS_PER_UPLOAD = 2000


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
