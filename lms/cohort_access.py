"""Who may see which cohort, and load-or-404 helpers for the cohort ids in URLs.

The rules: admins see every cohort; a facilitator sees the cohorts where they hold a
facilitator membership, and in them only the learners, answers and files of those
cohorts' modules; a learner sees the cohorts they belong to, their own work and what
was shared with those cohorts. Anything else answers 404, never 403, so ids of other
people's objects tell nothing.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session, contains_eager

from lms.models import (
    Cohort,
    CohortModule,
    Invitation,
    Lesson,
    LiveSession,
    Membership,
    MembershipRole,
    Module,
    PeerReply,
    Prompt,
    Reflection,
    Role,
    User,
)


def is_admin(user: User) -> bool:
    """True for admins, who see every cohort."""
    return user.role == Role.ADMIN


def staff_cohort_ids(user: User) -> Select | None:
    """The ids of the cohorts the user facilitates, as a subquery; None means all (admin)."""
    if is_admin(user):
        return None
    return select(Membership.cohort_id).where(
        Membership.user_id == user.id, Membership.role == MembershipRole.FACILITATOR
    )


def member_cohort_ids(user: User) -> Select:
    """The ids of the cohorts the user belongs to, in any role, as a subquery."""
    return select(Membership.cohort_id).where(Membership.user_id == user.id)


def staff_cohorts(user: User) -> Select:
    """The cohorts the user may run, by name: all for admins, their own for facilitators."""
    statement = select(Cohort).order_by(Cohort.name, Cohort.id)
    ids = staff_cohort_ids(user)
    return statement if ids is None else statement.where(Cohort.id.in_(ids))


def visible_reflection(user: User, cohort_id: int | None = None):
    """A WHERE clause: the reflection was submitted (at least once) and the user may review it.

    Expects Lesson to be joined to the statement.
    """
    return and_(Reflection.submitted_at.is_not(None), by_staff_cohort_learner(user, cohort_id))


def by_staff_cohort_learner(user: User, cohort_id: int | None = None):
    """A WHERE clause: the reflection is by a learner of one of the user's cohorts.

    Of ``cohort_id`` when given, and on a module that cohort works through. Expects
    Lesson to be joined to the statement.
    """
    learner = Membership.__table__.alias("learner_membership")
    conditions = [
        learner.c.user_id == Reflection.user_id,
        learner.c.role == MembershipRole.LEARNER.value,
        CohortModule.module_id == Lesson.module_id,
    ]
    ids = staff_cohort_ids(user)
    if ids is not None:
        conditions.append(learner.c.cohort_id.in_(ids))
    if cohort_id is not None:
        conditions.append(learner.c.cohort_id == cohort_id)
    in_a_cohort = (
        select(learner.c.id)
        .select_from(learner)
        .join(CohortModule.__table__, CohortModule.cohort_id == learner.c.cohort_id)
        .where(*conditions)
        .correlate(Reflection, Lesson)
        # A fence (PostgreSQL keeps a subquery with OFFSET as it is): checked per answer
        # by index as the inbox walks answers newest first, not turned into a join over
        # every learner of the cohort that it then filters row by row.
        .offset(0)
    )
    return in_a_cohort.exists()


def _by_cohort_learner(cohort_id: int):
    """The reflection is by a learner of the cohort, on a module the cohort works through."""
    author = Membership.__table__.alias("author_membership")
    return (
        select(author.c.id)
        .select_from(author)
        .join(CohortModule.__table__, CohortModule.cohort_id == author.c.cohort_id)
        .where(
            author.c.cohort_id == cohort_id,
            author.c.user_id == Reflection.user_id,
            author.c.role == MembershipRole.LEARNER.value,
            CohortModule.module_id == Lesson.module_id,
        )
        .correlate(Reflection, Lesson)
        .exists()
    )


def in_gallery(cohort_id: int):
    """A WHERE clause: the reflection is shown in the cohort's gallery.

    Shared and not hidden, by a learner of the cohort, on a module the cohort works
    through. Expects Lesson to be joined to the statement.
    """
    return and_(
        Reflection.submitted_at.is_not(None),
        Reflection.shared_at.is_not(None),
        Reflection.hidden_at.is_(None),
        _by_cohort_learner(cohort_id),
    )


def hidden_from_gallery(cohort_id: int):
    """A WHERE clause: a moderator hid the reflection, which the cohort's gallery would show."""
    return and_(
        Reflection.submitted_at.is_not(None),
        Reflection.hidden_at.is_not(None),
        _by_cohort_learner(cohort_id),
    )


def reflections_with_context() -> Select:
    """Reflections joined to their learner, prompt, lesson and module, loaded in one query."""
    return (
        select(Reflection)
        .join(Reflection.user)
        .join(Reflection.prompt)
        .join(Prompt.lesson)
        .join(Lesson.module)
        .options(
            contains_eager(Reflection.user),
            contains_eager(Reflection.prompt)
            .contains_eager(Prompt.lesson)
            .contains_eager(Lesson.module),
        )
    )


def _or_404(value):
    if value is None:
        abort(404)
    return value


def load_staff_cohort(session: Session, user: User, cohort_id: int) -> Cohort:
    """The cohort if the user facilitates it (or is an admin), else 404."""
    return _or_404(session.scalar(staff_cohorts(user).where(Cohort.id == cohort_id)))


def load_member_cohort(session: Session, user: User, cohort_id: int) -> Cohort:
    """The cohort if the user belongs to it in any role (or is an admin), else 404."""
    statement = select(Cohort).where(Cohort.id == cohort_id)
    if not is_admin(user):
        statement = statement.where(Cohort.id.in_(member_cohort_ids(user)))
    return _or_404(session.scalar(statement))


def load_own_membership(session: Session, user: User, cohort_id: int) -> Membership:
    """The user's own membership of the cohort, with the cohort, else 404 (admins too)."""
    return _or_404(
        session.scalar(
            select(Membership)
            .join(Membership.cohort)
            .where(Membership.cohort_id == cohort_id, Membership.user_id == user.id)
            .options(contains_eager(Membership.cohort))
        )
    )


def load_feed_membership(session: Session, cohort_id: int, token: str) -> Membership:
    """The membership whose calendar token this is, of an active account, else 404.

    The token is the whole credential of a feed URL (calendar apps cannot sign in);
    the cohort in the URL must be the membership's own.
    """
    return _or_404(
        session.scalar(
            select(Membership)
            .join(Membership.user)
            .join(Membership.cohort)
            .where(
                Membership.calendar_token == token,
                Membership.cohort_id == cohort_id,
                User.disabled_at.is_(None),
            )
            .options(contains_eager(Membership.cohort))
        )
    )


def load_live_session(session: Session, cohort: Cohort, live_session_id: int) -> LiveSession:
    """A live session of a cohort the caller has already loaded with a check, else 404."""
    return _or_404(
        session.scalar(
            select(LiveSession).where(
                LiveSession.id == live_session_id, LiveSession.cohort_id == cohort.id
            )
        )
    )


def load_staff_reflection(session: Session, user: User, reflection_id: int) -> Reflection:
    """A submitted reflection of a learner in one of the user's cohorts, else 404."""
    statement = reflections_with_context().where(
        Reflection.id == reflection_id, visible_reflection(user)
    )
    return _or_404(session.scalar(statement))


def load_staff_learner(session: Session, user: User, cohort: Cohort, learner_id: int) -> User:
    """A learner of a cohort ``user`` runs, loaded with load_staff_cohort first, else 404."""
    return _or_404(
        session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.id == learner_id,
                Membership.cohort_id == cohort.id,
                Membership.role == MembershipRole.LEARNER,
            )
        )
    )


def module_of_cohort(session: Session, cohort: Cohort, module_id: int) -> Module:
    """A module the (already checked) cohort works through, else 404."""
    return _or_404(
        session.scalar(
            select(Module)
            .join(CohortModule, CohortModule.module_id == Module.id)
            .where(CohortModule.cohort_id == cohort.id, Module.id == module_id)
        )
    )


def load_own_reflection(session: Session, user: User, reflection_id: int) -> Reflection:
    """The user's own reflection, submitted at least once, else 404."""
    return _or_404(
        session.scalar(
            select(Reflection).where(
                Reflection.id == reflection_id,
                Reflection.user_id == user.id,
                Reflection.submitted_at.is_not(None),
            )
        )
    )


def load_gallery_reflection(session: Session, cohort: Cohort, reflection_id: int) -> Reflection:
    """An answer shown in the (already checked) cohort's gallery, else 404."""
    from_gallery = select(Reflection).join(Reflection.prompt).join(Prompt.lesson)
    return _or_404(
        session.scalar(from_gallery.where(Reflection.id == reflection_id, in_gallery(cohort.id)))
    )


def load_invitation(session: Session, cohort: Cohort, invitation_id: int) -> Invitation:
    """An invitation not accepted yet, of a cohort the caller has loaded with a check, else 404."""
    return _or_404(
        session.scalar(
            select(Invitation).where(
                Invitation.id == invitation_id,
                Invitation.cohort_id == cohort.id,
                Invitation.accepted_at.is_(None),
            )
        )
    )


def load_hidden_reflection(session: Session, cohort: Cohort, reflection_id: int) -> Reflection:
    """A hidden answer of the (already checked) cohort's gallery, else 404."""
    statement = select(Reflection).join(Reflection.prompt).join(Prompt.lesson)
    return _or_404(
        session.scalar(
            statement.where(Reflection.id == reflection_id, hidden_from_gallery(cohort.id))
        )
    )


def load_peer_reply(session: Session, cohort: Cohort, reply_id: int) -> PeerReply:
    """A reply written in a cohort the caller has already loaded with a check, else 404."""
    return _or_404(
        session.scalar(
            select(PeerReply).where(PeerReply.id == reply_id, PeerReply.cohort_id == cohort.id)
        )
    )
