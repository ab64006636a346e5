"""Every table of the product, typed. Timestamps are aware UTC and end in ``_at``.

Identity that must survive new versions of a module lives on ``Module``, ``Lesson``
and ``Prompt`` (matched by slug and by prompt key on import); what a version says is
copied onto them, and ``ModuleVersion`` keeps the record of each import.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from lms.db import NEVER_REUSE_IDS, Base, now_utc


def new_token() -> str:
    """A random, URL-safe token for sessions, join codes and public ids."""
    return secrets.token_urlsafe(24)


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as the value in a plain string column: portable, readable in SQL.
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(enum.StrEnum):
    LEARNER = "learner"
    FACILITATOR = "facilitator"
    ADMIN = "admin"


class Sequence(enum.StrEnum):
    LINEAR = "linear"
    OPEN = "open"


class MembershipRole(enum.StrEnum):
    LEARNER = "learner"
    FACILITATOR = "facilitator"


class ProgressStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"


class ReflectionState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ReviewState(enum.StrEnum):
    NEW = "new"
    REVIEWED = "reviewed"
    NEEDS_REPLY = "needs_reply"


# --- People -----------------------------------------------------------------


class User(Base):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint("role IN ('learner', 'facilitator', 'admin')", name="role"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.LEARNER)
    # Changes at logout, password change and disabling: every session and remember
    # cookie carries it, so changing it ends them all.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # Names the account where an id would be guessable or could outlive it: the browser
    # keys its copies of unsaved reflections by it, so they can never reach another account.
    public_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")
    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="user")

    # Flask-Login's user protocol, written out so the session id is the rotating token.
    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        """End every session and remember cookie of this account."""
        self.session_token = new_token()

    @staticmethod
    def matches(text: str) -> ColumnElement[bool]:
        """A filter for people whose email or name contains the text, in any case."""
        pattern = f"%{text.lower()}%"
        return or_(User.email.like(pattern), User.display_name.ilike(pattern))


class Throttle(Base):
    """Attempts counted per key in a window, shared by every worker and host.

    Keys name what is counted and for whom: failed sign-ins per account and per address,
    registrations per address, exports and downloads per account.
    """

    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what to which object, for admins and facilitators' actions."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_action_created_at", "action", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now_utc, index=True)

    actor: Mapped[User | None] = relationship()


# --- Modules and their content ---------------------------------------------


class Module(Base):
    """A course module: the stable identity behind every imported version."""

    __tablename__ = "module"
    __table_args__ = (
        CheckConstraint("sequence IN ('linear', 'open')", name="sequence"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(35), default="en")
    license: Mapped[str] = mapped_column(String(64), default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    estimated_minutes: Mapped[int] = mapped_column(default=0)
    sequence: Mapped[Sequence] = mapped_column(_enum(Sequence), default=Sequence.LINEAR)
    version: Mapped[str] = mapped_column(String(40))
    # Lessons that are not archived, kept on the row so the catalog needs no count query.
    lesson_count: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc)

    versions: WriteOnlyMapped[ModuleVersion] = relationship(
        back_populates="module", order_by="ModuleVersion.id"
    )
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position"
    )
    attachments: Mapped[list[Attachment]] = relationship(back_populates="module")


class ModuleVersion(Base):
    """One import of a module package: what was imported, when and by whom."""

    __tablename__ = "module_version"
    __table_args__ = (
        UniqueConstraint("module_id", "version"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(40))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    package_sha256: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime] = mapped_column(default=now_utc)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    module: Mapped[Module] = relationship(back_populates="versions")
    imported_by: Mapped[User | None] = relationship()


class Lesson(Base):
    """A lesson, matched by slug across versions; body_html is sanitised at import."""

    __tablename__ = "lesson"
    __table_args__ = (
        UniqueConstraint("module_id", "slug"),
        Index("ix_lesson_module_id_position", "module_id", "position"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(default=0)
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Archived lessons left the module in a later version: hidden, kept with their work.
    archived_at: Mapped[datetime | None]

    module: Mapped[Module] = relationship(back_populates="lessons")
    prompts: Mapped[list[Prompt]] = relationship(
        back_populates="lesson", order_by="Prompt.position"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="lesson", order_by="Attachment.position"
    )


class Prompt(Base):
    """A reflection prompt, matched by its key (the package's stable id)."""

    __tablename__ = "prompt"
    __table_args__ = (
        UniqueConstraint("lesson_id", "key"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_files: Mapped[bool] = mapped_column(Boolean, default=False)
    archived_at: Mapped[datetime | None]

    lesson: Mapped[Lesson] = relationship(back_populates="prompts")


class Attachment(Base):
    """A file of a module learners download; lesson_id is None for module-wide ones."""

    __tablename__ = "attachment"
    __table_args__ = (
        UniqueConstraint("module_id", "path"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None]

    module: Mapped[Module] = relationship(back_populates="attachments")
    lesson: Mapped[Lesson | None] = relationship(back_populates="attachments")


class Media(Base):
    """An image or sound shown inside a lesson, stored by content hash.

    ``width`` and ``height`` are an image's size as shown (upright), when it could be
    read; ``variants`` are its smaller copies for narrow screens, narrowest first.
    """

    __tablename__ = "media"
    __table_args__ = (
        UniqueConstraint("module_id", "path"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]

    variants: Mapped[list[MediaVariant]] = relationship(
        back_populates="media",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="MediaVariant.width",
    )


class MediaVariant(Base):
    """A web-sized copy of a lesson image (made at import), stored by content hash."""

    __tablename__ = "media_variant"
    __table_args__ = (
        UniqueConstraint("media_id", "width"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    width: Mapped[int]
    height: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    media: Mapped[Media] = relationship(back_populates="variants")


# --- Learning ---------------------------------------------------------------


class Enrollment(Base):
    __tablename__ = "enrollment"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=now_utc)
    # Where the learner left off, for "Continue".
    last_lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lesson.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="enrollments")
    module: Mapped[Module] = relationship()
    last_lesson: Mapped[Lesson | None] = relationship()


class LessonProgress(Base):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id"),
        Index("ix_lesson_progress_lesson_id_status", "lesson_id", "status"),
        CheckConstraint("status IN ('in_progress', 'complete')", name="status"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    status: Mapped[ProgressStatus] = mapped_column(
        _enum(ProgressStatus), default=ProgressStatus.IN_PROGRESS
    )
    first_opened_at: Mapped[datetime] = mapped_column(default=now_utc)
    last_visited_at: Mapped[datetime] = mapped_column(default=now_utc)
    completed_at: Mapped[datetime | None]


class AttachmentDownload(Base):
    """A learner downloaded an attachment: part of their progress."""

    __tablename__ = "attachment_download"
    __table_args__ = (
        UniqueConstraint("user_id", "attachment_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), index=True
    )
    first_downloaded_at: Mapped[datetime] = mapped_column(default=now_utc)
    last_downloaded_at: Mapped[datetime] = mapped_column(default=now_utc)
    count: Mapped[int] = mapped_column(default=1)


class Reflection(Base):
    """A learner's reflection on a prompt; its text lives in its revisions."""

    __tablename__ = "reflection"
    __table_args__ = (
        UniqueConstraint("user_id", "prompt_id"),
        Index("ix_reflection_prompt_id_submitted_at", "prompt_id", "submitted_at"),
        Index("ix_reflection_review_state_submitted_at", "review_state", "submitted_at"),
        # The inbox: reflections submitted at least once, newest first.
        Index("ix_reflection_submitted_at_id", "submitted_at", "id"),
        Index("ix_reflection_prompt_id_shared_at", "prompt_id", "shared_at"),
        CheckConstraint("state IN ('draft', 'submitted')", name="state"),
        CheckConstraint("review_state IN ('new', 'reviewed', 'needs_reply')", name="review_state"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompt.id", ondelete="CASCADE"))
    state: Mapped[ReflectionState] = mapped_column(
        _enum(ReflectionState), default=ReflectionState.DRAFT
    )
    # The newest revision's number: a save based on another number is a conflict.
    revision_count: Mapped[int] = mapped_column(default=0)
    current_body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc)
    submitted_at: Mapped[datetime | None]
    # What facilitators and the cohort read: the last submitted text, which stays while
    # the learner drafts changes on top of it (drafts are the learner's own).
    submitted_revision: Mapped[int | None]
    submitted_body: Mapped[str | None] = mapped_column(Text)
    review_state: Mapped[ReviewState] = mapped_column(_enum(ReviewState), default=ReviewState.NEW)
    reviewed_at: Mapped[datetime | None]
    # Peer sharing: never by default, withdrawable; facilitators may hide it.
    shared_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    prompt: Mapped[Prompt] = relationship()
    revisions: WriteOnlyMapped[ReflectionRevision] = relationship(
        back_populates="reflection", order_by="ReflectionRevision.number"
    )


class ReflectionRevision(Base):
    """Every saved text of a reflection, never changed or deleted while the learner exists."""

    __tablename__ = "reflection_revision"
    __table_args__ = (
        UniqueConstraint("reflection_id", "number"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reflection_id: Mapped[int] = mapped_column(ForeignKey("reflection.id", ondelete="CASCADE"))
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The prompt text this revision answered, kept if the prompt changes later.
    prompt_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    reflection: Mapped[Reflection] = relationship(back_populates="revisions")


class Feedback(Base):
    """A facilitator's answer to a reflection; body_html is sanitised when written."""

    __tablename__ = "feedback"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    reflection_id: Mapped[int] = mapped_column(
        ForeignKey("reflection.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revision_number: Mapped[int]
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    read_at: Mapped[datetime | None]

    reflection: Mapped[Reflection] = relationship()
    author: Mapped[User | None] = relationship()


class PeerReply(Base):
    """A cohort member's short reply to a shared reflection."""

    __tablename__ = "peer_reply"
    __table_args__ = (
        Index("ix_peer_reply_reflection_id_created_at", "reflection_id", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reflection_id: Mapped[int] = mapped_column(ForeignKey("reflection.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])


class LearnerFile(Base):
    """A file a learner uploaded, stored under a path built from its id."""

    __tablename__ = "learner_file"
    __table_args__ = (
        Index("ix_learner_file_user_id_created_at", "user_id", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, so a file's URL cannot be guessed from another's.
    public_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    reflection_id: Mapped[int | None] = mapped_column(
        ForeignKey("reflection.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    user: Mapped[User] = relationship()


# --- Cohorts ----------------------------------------------------------------


class Cohort(Base):
    __tablename__ = "cohort"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    join_code: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    archived_at: Mapped[datetime | None]

    memberships: WriteOnlyMapped[Membership] = relationship(back_populates="cohort")
    modules: Mapped[list[Module]] = relationship(secondary="cohort_module", order_by="Module.title")
    live_sessions: Mapped[list[LiveSession]] = relationship(
        back_populates="cohort", order_by="LiveSession.starts_at"
    )


class CohortModule(Base):
    __tablename__ = "cohort_module"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True
    )
    module_id: Mapped[int] = mapped_column(
        ForeignKey("module.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id"),
        Index("ix_membership_cohort_id_role", "cohort_id", "role"),
        CheckConstraint("role IN ('learner', 'facilitator')", name="role"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[MembershipRole] = mapped_column(
        _enum(MembershipRole), default=MembershipRole.LEARNER
    )
    joined_at: Mapped[datetime] = mapped_column(default=now_utc)
    # The secret of the member's calendar feed URL: replaced when they reset it and when
    # their sessions end; gone when they leave.
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)

    cohort: Mapped[Cohort] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class Invitation(Base):
    """An invitation to a cohort, for one email address, with or without an account.

    Only the account with that address may accept it (or decline it); nobody joins a
    cohort without saying yes.
    """

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("cohort_id", "email"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Sent (or sent again) at: the link works for a limited time from then.
    invited_at: Mapped[datetime] = mapped_column(default=now_utc)
    accepted_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]

    cohort: Mapped[Cohort] = relationship()
    invited_by: Mapped[User | None] = relationship()


class LiveSession(Base):
    """A scheduled workshop or panel of a cohort; starts_at is UTC, time_zone is the host's."""

    __tablename__ = "live_session"
    __table_args__ = (
        Index("ix_live_session_cohort_id_starts_at", "cohort_id", "starts_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    join_url: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now_utc)

    cohort: Mapped[Cohort] = relationship(back_populates="live_sessions")
