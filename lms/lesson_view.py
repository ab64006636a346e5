"""What a learner sees of one lesson, read in one statement: the hottest page of the app.

The lesson page needs the module, the learner's enrollment, the outline of the module
with the learner's state of each lesson, and the lesson's prompts with the learner's
reflections and files. Read as four statements (each a round trip on PostgreSQL, each
building ORM objects), that was most of the page's own cost; here one statement joins
them all, and its rows become plain tuples: the page changes none of them. The
lesson's text is read only when the page's cached fragment is missing.

A view that changes the learner's reflections (lms.web.learner.lesson_form) loads
them as ORM objects instead (``lms.reflections.reflections_for_lesson``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, case, select
from sqlalchemy.orm import Session

from lms.models import (
    Enrollment,
    LearnerFile,
    Lesson,
    LessonProgress,
    Module,
    Prompt,
    Reflection,
    ReflectionState,
    Sequence,
    User,
)
from lms.progress import OUTLINE_COLUMNS, Outline, build_outline
from lms.reflections import PromptReflection


class ModuleRow(NamedTuple):
    id: int
    slug: str
    title: str
    language: str
    sequence: Sequence
    published: bool
    updated_at: datetime


@dataclass
class EnrollmentRow:
    """Mutable: opening the lesson moves the learner's resume point here."""

    id: int
    last_lesson_id: int | None


class PromptRow(NamedTuple):
    id: int
    lesson_id: int
    key: str
    position: int
    text: str
    required: bool
    accepts_files: bool


class ReflectionRow(NamedTuple):
    id: int
    state: ReflectionState
    revision_count: int
    current_body: str
    updated_at: datetime
    submitted_at: datetime | None


class FileRow(NamedTuple):
    id: int
    public_id: str
    filename: str
    content_type: str
    size: int
    created_at: datetime


class LessonRow:
    """The lesson's columns the page shows; its text is read when first asked for."""

    __slots__ = ("id", "slug", "title", "position", "minutes", "_read_body", "_body")

    def __init__(
        self, id: int, slug: str, title: str, position: int, minutes: int,
        read_body: Callable[[int], str],
    ) -> None:  # fmt: skip
        self.id, self.slug, self.title = id, slug, title
        self.position, self.minutes = position, minutes
        self._read_body, self._body = read_body, None

    @property
    def body_html(self) -> str:
        if self._body is None:
            self._body = self._read_body(self.id)
        return self._body


@dataclass
class LessonView:
    module: ModuleRow
    enrollment: EnrollmentRow | None
    lesson: LessonRow
    outline: Outline
    prompt_reflections: list[PromptReflection]

    @property
    def visible(self) -> bool:
        """A module taken down is still open to those enrolled in it."""
        return self.module.published or self.enrollment is not None


_USER_ID = bindparam("user_id")
_USER_ID = bindparam("user_id")
_LESSON_SLUG = bindparam("lesson_slug")


def _on_the_lessons_rows(column):
    """The column on the open lesson's rows only, NULL on the others: a time is parsed
    from its text (on SQLite) once per row it is on, and a 40-lesson outline repeats it
    40 times for the one value the page needs."""
    return case((Lesson.slug == _LESSON_SLUG, column)).label(column.key)


_MODULE = (
    Module.id,
    Module.slug,
    Module.title,
    Module.language,
    Module.sequence,
    Module.published,
    _on_the_lessons_rows(Module.updated_at),
)
_ENROLLMENT = (Enrollment.id, Enrollment.last_lesson_id)
_OUTLINE = (
    *OUTLINE_COLUMNS,
    # Asked of the open lesson only (progress.visit_is_recorded).
    _on_the_lessons_rows(LessonProgress.last_visited_at),
)
_PROMPT = (
    Prompt.id,
    Prompt.lesson_id,
    Prompt.key,
    Prompt.position,
    Prompt.text,
    Prompt.required,
    Prompt.accepts_files,
)
_REFLECTION = (
    Reflection.id,
    Reflection.state,
    Reflection.revision_count,
    Reflection.current_body,
    Reflection.updated_at,
    Reflection.submitted_at,
)
_FILE = (
    LearnerFile.id,
    LearnerFile.public_id,
    LearnerFile.filename,
    LearnerFile.content_type,
    LearnerFile.size,
    LearnerFile.created_at,
)


def _slices(*groups: tuple[Any, ...]) -> list[slice]:
    bounds, start = [], 0
    for group in groups:
        bounds.append(slice(start, start + len(group)))
        start += len(group)
    return bounds


_M, _E, _O, _P, _R, _F = _slices(_MODULE, _ENROLLMENT, _OUTLINE, _PROMPT, _REFLECTION, _FILE)

# Built once (every lesson page runs it). One row per current lesson of the module; the
# open lesson's row repeats for each of its prompts and each of their files.
_LESSON_VIEW = (
    select(*_MODULE, *_ENROLLMENT, *_OUTLINE, *_PROMPT, *_REFLECTION, *_FILE)
    .select_from(Module)
    .join(Lesson, and_(Lesson.module_id == Module.id, Lesson.archived_at.is_(None)))
    .outerjoin(
        LessonProgress,
        and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == _USER_ID),
    )
    .outerjoin(Enrollment, and_(Enrollment.module_id == Module.id, Enrollment.user_id == _USER_ID))
    .outerjoin(
        Prompt,
        and_(
            Prompt.lesson_id == Lesson.id,
            Lesson.slug == _LESSON_SLUG,
            Prompt.archived_at.is_(None),
        ),
    )
    .outerjoin(Reflection, and_(Reflection.prompt_id == Prompt.id, Reflection.user_id == _USER_ID))
    .outerjoin(
        LearnerFile,
        and_(LearnerFile.reflection_id == Reflection.id, LearnerFile.user_id == _USER_ID),
    )
    .where(Module.slug == bindparam("module_slug"))
    .order_by(
        Lesson.position,
        Lesson.id,
        Prompt.position,
        Prompt.id,
        LearnerFile.created_at,
        LearnerFile.id,
    )
)

_BODY = select(Lesson.body_html).where(Lesson.id == bindparam("lesson_id"))


def read(session: Session, user: User, module_slug: str, lesson_slug: str) -> LessonView | None:
    """The learner's view of the module's current lesson, or None if there is no such lesson."""
    connection = session.connection()
    rows = connection.execute(
        _LESSON_VIEW, {"user_id": user.id, "module_slug": module_slug, "lesson_slug": lesson_slug}
    ).all()
    if not rows:
        return None
    outline_rows: list[tuple] = []
    lesson = lessons_row = None
    prompt_reflections: dict[int, PromptReflection] = {}
    for row in rows:
        entry = row[_O]
        if not outline_rows or outline_rows[-1][0] != entry[0]:
            outline_rows.append(entry)
        if entry[1] != lesson_slug:
            continue
        if lesson is None:
            lesson = LessonRow(*entry[:5], _body_reader(session))
            lessons_row = row
        if row[_P][0] is None:
            continue
        prompt_reflection = prompt_reflections.get(row[_P][0])
        if prompt_reflection is None:
            reflection = ReflectionRow._make(row[_R]) if row[_R][0] is not None else None
            prompt_reflection = prompt_reflections[row[_P][0]] = PromptReflection(
                PromptRow._make(row[_P]), reflection
            )
        if row[_F][0] is not None:
            prompt_reflection.files.append(FileRow._make(row[_F]))
    if lesson is None:
        return None
    module = ModuleRow._make(lessons_row[_M])
    enrollment = EnrollmentRow(*rows[0][_E]) if rows[0][_E][0] is not None else None
    return LessonView(
        module,
        enrollment,
        lesson,
        build_outline(outline_rows, module.sequence),
        list(prompt_reflections.values()),
    )


def _body_reader(session: Session) -> Callable[[int], str]:
    # The session's connection at the time: the page may have written (and so released
    # the one the view was read on) before it renders the text.
    return lambda lesson_id: session.scalar(_BODY, {"lesson_id": lesson_id})
