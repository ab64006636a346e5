"""Who may see what: one guard per audience, and load-or-404 helpers for ids in URLs."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, contains_eager

from lms.cohort_access import by_staff_cohort_learner
from lms.models import (
    Attachment,
    Enrollment,
    LearnerFile,
    Lesson,
    LessonProgress,
    Media,
    Module,
    Prompt,
    Reflection,
    Role,
    User,
)


def guard_blueprint(bp: Blueprint, *roles: Role) -> None:
    """Require a signed-in user with one of the roles for every view of the blueprint."""

    @bp.before_request
    @login_required
    def check_role() -> None:
        if current_user.role not in roles:
            # 404, not 403: the audience's pages are not advertised to others.
            abort(404)


# --- The learner's objects ---------------------------------------------------
# Each helper loads what one URL names, in one query, and answers 404 unless the
# current user may see it: modules they can browse or are enrolled in, lessons and
# prompts of modules they are enrolled in, answers and files that are theirs.


def _or_404(value):
    if value is None:
        abort(404)
    return value


def _enrollment_of(user_id):
    """The join to the user's enrollment in the module; the id may be a bound parameter."""
    return and_(Enrollment.module_id == Module.id, Enrollment.user_id == user_id)


def load_module(session: Session, user: User, slug: str) -> tuple[Module, Enrollment | None]:
    """A published module (or one the user is enrolled in) and the user's enrollment, else 404."""
    row = session.execute(
        select(Module, Enrollment)
        .outerjoin(Enrollment, _enrollment_of(user.id))
        .where(Module.slug == slug)
    ).first()
    if row is None or not (row.Module.published or row.Enrollment is not None):
        abort(404)
    return row.Module, row.Enrollment


# The statements of the hottest paths (every lesson page, every autosave) are built once,
# with the user's id as a parameter: building one costs about as much as running it.
_USER_ID = bindparam("user_id")

_LESSON_BY_SLUGS = (
    select(Lesson, Enrollment)
    .join(Lesson.module)
    .outerjoin(Enrollment, _enrollment_of(_USER_ID))
    .where(
        Module.slug == bindparam("module_slug"),
        Lesson.slug == bindparam("lesson_slug"),
        Lesson.archived_at.is_(None),
    )
    .options(contains_eager(Lesson.module))
)


def load_lesson(
    session: Session, user: User, module_slug: str, lesson_slug: str
) -> tuple[Lesson, Enrollment | None]:
    """A current lesson with its module, and the user's enrollment, else 404."""
    row = session.execute(
        _LESSON_BY_SLUGS,
        {"user_id": user.id, "module_slug": module_slug, "lesson_slug": lesson_slug},
    ).first()
    if row is None or not (row.Lesson.module.published or row.Enrollment is not None):
        abort(404)
    return row.Lesson, row.Enrollment


def load_prompt(session: Session, user: User, prompt_id: int) -> tuple[Prompt, Reflection | None]:
    """A current prompt of a lesson the user has opened, with their reflection on it, else 404.

    A lesson the user has not opened may be locked for them, or in a module they are
    not enrolled in: its prompts take no answers and no files. The lesson and module are
    joined to check that, not loaded: an autosave never needs them (``prompt.lesson``
    loads them when a page does).
    """
    row = session.execute(_OPENED_PROMPT, {"user_id": user.id, "prompt_id": prompt_id}).first()
    row = _or_404(row)
    return row.Prompt, row.Reflection


_OPENED_PROMPT = (
    select(Prompt, Reflection)
    .join(Prompt.lesson)
    .join(Lesson.module)
    .join(
        LessonProgress,
        and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == _USER_ID),
    )
    .join(Enrollment, _enrollment_of(_USER_ID))
    .outerjoin(Reflection, and_(Reflection.prompt_id == Prompt.id, Reflection.user_id == _USER_ID))
    .where(
        Prompt.id == bindparam("prompt_id"),
        Prompt.archived_at.is_(None),
        Lesson.archived_at.is_(None),
    )
)


def load_own_reflection(session: Session, user: User, prompt_id: int) -> Reflection:
    """The user's own reflection on a prompt (archived or not), with its context, else 404."""
    return _or_404(
        session.scalar(
            select(Reflection)
            .join(Reflection.prompt)
            .join(Prompt.lesson)
            .join(Lesson.module)
            .where(Reflection.prompt_id == prompt_id, Reflection.user_id == user.id)
            .options(
                contains_eager(Reflection.prompt)
                .contains_eager(Prompt.lesson)
                .contains_eager(Lesson.module)
            )
        )
    )


def load_attachment(session: Session, user: User, attachment_id: int) -> Attachment:
    """An attachment of a module the user is enrolled in, of a lesson they have opened, else 404."""
    opened = exists().where(
        LessonProgress.lesson_id == Attachment.lesson_id, LessonProgress.user_id == user.id
    )
    return _or_404(
        session.scalar(
            select(Attachment)
            .join(Module, Module.id == Attachment.module_id)
            .join(Enrollment, _enrollment_of(user.id))
            .where(
                Attachment.id == attachment_id,
                Attachment.archived_at.is_(None),
                or_(Attachment.lesson_id.is_(None), opened),
            )
        )
    )


def load_own_file(session: Session, user: User, public_id: str) -> LearnerFile:
    """A learner file the user uploaded, else 404."""
    return _or_404(
        session.scalar(
            select(LearnerFile).where(
                LearnerFile.public_id == public_id, LearnerFile.user_id == user.id
            )
        )
    )


def load_learner_file(session: Session, user: User, public_id: str) -> LearnerFile:
    """A learner file the user may download, else 404.

    Its owner and admins may. A facilitator may when the file is on the owner's answer
    to a prompt of a module that a cohort they facilitate works through, and the owner
    is a learner of that cohort (the inbox's rule). A file on no answer is the owner's
    (and admins'). Facilitator memberships count only while the account has the
    facilitator role: demoting someone leaves their memberships in place.
    """
    statement = select(LearnerFile).where(LearnerFile.public_id == public_id)
    if user.role == Role.LEARNER:
        statement = statement.where(LearnerFile.user_id == user.id)
    elif user.role == Role.FACILITATOR:
        on_answer = and_(
            Reflection.id == LearnerFile.reflection_id, Reflection.user_id == LearnerFile.user_id
        )
        statement = (
            statement.outerjoin(Reflection, on_answer)
            .outerjoin(Prompt, Prompt.id == Reflection.prompt_id)
            .outerjoin(Lesson, Lesson.id == Prompt.lesson_id)
            .where(or_(LearnerFile.user_id == user.id, by_staff_cohort_learner(user)))
        )
    return _or_404(session.scalar(statement))


def load_media(session: Session, user: User, module_slug: str, path: str) -> Media:
    """A media file shown in a module's lessons, for those who may read the module, else 404."""
    statement = (
        select(Media)
        .join(Module, Module.id == Media.module_id)
        .where(Module.slug == module_slug, Media.path.in_([f"media/{path}", path]))
    )
    if user.role != Role.ADMIN:
        enrolled = exists().where(_enrollment_of(user.id))
        statement = statement.where(or_(Module.published.is_(True), enrolled))
    return _or_404(session.scalars(statement).first())
