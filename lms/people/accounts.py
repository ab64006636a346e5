"""Accounts as admins manage them: finding them, their role, whether they may sign in.

Every change is recorded in the audit log. No admin can take away their own admin
role or disable their own account, so the site is never left without one by mistake.
The functions take the session and the acting admin, flush, and never commit.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lms import audit
from lms.models import Role, User
from lms.people import credentials


class OwnAccountError(ValueError):
    """An admin cannot demote or disable themselves."""


def listing(search: str | None = None) -> Select:
    """Everyone by name, or those whose name or email contains the search."""
    statement = select(User).order_by(User.display_name, User.id)
    if search:
        statement = statement.where(User.matches(search))
    return statement


def set_role(session: Session, actor: User, user: User, role: Role) -> bool:
    """Give the account this role; False when it had it already. Audited.

    Raises OwnAccountError when an admin would leave the admin role themselves.
    """
    if user.id == actor.id and role != Role.ADMIN:
        raise OwnAccountError(user.id)
    if role == user.role:
        return False
    audit.record(session, actor, "user.role_changed", user, old=user.role.value, new=role.value)
    user.role = role
    session.flush()
    return True


def disable(session: Session, actor: User, user: User) -> None:
    """Disable the account and end its sessions (credentials.disable); audited.

    Raises OwnAccountError for the admin's own account.
    """
    if user.id == actor.id:
        raise OwnAccountError(user.id)
    credentials.disable(session, user)
    audit.record(session, actor, "user.disabled", user)
    session.flush()


def enable(session: Session, actor: User, user: User) -> None:
    """Let a disabled account sign in again; audited."""
    credentials.enable(user)
    audit.record(session, actor, "user.enabled", user)
    session.flush()
