"""Erasing an account: what goes with it, and the one row that records that it went."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from lms import audit
from lms.models import Invitation, Throttle, User
from lms.people.throttle import account_key
from lms.storage import Storage


def erase_account(session: Session, user: User, storage: Storage) -> Path:
    """Delete the account and everything that is the learner's; returns their files' folder.

    The database removes (ON DELETE CASCADE) their enrollments, progress, downloads,
    reflections with every revision and the feedback and replies on them, their file
    records, memberships and the replies they wrote; their sign-in throttling rows and
    the invitations sent to their email go too. Rows that others wrote keep existing
    without naming them (SET NULL). The audit log records that account number N was
    deleted, without name or email. Remove the returned folder after the commit.
    """
    # Kept for admins: that an account was deleted, and when; not whose it was.
    audit.record(session, None, "account.deleted", user)
    session.execute(delete(Throttle).where(Throttle.key == account_key(user.email)))
    session.execute(delete(Invitation).where(Invitation.email == user.email))
    session.execute(delete(User).where(User.id == user.id))
    session.flush()
    return storage.learner_folder(user.id)
