"""Who may see what, as query predicates the domain and the web both use.

The rules: admins see every cohort; a facilitator sees the cohorts where they hold a
facilitator membership, and in them only the learners, reflections and files of those
cohorts' modules; a learner sees the cohorts they belong to, their own work and what
was shared with those cohorts. Anything else answers 404, never 403, so ids of other
people's objects tell nothing.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import contains_eager

from lms.models import (
    Cohort,
    CohortModule,
    Lesson,
    Membership,
    MembershipRole,
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
        # A fence (PostgreSQL keeps a subquery with OFFSET as it is): checked per reflection
        # by index as the inbox walks reflections newest first, not turned into a join over
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
