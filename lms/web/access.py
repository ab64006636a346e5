"""Who may see what: one guard per audience, and load-or-404 helpers for ids in URLs."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, contains_eager

from lms import lesson_view
from lms.models import (
    Attachment,
    Cohort,
    CohortModule,
    Enrollment,
    Invitation,
    LearnerFile,
    Lesson,
    LessonProgress,
    LiveSession,
    Media,
    Membership,
    MembershipRole,
    Module,
    PeerReply,
    Prompt,
    Reflection,
    Role,
    User,
)
from lms.visibility import (
    by_staff_cohort_learner,
    hidden_from_gallery,
    in_gallery,
    is_admin,
    member_cohort_ids,
    reflections_with_context,
    staff_cohorts,
    visible_reflection,
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
# prompts of modules they are enrolled in, reflections and files that are theirs.


def _or_404(value):
    if value is None:
        abort(404)
    return value


def _scalar_or_404(session: Session, statement):
    """The statement's one row, else 404."""
    return _or_404(session.scalar(statement))


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


def load_lesson_view(
    session: Session, user: User, module_slug: str, lesson_slug: str
) -> lesson_view.LessonView:
    """The learner's view of a current lesson of a module they may see, else 404."""
    view = lesson_view.read(session, user, module_slug, lesson_slug)
    if view is None or not view.visible:
        abort(404)
    return view


def load_prompt(session: Session, user: User, prompt_id: int) -> tuple[Prompt, Reflection | None]:
    """A current prompt of a lesson the user has opened, with their reflection on it, else 404.

    A lesson the user has not opened may be locked for them, or in a module they are
    not enrolled in: its prompts take no reflections and no files. The lesson and module are
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


def load_own_reflection(
    session: Session,
    user: User,
    *,
    prompt_id: int | None = None,
    reflection_id: int | None = None,
    submitted: bool = False,
) -> Reflection:
    """The user's own reflection, named by its prompt or its id, with its context, else 404.

    Archived prompts' reflections too (their history stays the learner's); ``submitted``
    asks for one submitted at least once (only those can be shared).
    """
    statement = (
        select(Reflection)
        .join(Reflection.prompt)
        .join(Prompt.lesson)
        .join(Lesson.module)
        .where(Reflection.user_id == user.id)
        .options(
            contains_eager(Reflection.prompt)
            .contains_eager(Prompt.lesson)
            .contains_eager(Lesson.module)
        )
    )
    if prompt_id is not None:
        statement = statement.where(Reflection.prompt_id == prompt_id)
    if reflection_id is not None:
        statement = statement.where(Reflection.id == reflection_id)
    if submitted:
        statement = statement.where(Reflection.submitted_at.is_not(None))
    return _scalar_or_404(session, statement)


def load_attachment(session: Session, user: User, attachment_id: int) -> Attachment:
    """An attachment of a module the user is enrolled in, of a lesson they have opened, else 404."""
    opened = exists().where(
        LessonProgress.lesson_id == Attachment.lesson_id, LessonProgress.user_id == user.id
    )
    return _scalar_or_404(
        session,
        select(Attachment)
        .join(Module, Module.id == Attachment.module_id)
        .join(Enrollment, _enrollment_of(user.id))
        .where(
            Attachment.id == attachment_id,
            Attachment.archived_at.is_(None),
            or_(Attachment.lesson_id.is_(None), opened),
        ),
    )


def load_own_file(session: Session, user: User, public_id: str) -> LearnerFile:
    """A learner file the user uploaded, else 404."""
    return _scalar_or_404(
        session, select(LearnerFile).filter_by(public_id=public_id, user_id=user.id)
    )


def load_learner_file(session: Session, user: User, public_id: str) -> LearnerFile:
    """A learner file the user may download, else 404.

    Its owner and admins may. A facilitator may when the file is on the owner's reflection
    to a prompt of a module that a cohort they facilitate works through, and the owner
    is a learner of that cohort (the inbox's rule). A file on no reflection is the owner's
    (and admins'). Facilitator memberships count only while the account has the
    facilitator role: demoting someone leaves their memberships in place.
    """
    statement = select(LearnerFile).where(LearnerFile.public_id == public_id)
    if user.role == Role.LEARNER:
        statement = statement.where(LearnerFile.user_id == user.id)
    elif user.role == Role.FACILITATOR:
        on_reflection = and_(
            Reflection.id == LearnerFile.reflection_id, Reflection.user_id == LearnerFile.user_id
        )
        statement = (
            statement.outerjoin(Reflection, on_reflection)
            .outerjoin(Prompt, Prompt.id == Reflection.prompt_id)
            .outerjoin(Lesson, Lesson.id == Prompt.lesson_id)
            .where(or_(LearnerFile.user_id == user.id, by_staff_cohort_learner(user)))
        )
    return _scalar_or_404(session, statement)


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


# --- Accounts, for the admin's pages ---------------------------------------------


def load_user(session: Session, user_id: int) -> User:
    """Anyone's account, for the admin's pages (the admin blueprint is guarded), else 404."""
    return _or_404(session.get(User, user_id))


# --- Cohorts and what is in them --------------------------------------------------


def load_staff_cohort(session: Session, user: User, cohort_id: int) -> Cohort:
    """The cohort if the user facilitates it (or is an admin), else 404."""
    return _scalar_or_404(session, staff_cohorts(user).where(Cohort.id == cohort_id))


def load_member_cohort(session: Session, user: User, cohort_id: int) -> Cohort:
    """The cohort if the user belongs to it in any role (or is an admin), else 404."""
    statement = select(Cohort).where(Cohort.id == cohort_id)
    if not is_admin(user):
        statement = statement.where(Cohort.id.in_(member_cohort_ids(user)))
    return _scalar_or_404(session, statement)


def load_own_membership(session: Session, user: User, cohort_id: int) -> Membership:
    """The user's own membership of the cohort, with the cohort, else 404 (admins too)."""
    return _scalar_or_404(
        session,
        select(Membership)
        .join(Membership.cohort)
        .where(Membership.cohort_id == cohort_id, Membership.user_id == user.id)
        .options(contains_eager(Membership.cohort)),
    )


def load_feed_membership(session: Session, cohort_id: int, token: str) -> Membership:
    """The membership whose calendar token this is, of an active account, else 404.

    The token is the whole credential of a feed URL (calendar apps cannot sign in);
    the cohort in the URL must be the membership's own.
    """
    return _scalar_or_404(
        session,
        select(Membership)
        .join(Membership.user)
        .join(Membership.cohort)
        .where(
            Membership.calendar_token == token,
            Membership.cohort_id == cohort_id,
            User.disabled_at.is_(None),
        )
        .options(contains_eager(Membership.cohort)),
    )


def load_live_session(session: Session, cohort: Cohort, live_session_id: int) -> LiveSession:
    """A live session of a cohort the caller has already loaded with a check, else 404."""
    statement = select(LiveSession).filter_by(id=live_session_id, cohort_id=cohort.id)
    return _scalar_or_404(session, statement)


def load_staff_reflection(session: Session, user: User, reflection_id: int) -> Reflection:
    """A submitted reflection of a learner in one of the user's cohorts, else 404."""
    statement = reflections_with_context().where(
        Reflection.id == reflection_id, visible_reflection(user)
    )
    return _scalar_or_404(session, statement)


def load_staff_learner(session: Session, user: User, cohort: Cohort, learner_id: int) -> User:
    """A learner of a cohort ``user`` runs, loaded with load_staff_cohort first, else 404."""
    return _scalar_or_404(
        session,
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id == learner_id,
            Membership.cohort_id == cohort.id,
            Membership.role == MembershipRole.LEARNER,
        ),
    )


def module_of_cohort(session: Session, cohort: Cohort, module_id: int) -> Module:
    """A module the (already checked) cohort works through, else 404."""
    return _scalar_or_404(
        session,
        select(Module)
        .join(CohortModule, CohortModule.module_id == Module.id)
        .where(CohortModule.cohort_id == cohort.id, Module.id == module_id),
    )


def load_gallery_reflection(session: Session, cohort: Cohort, reflection_id: int) -> Reflection:
    """A reflection shown in the (already checked) cohort's gallery, else 404."""
    from_gallery = select(Reflection).join(Reflection.prompt).join(Prompt.lesson)
    return _or_404(
        session.scalar(from_gallery.where(Reflection.id == reflection_id, in_gallery(cohort.id)))
    )


def load_invitation(session: Session, cohort: Cohort, invitation_id: int) -> Invitation:
    """An invitation not accepted yet, of a cohort the caller has loaded with a check, else 404."""
    return _scalar_or_404(
        session,
        select(Invitation).where(
            Invitation.id == invitation_id,
            Invitation.cohort_id == cohort.id,
            Invitation.accepted_at.is_(None),
        ),
    )


def load_hidden_reflection(session: Session, cohort: Cohort, reflection_id: int) -> Reflection:
    """A hidden reflection of the (already checked) cohort's gallery, else 404."""
    statement = select(Reflection).join(Reflection.prompt).join(Prompt.lesson)
    return _scalar_or_404(
        session, statement.where(Reflection.id == reflection_id, hidden_from_gallery(cohort.id))
    )


def load_peer_reply(session: Session, cohort: Cohort, reply_id: int) -> PeerReply:
    """A reply written in a cohort the caller has already loaded with a check, else 404."""
    return _scalar_or_404(session, select(PeerReply).filter_by(id=reply_id, cohort_id=cohort.id))
