"""Reflections that are never lost: drafts, submissions, revisions and conflict detection.

Every save that changes the text adds a ``ReflectionRevision``; nothing is ever
overwritten. A save names the revision it was based on: when another tab or device
saved a newer one in between, the save is refused with ``ConflictError``, which
carries both texts so that the learner can see them side by side and keep both.

The check is one conditional UPDATE (``... WHERE revision_count = based_on``), so two
saves racing on PostgreSQL cannot both win, and on SQLite the write transaction
serialises them anyway.

The functions take the session and the user, flush, and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import EllipsisType

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms.db import now_utc
from lms.models import (
    LearnerFile,
    Lesson,
    Module,
    Prompt,
    Reflection,
    ReflectionRevision,
    ReflectionState,
    ReviewState,
    User,
)

MAX_REFLECTION_CHARS = 100_000


class ConflictError(Exception):
    """The save was based on an older revision: ``reflection`` holds the newer text."""

    def __init__(self, reflection: Reflection, body: str, based_on: int) -> None:
        super().__init__(
            f"based on revision {based_on}, but revision {reflection.revision_count} is newer"
        )
        self.reflection = reflection
        self.body = body
        self.based_on = based_on


class EmptyReflectionError(ValueError):
    """An empty reflection cannot be submitted."""


class UnknownRevisionError(ValueError):
    """The save names a revision the reflection never had (a page that is not the server's)."""


class GoneError(LookupError):
    """The learner or the reflection was deleted while the save was on its way: nothing stored."""


@dataclass
class PromptReflection:
    """A prompt of a lesson with the learner's reflection on it (if any) and its files."""

    prompt: Prompt
    reflection: Reflection | None
    files: list[LearnerFile] = field(default_factory=list)

    @property
    def revision(self) -> int:
        return self.reflection.revision_count if self.reflection else 0

    @property
    def body(self) -> str:
        return self.reflection.current_body if self.reflection else ""

    @property
    def submitted(self) -> bool:
        return self.reflection is not None and self.reflection.submitted_at is not None


# Built once (every lesson page runs it): building a statement costs about as much as
# running it.
_LESSON_REFLECTIONS = (
    select(Prompt, Reflection, LearnerFile)
    .outerjoin(
        Reflection,
        and_(Reflection.prompt_id == Prompt.id, Reflection.user_id == bindparam("user_id")),
    )
    .outerjoin(
        LearnerFile,
        and_(
            LearnerFile.reflection_id == Reflection.id,
            LearnerFile.user_id == bindparam("user_id"),
        ),
    )
    .where(Prompt.lesson_id == bindparam("lesson_id"), Prompt.archived_at.is_(None))
    .order_by(Prompt.position, Prompt.id, LearnerFile.created_at, LearnerFile.id)
)


def reflections_for_lesson(session: Session, user: User, lesson: Lesson) -> list[PromptReflection]:
    """The lesson's current prompts in order, the learner's reflections and files (one query)."""
    rows = session.execute(_LESSON_REFLECTIONS, {"user_id": user.id, "lesson_id": lesson.id})
    prompt_reflections: dict[int, PromptReflection] = {}
    for prompt, reflection, learner_file in rows:
        prompt_reflection = prompt_reflections.setdefault(
            prompt.id, PromptReflection(prompt, reflection)
        )
        if learner_file is not None:
            prompt_reflection.files.append(learner_file)
    return list(prompt_reflections.values())


def find_reflection(session: Session, user: User, prompt: Prompt) -> Reflection | None:
    """The learner's reflection on the prompt, if they ever saved one."""
    return session.scalar(
        select(Reflection).where(Reflection.user_id == user.id, Reflection.prompt_id == prompt.id)
    )


def ensure_reflection(
    session: Session, user: User, prompt: Prompt, reflection: Reflection | None = None
) -> Reflection:
    """The learner's reflection on the prompt, created empty (no revision) if there is none."""
    if reflection is not None:
        return reflection
    existing = find_reflection(session, user, prompt)
    if existing is not None:
        return existing
    created = Reflection(user_id=user.id, prompt_id=prompt.id, revision_count=0, current_body="")
    try:
        with session.begin_nested():
            session.add(created)
    except IntegrityError:
        # Another request created it at the same moment: use theirs.
        return find_reflection(session, user, prompt)
    return created


def save_draft(
    session: Session,
    user: User,
    prompt: Prompt,
    body: str,
    *,
    based_on: int,
    reflection: Reflection | None | EllipsisType = ...,
) -> Reflection:
    """Save the text as a new draft revision; an unchanged text adds nothing.

    ``based_on`` is the revision number the learner's page showed; ``reflection`` is
    their reflection on the prompt if the caller already loaded it (None: they have
    none; left out: it is looked up). Raises ConflictError when a newer revision was
    saved in between.
    """
    return _save(session, user, prompt, body, based_on, reflection, submitted=False)


def submit(
    session: Session,
    user: User,
    prompt: Prompt,
    body: str,
    *,
    based_on: int,
    reflection: Reflection | None | EllipsisType = ...,
) -> Reflection:
    """Save the text as a submitted (final) revision; it can be edited and submitted again.

    Raises EmptyReflectionError for an empty text, ConflictError as ``save_draft`` does.
    """
    if not body.strip():
        raise EmptyReflectionError(prompt.key)
    return _save(session, user, prompt, body, based_on, reflection, submitted=True)


def _save(
    session: Session,
    user: User,
    prompt: Prompt,
    body: str,
    based_on: int,
    reflection: Reflection | None | EllipsisType,
    *,
    submitted: bool,
) -> Reflection:
    """The save of either verb: its reflection found or created, its base checked, then
    one conditional UPDATE and the new revision."""
    if len(body) > MAX_REFLECTION_CHARS:
        raise ValueError(f"an answer has at most {MAX_REFLECTION_CHARS} characters")
    reflection = _learners_reflection(session, user, prompt, reflection)
    now = now_utc()
    if reflection is None:
        created = _create(session, user, prompt, body, based_on, submitted, now)
        if created is not None:
            return created
        reflection = _created_meanwhile(session, user, prompt)
    based_on = _revision_replaced(reflection, body, based_on, submitted)
    if based_on is None:
        return reflection
    number = reflection.revision_count + 1
    values = _new_values(number, body, submitted, now)
    revision = _revision_values(reflection, number, body, submitted, prompt, now)
    _update_unless_saved_meanwhile(
        session, reflection, prompt, body, based_on, values, submitted, revision
    )
    return reflection


def _learners_reflection(
    session: Session, user: User, prompt: Prompt, reflection: Reflection | None | EllipsisType
) -> Reflection | None:
    """The learner's reflection on the prompt: the one given, or looked up if left out."""
    if reflection is ...:
        reflection = find_reflection(session, user, prompt)
    if reflection is not None and (
        reflection.user_id != user.id or reflection.prompt_id != prompt.id
    ):
        raise ValueError("the reflection is not this learner's answer to this prompt")
    return reflection


def _created_meanwhile(session: Session, user: User, prompt: Prompt) -> Reflection:
    """The reflection another request created first; GoneError when none did."""
    reflection = find_reflection(session, user, prompt)
    if reflection is None:
        # Not created by another request either: the account was deleted meanwhile.
        raise GoneError(prompt.key)
    return reflection


def _revision_replaced(
    reflection: Reflection, body: str, based_on: int, submitted: bool
) -> int | None:
    """The revision the save replaces; None when it has nothing new to record.

    Raises UnknownRevisionError for a revision the reflection never had, ConflictError
    when the text is based on an older one than the newest.
    """
    if based_on > reflection.revision_count:
        raise UnknownRevisionError(f"revision {based_on} of {reflection.revision_count}")
    if body == reflection.current_body:
        # The same text cannot lose anything, whatever it was based on; and there is
        # nothing new to record unless it is a draft being submitted.
        if not submitted or reflection.state == ReflectionState.SUBMITTED:
            return None
        based_on = reflection.revision_count
    if based_on != reflection.revision_count:
        raise ConflictError(reflection, body, based_on)
    return based_on


def _new_values(number: int, body: str, submitted: bool, now: datetime) -> dict[str, object]:
    """The reflection's columns once revision ``number`` is saved (and submitted)."""
    values: dict[str, object] = {
        "revision_count": number,
        "current_body": body,
        "state": ReflectionState.SUBMITTED if submitted else ReflectionState.DRAFT,
        "updated_at": now,
    }
    if submitted:
        values |= {
            "submitted_at": now,
            "submitted_revision": number,
            "submitted_body": body,
            "review_state": ReviewState.NEW,
        }
    return values


def _update_unless_saved_meanwhile(
    session: Session,
    reflection: Reflection,
    prompt: Prompt,
    body: str,
    based_on: int,
    values: dict[str, object],
    submitted: bool,
    revision: dict[str, object],
) -> None:
    """The conditional UPDATE and the new revision: ConflictError when another save came
    in since the read, and then neither is written.

    Raises GoneError when the reflection went with its account meanwhile.
    """
    parameters = {f"new_{name}": value for name, value in values.items()} | {
        "reflection_id": reflection.id,
        "based_on": based_on,
    }
    if not _write_revision(session.connection(), submitted, parameters, revision):
        try:
            session.refresh(reflection)
        except InvalidRequestError:
            raise GoneError(prompt.key) from None  # erased with its account meanwhile
        raise ConflictError(reflection, body, based_on)
    for name, value in values.items():
        set_committed_value(reflection, name, value)


def _write_revision(connection, submitted: bool, parameters: dict, revision: dict) -> bool:
    """The conditional UPDATE and, if it matched, the revision's INSERT; whether it matched.

    On PostgreSQL the two are one statement (the UPDATE in a WITH, the INSERT of the
    revision from what it updated): one round trip fewer on every autosave.
    """
    if connection.dialect.name == "postgresql":
        statement = _SUBMIT_WITH_REVISION if submitted else _SAVE_DRAFT_WITH_REVISION
        revision = {f"revision_{name}": value for name, value in revision.items()}
        return connection.execute(statement, parameters | revision).first() is not None
    updated = connection.execute(_SUBMIT if submitted else _SAVE_DRAFT, parameters)
    if updated.rowcount != 1:
        return False
    connection.execute(_INSERT_REVISION, revision)
    return True


def _create(
    session: Session,
    user: User,
    prompt: Prompt,
    body: str,
    based_on: int,
    submitted: bool,
    now,
) -> Reflection | None:
    """The first revision of a new reflection, or None if another request created it first."""
    if based_on != 0:
        raise UnknownRevisionError(f"revision {based_on} of an answer not written yet")
    if not body and not submitted:
        # Nothing typed yet: an empty reflection, no revision.
        return ensure_reflection(session, user, prompt, None)
    reflection = Reflection(
        user_id=user.id,
        prompt_id=prompt.id,
        revision_count=1,
        current_body=body,
        state=ReflectionState.SUBMITTED if submitted else ReflectionState.DRAFT,
        created_at=now,
        updated_at=now,
        submitted_at=now if submitted else None,
        submitted_revision=1 if submitted else None,
        submitted_body=body if submitted else None,
    )
    try:
        with session.begin_nested():
            session.add(reflection)
    except IntegrityError:
        return None
    _add_revision(session, reflection, 1, body, submitted, prompt, now)
    return reflection


def _add_revision(session, reflection, number, body, submitted, prompt, now) -> None:
    # One INSERT, no ORM object: an autosave adds a revision and never reads it back.
    session.connection().execute(
        _INSERT_REVISION, _revision_values(reflection, number, body, submitted, prompt, now)
    )


def _revision_values(reflection, number, body, submitted, prompt, now) -> dict[str, object]:
    return {
        "reflection_id": reflection.id,
        "number": number,
        "body": body,
        "submitted": submitted,
        "prompt_text": prompt.text,
        "created_at": now,
    }


# An autosave's two writes, built once on the tables and run on the session's
# connection (past the ORM, which has nothing to track in them): the conditional
# UPDATE that detects a save landing in between, and the revision.
def _conditional_update(*columns: str):
    table = Reflection.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("reflection_id"))
        .where(table.c.revision_count == bindparam("based_on"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


_DRAFT_COLUMNS = ("revision_count", "current_body", "state", "updated_at")
_SAVE_DRAFT = _conditional_update(*_DRAFT_COLUMNS)
_SUBMIT = _conditional_update(
    *_DRAFT_COLUMNS, "submitted_at", "submitted_revision", "submitted_body", "review_state"
)
_INSERT_REVISION = insert(ReflectionRevision.__table__)


def _with_revision(conditional_update):
    """PostgreSQL's one statement: the conditional UPDATE, and the revision inserted for
    the row it updated (none when it updated none)."""
    revisions = ReflectionRevision.__table__
    saved = conditional_update.returning(Reflection.__table__.c.id).cte("saved")
    columns = ("number", "body", "submitted", "prompt_text", "created_at")
    # Named apart from the reflection's columns: an UPDATE takes a parameter named after
    # one of its table's columns as a value to set.
    values = [bindparam(f"revision_{name}", type_=revisions.c[name].type) for name in columns]
    return (
        insert(revisions)
        .from_select(["reflection_id", *columns], select(saved.c.id, *values))
        .add_cte(saved)
        .returning(revisions.c.id)  # the revision, or none: the driver's rowcount is -1 here
    )


_SAVE_DRAFT_WITH_REVISION = _with_revision(_SAVE_DRAFT)
_SUBMIT_WITH_REVISION = _with_revision(_SUBMIT)


def revisions(session: Session, reflection: Reflection) -> list[ReflectionRevision]:
    """Every revision of the reflection, newest first."""
    return list(
        session.scalars(
            select(ReflectionRevision)
            .where(ReflectionRevision.reflection_id == reflection.id)
            .order_by(ReflectionRevision.number.desc())
        )
    )


@dataclass(frozen=True)
class WorkItem:
    """One reflection on "My work": the reflection with its prompt, lesson and module loaded."""

    reflection: Reflection
    prompt: Prompt
    lesson: Lesson
    module: Module
    files: list[LearnerFile]


def my_work(session: Session, user: User) -> list[WorkItem]:
    """Every reflection of the learner with its context and files, in two queries."""
    rows = session.execute(
        select(Reflection, Prompt, Lesson, Module)
        .join(Prompt, Prompt.id == Reflection.prompt_id)
        .join(Lesson, Lesson.id == Prompt.lesson_id)
        .join(Module, Module.id == Lesson.module_id)
        .where(Reflection.user_id == user.id)
        .order_by(Module.title, Module.id, Lesson.position, Lesson.id, Prompt.position, Prompt.id)
    ).all()
    files: dict[int | None, list[LearnerFile]] = {}
    for learner_file in session.scalars(
        select(LearnerFile)
        .where(LearnerFile.user_id == user.id)
        .order_by(LearnerFile.created_at, LearnerFile.id)
    ):
        files.setdefault(learner_file.reflection_id, []).append(learner_file)
    return [
        WorkItem(reflection, prompt, lesson, module, files.get(reflection.id, []))
        for reflection, prompt, lesson, module in rows
    ]
