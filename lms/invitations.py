"""Invitations to a cohort by email: reading address lists, sending, answering, withdrawing.

Nobody becomes a member of a cohort, and so lets its facilitators read their reflections,
without saying yes: an address with an account is invited exactly as one without.
Only the account with the invited address may accept or decline, and only for
``LMS_INVITATION_DAYS`` after the invitation was sent (or sent again).

Functions take the session and the acting user, flush, and never commit.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from lms import audit
from lms.cohorts import join
from lms.db import now_utc
from lms.models import Cohort, Invitation, Membership, User
from lms.people.credentials import normalise_email

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


def parse_emails(text: str, csv_data: bytes | None = None) -> EmailList:
    """The addresses typed and those of a CSV file, each once, and what is not an address."""
    parsed = parse_email_text(text)
    if csv_data is not None:
        from_file = parse_email_csv(csv_data)
        parsed.emails.extend(e for e in from_file.emails if e not in parsed.emails)
        parsed.invalid.extend(from_file.invalid)
    return parsed


@dataclass
class Sent:
    """What inviting a list of addresses did: invitations to mail, and addresses left alone."""

    invitations: list[Invitation] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


def lifetime(config: Mapping[str, Any]) -> timedelta:
    """How long an invitation works after it is sent (or sent again)."""
    return timedelta(days=config["LMS_INVITATION_DAYS"])


def expires_at(invitation: Invitation, lifetime: timedelta) -> datetime:
    """When the invitation's link stops working, unless it is sent again."""
    return invitation.invited_at + lifetime


class Status(enum.StrEnum):
    """Where an invitation stands."""

    WAITING = "waiting"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


def status(invitation: Invitation, lifetime: timedelta, now: datetime | None = None) -> Status:
    """Answered (accepted or declined), expired, or waiting for an answer."""
    if invitation.accepted_at is not None:
        return Status.ACCEPTED
    if invitation.declined_at is not None:
        return Status.DECLINED
    if (now or now_utc()) >= expires_at(invitation, lifetime):
        return Status.EXPIRED
    return Status.WAITING


def _send_again(invitation: Invitation, actor: User) -> None:
    """Make the invitation new: unanswered, working for a full lifetime from now."""
    invitation.invited_at = now_utc()
    invitation.invited_by_id = actor.id
    invitation.accepted_at = invitation.declined_at = None


def invite(
    session: Session, actor: User, cohort: Cohort, emails: Sequence[str], lifetime: timedelta
) -> Sent:
    """Invite each address once, whether or not it has an account; audited.

    Members and addresses whose invitation still waits for an answer are left alone;
    an invitation that was declined, expired, or used by someone who has left since, is
    sent again. Nothing here depends on which addresses have accounts, so neither the
    answer nor the audit tells a facilitator. The caller mails the invitations after
    the transaction commits.
    """
    result = Sent()
    emails = list(dict.fromkeys(emails))
    members = set(
        session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort.id, User.email.in_(emails))
        )
    )
    invited = {
        invitation.email: invitation
        for invitation in session.scalars(
            select(Invitation).where(
                Invitation.cohort_id == cohort.id, Invitation.email.in_(emails)
            )
        )
    }
    now = now_utc()
    for email in emails:
        invitation = invited.get(email)
        waiting = invitation is not None and status(invitation, lifetime, now) == Status.WAITING
        if email in members or waiting:
            result.already.append(email)
            continue
        if invitation is None:
            invitation = Invitation(cohort_id=cohort.id, email=email)
            session.add(invitation)
        _send_again(invitation, actor)
        result.invitations.append(invitation)
    session.flush()
    audit.record(
        session,
        actor,
        "invitation.sent",
        cohort,
        sent=len(result.invitations),
        already=len(result.already),
    )
    return result


def of_cohort(cohort: Cohort) -> Select:
    """The cohort's invitations not accepted (waiting, expired or declined), newest first."""
    return (
        select(Invitation)
        .where(Invitation.cohort_id == cohort.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.invited_at.desc(), Invitation.id.desc())
    )


def resend(session: Session, actor: User, invitation: Invitation) -> None:
    """Make the invitation work again from now; the caller mails it after commit; audited."""
    _send_again(invitation, actor)
    audit.record(session, actor, "invitation.resent", invitation, email=invitation.email)
    session.flush()


def cancel(session: Session, actor: User, invitation: Invitation) -> None:
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


# --- The invited person's side --------------------------------------------------------


class Refusal(enum.StrEnum):
    """Why someone may not answer an invitation."""

    OTHER_ADDRESS = "other_address"
    CLOSED = "closed"
    ACCEPTED = Status.ACCEPTED.value
    DECLINED = Status.DECLINED.value
    EXPIRED = Status.EXPIRED.value


class InvitationRefusedError(ValueError):
    """The user may not answer this invitation; ``refusal`` says why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def find(session: Session, token: str) -> Invitation | None:
    """The invitation with this token, in any state, with its cohort; or None."""
    return session.scalar(
        select(Invitation)
        .join(Invitation.cohort)
        .where(Invitation.token == token)
        .options(contains_eager(Invitation.cohort))
    )


def refusal(invitation: Invitation, user: User, lifetime: timedelta) -> Refusal | None:
    """Why the user may not answer the invitation now, or None when they may.

    The address is checked first: someone else holding the link learns nothing about
    the invitation's state or its cohort.
    """
    if invitation.email != normalise_email(user.email):
        return Refusal.OTHER_ADDRESS
    state = status(invitation, lifetime)
    if state != Status.WAITING:
        return Refusal(state.value)
    if invitation.cohort.archived_at is not None:
        return Refusal.CLOSED
    return None


def _may_answer(invitation: Invitation, user: User, lifetime: timedelta) -> None:
    problem = refusal(invitation, user, lifetime)
    if problem is not None:
        raise InvitationRefusedError(problem)


def accept(session: Session, user: User, invitation: Invitation, lifetime: timedelta) -> Cohort:
    """Join the invitation's cohort as a learner and use the invitation up; audited."""
    _may_answer(invitation, user, lifetime)
    join(session, user, invitation.cohort)
    invitation.accepted_at = now_utc()
    audit.record(session, user, "invitation.accepted", invitation, cohort_id=invitation.cohort_id)
    session.flush()
    return invitation.cohort


def decline(session: Session, user: User, invitation: Invitation, lifetime: timedelta) -> None:
    """Say no: the link stops working and the facilitators see it declined; audited."""
    _may_answer(invitation, user, lifetime)
    invitation.declined_at = now_utc()
    audit.record(session, user, "invitation.declined", invitation, cohort_id=invitation.cohort_id)
    session.flush()


def waiting_for(user: User, lifetime: timedelta) -> Select:
    """The invitations waiting for the user's answer, newest first, with cohort and inviter."""
    return (
        select(Invitation)
        .join(Invitation.cohort)
        .where(
            Invitation.email == normalise_email(user.email),
            Invitation.accepted_at.is_(None),
            Invitation.declined_at.is_(None),
            Invitation.invited_at > now_utc() - lifetime,
            Cohort.archived_at.is_(None),
        )
        .options(
            contains_eager(Invitation.cohort).selectinload(Cohort.modules),
            joinedload(Invitation.invited_by),
        )
        .order_by(Invitation.invited_at.desc(), Invitation.id.desc())
    )
