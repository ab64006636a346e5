"""A learner's way through a module: enrollment, lesson states, opening and completing lessons.

A lesson's state comes from the learner's ``LessonProgress`` row and, in a linear
module, from the lesson before it: a lesson is locked until the one before it is
complete. A lesson the learner has already opened is never locked again, so that a
new version of a module that inserts a lesson does not shut them out of where they
were. Module progress is complete lessons over current (not archived) lessons.

The functions take the session and the user, flush, and never commit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Select, and_, bindparam, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from lms.db import now_utc, upsert
from lms.models import (
    Attachment,
    AttachmentDownload,
    Enrollment,
    Lesson,
    LessonProgress,
    Module,
    ProgressStatus,
    Prompt,
    Reflection,
    Sequence,
    User,
)

if TYPE_CHECKING:
    from lms.lesson_view import EnrollmentRow


class LessonState(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    LOCKED = "locked"


class LessonLockedError(Exception):
    """The lesson is locked: the lesson before it is not complete yet."""

    def __init__(self, blocking: OutlineEntry) -> None:
        super().__init__(f"complete lesson {blocking.slug!r} first")
        self.blocking = blocking


class NotOpenedError(Exception):
    """The learner has not opened the lesson (it may be locked), so it cannot be completed."""


class MissingReflectionsError(Exception):
    """Required prompts of the lesson have no submitted reflection yet."""

    def __init__(self, prompts: list[Prompt]) -> None:
        super().__init__(", ".join(p.key for p in prompts))
        self.prompts = prompts


class OutlineEntry(NamedTuple):
    """One current lesson of a module as a learner sees it in the outline.

    A named tuple: a lesson page builds one per lesson of the module, and a frozen
    dataclass costs several times as much to make.
    """

    lesson_id: int
    slug: str
    title: str
    position: int
    minutes: int
    state: LessonState
    last_visited_at: datetime | None = None

    @property
    def locked(self) -> bool:
        return self.state == LessonState.LOCKED


@dataclass(frozen=True)
class Outline:
    """The current lessons of a module, in order, with one learner's state of each."""

    entries: list[OutlineEntry]

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def complete(self) -> int:
        return sum(1 for e in self.entries if e.state == LessonState.COMPLETE)

    @property
    def percent(self) -> int:
        return percent(self.complete, self.total)

    @property
    def states(self) -> str:
        """Every lesson's state as one letter (c, i, l, n), in order: a short cache key."""
        return "".join(e.state.value[0] for e in self.entries)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.complete == self.total

    def index(self, lesson_id: int) -> int | None:
        """The position of the lesson in the outline (0-based), or None if it is not current."""
        return next((i for i, e in enumerate(self.entries) if e.lesson_id == lesson_id), None)

    def neighbours(self, lesson_id: int) -> tuple[OutlineEntry | None, OutlineEntry | None]:
        """The lessons before and after this one, if any."""
        i = self.index(lesson_id)
        if i is None:
            return None, None
        before = self.entries[i - 1] if i > 0 else None
        after = self.entries[i + 1] if i + 1 < len(self.entries) else None
        return before, after

    def resume(self, last_lesson_id: int | None) -> OutlineEntry | None:
        """Where "Continue" goes: the last lesson opened, or, once that one is complete,
        the next lesson left to do; the first lesson left to do when none was opened."""
        open_ = [
            e for e in self.entries if e.state in (LessonState.IN_PROGRESS, LessonState.NOT_STARTED)
        ]
        i = self.index(last_lesson_id) if last_lesson_id is not None else None
        if i is None:
            return open_[0] if open_ else (self.entries[0] if self.entries else None)
        last = self.entries[i]
        if last.state != LessonState.COMPLETE:
            return last
        after = [e for e in open_ if e.position > last.position]
        return after[0] if after else (open_[0] if open_ else last)

    def with_opened(self, lesson_id: int) -> Outline:
        """The outline once this lesson is opened: a lesson not started is now in progress."""
        return Outline(
            [
                e._replace(state=LessonState.IN_PROGRESS)
                if e.lesson_id == lesson_id and e.state == LessonState.NOT_STARTED
                else e
                for e in self.entries
            ]
        )


def percent(done: int, total: int) -> int:
    """A whole percentage, never 100 before everything is done."""
    if total <= 0:
        return 0
    value = round(100 * done / total)
    return 99 if value == 100 and done < total else value


def build_outline(
    rows: Iterable[tuple[int, str, str, int, int, ProgressStatus | None, datetime | None]],
    sequence: Sequence,
) -> Outline:
    """The outline from (id, slug, title, position, minutes, progress status, last visit)
    rows in order."""
    entries = []
    previous_complete = True
    for lesson_id, slug, title, position, minutes, status, last_visited_at in rows:
        if status == ProgressStatus.COMPLETE:
            state = LessonState.COMPLETE
        elif status == ProgressStatus.IN_PROGRESS:
            state = LessonState.IN_PROGRESS
        elif sequence == Sequence.LINEAR and not previous_complete:
            state = LessonState.LOCKED
        else:
            state = LessonState.NOT_STARTED
        entries.append(
            OutlineEntry(lesson_id, slug, title, position, minutes, state, last_visited_at)
        )
        previous_complete = state == LessonState.COMPLETE
    return Outline(entries)


# The columns of an outline's row (build_outline) but the last visit, in its order; the
# lesson page's statement (lms.lesson_view) reads them too.
OUTLINE_COLUMNS = (
    Lesson.id,
    Lesson.slug,
    Lesson.title,
    Lesson.position,
    Lesson.minutes,
    LessonProgress.status,
)

# Built once: building a statement costs about as much as running it.
_OUTLINE = (
    select(*OUTLINE_COLUMNS, LessonProgress.last_visited_at)
    .outerjoin(
        LessonProgress,
        and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == bindparam("user_id")),
    )
    .where(Lesson.module_id == bindparam("module_id"), Lesson.archived_at.is_(None))
    .order_by(Lesson.position, Lesson.id)
)


def outline(session: Session, user: User, module: Module) -> Outline:
    """The learner's outline of the module's current lessons, in one query."""
    # Plain rows, past the ORM: they are columns, not objects to track.
    rows = session.connection().execute(_OUTLINE, {"user_id": user.id, "module_id": module.id})
    return build_outline(rows, module.sequence)


def ensure_unlocked(outline_: Outline, lesson: Lesson) -> OutlineEntry:
    """The lesson's outline entry; raises LessonLockedError naming the lesson to finish first."""
    i = outline_.index(lesson.id)
    if i is None:
        raise LookupError(f"lesson {lesson.id} is not a current lesson")
    if outline_.entries[i].locked:
        # The first lesson not complete yet: the one the learner can open and finish now.
        blocking = next(e for e in outline_.entries[:i] if e.state != LessonState.COMPLETE)
        raise LessonLockedError(blocking)
    return outline_.entries[i]


def _current_attachments(session: Session, *where) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.archived_at.is_(None), *where)
            .order_by(Attachment.position, Attachment.id)
        )
    )


def module_attachments(session: Session, module: Module) -> list[Attachment]:
    """The module-wide downloads (not tied to a lesson) that are still current, in order."""
    return _current_attachments(
        session, Attachment.module_id == module.id, Attachment.lesson_id.is_(None)
    )


def lesson_attachments(session: Session, lesson: Lesson) -> list[Attachment]:
    """The lesson's downloads that are still current, in order."""
    return _current_attachments(session, Attachment.lesson_id == lesson.id)


def find_enrollment(session: Session, user: User, module: Module) -> Enrollment | None:
    """The learner's enrollment in the module, if any."""
    return session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.module_id == module.id)
    )


def enroll(session: Session, user: User, module: Module) -> tuple[Enrollment, bool]:
    """Enroll the learner (once); returns the enrollment and whether it is new."""
    existing = find_enrollment(session, user, module)
    if existing is not None:
        return existing, False
    enrollment = Enrollment(user_id=user.id, module_id=module.id)
    try:
        # A double click in two tabs: the second insert loses, quietly.
        with session.begin_nested():
            session.add(enrollment)
    except IntegrityError:
        return find_enrollment(session, user, module), False
    return enrollment, True


# A visit is recorded to the minute: opening the lesson one is on again within it (a
# reload, a return from a download) has nothing new to record, and writes nothing.
VISIT_RESOLUTION = timedelta(minutes=1)


def visit_is_recorded(entry: OutlineEntry, enrollment: EnrollmentRow, now: datetime) -> bool:
    """Whether opening this lesson now would record nothing new: it is already opened,
    it is where the learner is, and their last visit to it is within the resolution."""
    return (
        entry.state in (LessonState.IN_PROGRESS, LessonState.COMPLETE)
        and enrollment.last_lesson_id == entry.lesson_id
        and entry.last_visited_at is not None
        and now - entry.last_visited_at < VISIT_RESOLUTION
    )


def open_lesson(
    session: Session, user: User, lesson: Lesson, enrollment: EnrollmentRow, outline_: Outline
) -> None:
    """Record that the learner opened the lesson: in progress (if new), visited now.

    ``enrollment`` is the page's plain copy (``lms.lesson_view``), moved to this lesson.

    Raises LessonLockedError for a locked lesson. Costs one statement, two when the
    learner comes from another lesson; reads nothing, so a GET view may call it alone
    in its short write transaction (``lms.web.database.writing``).
    """
    ensure_unlocked(outline_, lesson)
    connection = session.connection()
    connection.execute(
        _visit(session), {"user_id": user.id, "lesson_id": lesson.id, "now": now_utc()}
    )
    if enrollment.last_lesson_id != lesson.id:
        connection.execute(_RESUME_AT, {"enrollment_id": enrollment.id, "lesson_id": lesson.id})
        enrollment.last_lesson_id = lesson.id


def _visit(session: Session) -> Insert:
    """The visit's upsert: a lesson opened again keeps its status and first opening, and
    two tabs cannot collide. Built once for each database."""
    dialect = session.get_bind().dialect.name
    statement = _VISITS.get(dialect)
    if statement is None:
        table = LessonProgress.__table__
        statement = _VISITS[dialect] = upsert(
            session,
            table,
            {
                "user_id": bindparam("user_id"),
                "lesson_id": bindparam("lesson_id"),
                "status": ProgressStatus.IN_PROGRESS,
                "first_opened_at": bindparam("now"),
                "last_visited_at": bindparam("now"),
            },
            key=[table.c.user_id, table.c.lesson_id],
            update={"last_visited_at": bindparam("now")},
        )
    return statement


# A visit's writes, built once and run on the session's connection (past the ORM, which
# has nothing to track in them): every move to another lesson runs them.
_VISITS: dict[str, Insert] = {}
_RESUME_AT = (
    update(Enrollment.__table__)
    .where(Enrollment.__table__.c.id == bindparam("enrollment_id"))
    .values(last_lesson_id=bindparam("lesson_id"))
)


def missing_reflections(session: Session, user: User, lesson: Lesson) -> list[Prompt]:
    """The lesson's current required prompts that the learner has not submitted a reflection on."""
    submitted = exists().where(
        Reflection.prompt_id == Prompt.id,
        Reflection.user_id == user.id,
        Reflection.submitted_at.is_not(None),
    )
    return list(
        session.scalars(
            select(Prompt)
            .where(
                Prompt.lesson_id == lesson.id,
                Prompt.archived_at.is_(None),
                Prompt.required.is_(True),
                ~submitted,
            )
            .order_by(Prompt.position, Prompt.id)
        )
    )


def module_progress(session: Session, user: User, module: Module) -> tuple[int, int]:
    """(complete lessons, current lessons) of the module for the learner."""
    done, total = session.execute(
        select(
            func.count(LessonProgress.id),
            func.count(Lesson.id),
        )
        .select_from(Lesson)
        .outerjoin(
            LessonProgress,
            and_(
                LessonProgress.lesson_id == Lesson.id,
                LessonProgress.user_id == user.id,
                LessonProgress.status == ProgressStatus.COMPLETE,
            ),
        )
        .where(Lesson.module_id == module.id, Lesson.archived_at.is_(None))
    ).one()
    return done, total


def complete_lesson(session: Session, user: User, lesson: Lesson, enrollment: Enrollment) -> bool:
    """Mark the lesson complete; returns True when this finished the whole module.

    Raises NotOpenedError when the learner never opened it (a locked lesson cannot
    have been), and MissingReflectionsError naming the required prompts without a
    submitted reflection.
    """
    progress = session.scalar(
        select(LessonProgress).where(
            LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id
        )
    )
    if progress is None:
        raise NotOpenedError(lesson.slug)
    missing = missing_reflections(session, user, lesson)
    if missing:
        raise MissingReflectionsError(missing)
    now = now_utc()
    if progress.status != ProgressStatus.COMPLETE:
        progress.status = ProgressStatus.COMPLETE
        progress.completed_at = now
    progress.last_visited_at = now
    session.flush()
    done, total = module_progress(session, user, lesson.module)
    if total and done == total and enrollment.completed_at is None:
        enrollment.completed_at = now
        session.flush()
        return True
    return False


@dataclass(frozen=True)
class EnrolledModule:
    """One line of "My learning": the enrollment, its module and how far the learner is."""

    enrollment: Enrollment
    module: Module
    complete: int

    @property
    def total(self) -> int:
        return self.module.lesson_count

    @property
    def percent(self) -> int:
        return percent(min(self.complete, self.total), self.total)


def catalog() -> Select:
    """The published modules, by title."""
    return select(Module).where(Module.published.is_(True)).order_by(Module.title, Module.id)


def enrolled_among(session: Session, user: User, modules: Iterable[Module]) -> set[int]:
    """The ids of those modules the learner is enrolled in (one query, none for no module)."""
    ids = [m.id for m in modules]
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Enrollment.module_id).where(
                Enrollment.user_id == user.id, Enrollment.module_id.in_(ids)
            )
        )
    )


def my_learning(session: Session, user: User) -> list[EnrolledModule]:
    """Every module the learner is enrolled in with their progress, in one query."""
    complete = (
        select(func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(
            LessonProgress.user_id == Enrollment.user_id,
            LessonProgress.status == ProgressStatus.COMPLETE,
            Lesson.module_id == Enrollment.module_id,
            Lesson.archived_at.is_(None),
        )
        .correlate(Enrollment)
        .scalar_subquery()
    )
    finished_last = case((Enrollment.completed_at.is_(None), 0), else_=1)
    rows = session.execute(
        select(Enrollment, Module, complete)
        .join(Module, Module.id == Enrollment.module_id)
        .where(Enrollment.user_id == user.id)
        .order_by(finished_last, Enrollment.enrolled_at.desc(), Enrollment.id.desc())
    )
    return [EnrolledModule(enrollment, module, done) for enrollment, module, done in rows]


def record_download(session: Session, user: User, attachment: Attachment) -> None:
    """Count a download of the attachment in the learner's progress (one statement)."""
    now = now_utc()
    session.execute(
        upsert(
            session,
            AttachmentDownload,
            {
                "user_id": user.id,
                "attachment_id": attachment.id,
                "first_downloaded_at": now,
                "last_downloaded_at": now,
                "count": 1,
            },
            key=[AttachmentDownload.user_id, AttachmentDownload.attachment_id],
            update={"last_downloaded_at": now, "count": AttachmentDownload.count + 1},
        )
    )
