"""The facilitator's reflections inbox: finding submitted reflections, feedback, review states.

Functions take the session and the acting user, flush, and never commit. Access is the
caller's: the statements here are built on lms.visibility's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from lms import audit
from lms.db import now_utc
from lms.html import render_markdown
from lms.models import (
    CohortModule,
    Feedback,
    LearnerFile,
    Lesson,
    LessonProgress,
    Module,
    ProgressStatus,
    Prompt,
    Reflection,
    ReflectionRevision,
    ReviewState,
    User,
)
from lms.visibility import reflections_with_context, staff_cohort_ids, visible_reflection


@dataclass(frozen=True)
class InboxFilter:
    """What the facilitator narrowed the inbox to; None means any."""

    cohort_id: int | None = None
    module_id: int | None = None
    lesson_id: int | None = None
    prompt_id: int | None = None
    learner: str | None = None
    state: ReviewState | None = None


def inbox(user: User, filters: InboxFilter) -> Select:
    """Submitted reflections the user may review, newest first, with their context loaded.

    One statement whatever the number of rows: learner, prompt, lesson and module come
    in the same query.
    """
    statement = reflections_with_context().where(visible_reflection(user, filters.cohort_id))
    if filters.module_id is not None:
        statement = statement.where(Lesson.module_id == filters.module_id)
    if filters.lesson_id is not None:
        statement = statement.where(Prompt.lesson_id == filters.lesson_id)
    if filters.prompt_id is not None:
        statement = statement.where(Reflection.prompt_id == filters.prompt_id)
    if filters.state is not None:
        statement = statement.where(Reflection.review_state == filters.state)
    if filters.learner:
        like = f"%{filters.learner.lower()}%"
        statement = statement.where(
            or_(func.lower(User.display_name).like(like), User.email.like(like))
        )
    return statement.order_by(Reflection.submitted_at.desc(), Reflection.id.desc())


def taught_modules(session: Session, user: User) -> list[Module]:
    """The modules of the cohorts the user may review (every cohort's, for an admin)."""
    taught = select(CohortModule.module_id)
    cohort_ids = staff_cohort_ids(user)
    if cohort_ids is not None:
        taught = taught.where(CohortModule.cohort_id.in_(cohort_ids))
    # IN, not DISTINCT: PostgreSQL cannot compare the JSON columns of a module row.
    modules = select(Module).where(Module.id.in_(taught)).order_by(Module.title, Module.id)
    return list(session.scalars(modules))


def lessons_of(session: Session, module_id: int) -> list[Lesson]:
    """The module's lessons in order (archived ones too: their reflections stay in the inbox)."""
    return list(
        session.scalars(
            select(Lesson).where(Lesson.module_id == module_id).order_by(Lesson.position)
        )
    )


def prompts_of(session: Session, module_id: int, lesson_id: int) -> list[Prompt]:
    """The lesson's prompts in order, if the lesson is the module's."""
    return list(
        session.scalars(
            select(Prompt)
            .join(Prompt.lesson)
            .where(Prompt.lesson_id == lesson_id, Lesson.module_id == module_id)
            .order_by(Prompt.position)
        )
    )


def revisions(reflection: Reflection) -> Select:
    """The reflection's submitted revisions, newest first (for paging): drafts are private."""
    return (
        select(ReflectionRevision)
        .where(
            ReflectionRevision.reflection_id == reflection.id,
            ReflectionRevision.submitted.is_(True),
        )
        .order_by(ReflectionRevision.number.desc())
    )


def feedback_of(session: Session, reflection: Reflection) -> list[Feedback]:
    """The feedback given on the reflection, oldest first, with authors."""
    return list(
        session.scalars(
            select(Feedback)
            .options(joinedload(Feedback.author))
            .where(Feedback.reflection_id == reflection.id)
            .order_by(Feedback.created_at, Feedback.id)
        )
    )


def files_of(session: Session, reflection: Reflection) -> list[LearnerFile]:
    """The learner files attached to the reflection."""
    return list(
        session.scalars(
            select(LearnerFile)
            .where(
                LearnerFile.reflection_id == reflection.id,
                LearnerFile.user_id == reflection.user_id,
            )
            .order_by(LearnerFile.created_at, LearnerFile.id)
        )
    )


@dataclass(frozen=True)
class LessonState:
    """One lesson of the module and where the learner stands in it."""

    lesson_id: int
    title: str
    status: ProgressStatus | None
    last_visited_at: datetime | None


def learner_progress(session: Session, learner_id: int, module_id: int) -> list[LessonState]:
    """The module's current lessons in order, each with the learner's progress (one query)."""
    rows = session.execute(
        select(Lesson.id, Lesson.title, LessonProgress.status, LessonProgress.last_visited_at)
        .outerjoin(
            LessonProgress,
            (LessonProgress.lesson_id == Lesson.id) & (LessonProgress.user_id == learner_id),
        )
        .where(Lesson.module_id == module_id, Lesson.archived_at.is_(None))
        .order_by(Lesson.position)
    )
    return [LessonState(*row) for row in rows]


def give_feedback(session: Session, author: User, reflection: Reflection, text: str) -> Feedback:
    """Answer the reflection's submitted revision; the reflection counts as reviewed; audited."""
    feedback = Feedback(
        reflection_id=reflection.id,
        author_id=author.id,
        revision_number=reflection.submitted_revision,
        body_markdown=text,
        body_html=render_markdown(text),
    )
    session.add(feedback)
    now = now_utc()
    reflection.review_state = ReviewState.REVIEWED
    reflection.reviewed_at = now
    session.flush()
    audit.record(session, author, "feedback.given", reflection, feedback_id=feedback.id)
    return feedback


def set_review_state(
    session: Session, actor: User, reflection: Reflection, state: ReviewState
) -> None:
    """Mark the reflection new, reviewed or needing a reply; audited."""
    old = reflection.review_state
    reflection.review_state = state
    reflection.reviewed_at = now_utc() if state != ReviewState.NEW else None
    audit.record(
        session, actor, "reflection.review_state", reflection, old=old.value, new=state.value
    )
    session.flush()


# --- Feedback as the learner reads it (for the learner's pages) -------------------


def feedback_for_learner(
    session: Session, learner: User, reflection_ids: list[int]
) -> dict[int, list[Feedback]]:
    """Feedback on the learner's own reflections, by reflection id, oldest first (one query)."""
    grouped: dict[int, list[Feedback]] = {}
    if not reflection_ids:
        return grouped
    rows = session.scalars(
        select(Feedback)
        .join(Reflection, Reflection.id == Feedback.reflection_id)
        .options(joinedload(Feedback.author))
        .where(Reflection.user_id == learner.id, Feedback.reflection_id.in_(reflection_ids))
        .order_by(Feedback.created_at, Feedback.id)
    )
    for feedback in rows:
        grouped.setdefault(feedback.reflection_id, []).append(feedback)
    return grouped


def unread_feedback_count(session: Session, learner: User) -> int:
    """How many pieces of feedback on the learner's reflections they have not seen yet."""
    return session.scalar(
        select(func.count(Feedback.id))
        .join(Reflection, Reflection.id == Feedback.reflection_id)
        .where(Reflection.user_id == learner.id, Feedback.read_at.is_(None))
    )


def mark_feedback_read(session: Session, learner: User, reflection: Reflection) -> None:
    """The learner has seen the feedback on their reflection."""
    if reflection.user_id != learner.id:
        raise ValueError("only the author of a reflection reads its feedback")
    session.execute(
        update(Feedback)
        .where(Feedback.reflection_id == reflection.id, Feedback.read_at.is_(None))
        .values(read_at=now_utc())
    )
    session.flush()
