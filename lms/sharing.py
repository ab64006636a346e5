"""Peer sharing: a learner shares a submitted reflection with their cohorts, members reply,
facilitators hide what should not be there.

A reflection is shared with every cohort of its author that works through its module;
never by default, and withdrawn at any time. Functions take the session and the acting
user, flush, and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from lms import audit
from lms.db import now_utc
from lms.html import render_markdown
from lms.models import (
    Cohort,
    CohortModule,
    Lesson,
    Membership,
    MembershipRole,
    PeerReply,
    Prompt,
    Reflection,
    Role,
    User,
)
from lms.visibility import hidden_from_gallery, in_gallery, is_admin, reflections_with_context

REPLY_MAX_LENGTH = 1000


class NotShareableError(ValueError):
    """Only one's own submitted reflections can be shared."""


def may_moderate(session: Session, user: User, cohort: Cohort) -> bool:
    """Admins, and facilitators of this cohort who still hold the facilitator role."""
    if is_admin(user):
        return True
    if user.role != Role.FACILITATOR:
        return False  # demoted: the cohort still lists them, the moderation routes do not
    role = session.scalar(
        select(Membership.role).where(
            Membership.cohort_id == cohort.id, Membership.user_id == user.id
        )
    )
    return role == MembershipRole.FACILITATOR


def gallery(cohort: Cohort, prompt_id: int | None = None) -> Select:
    """The cohort's shared reflections, by prompt in course order, newest share first."""
    statement = reflections_with_context().where(in_gallery(cohort.id))
    if prompt_id is not None:
        statement = statement.where(Reflection.prompt_id == prompt_id)
    return statement.order_by(
        Lesson.module_id,
        Lesson.position,
        Prompt.position,
        Reflection.shared_at.desc(),
        Reflection.id.desc(),
    )


def replies_to(
    session: Session, cohort: Cohort, reflections: Sequence[Reflection]
) -> dict[int, list[PeerReply]]:
    """The visible replies written in the cohort to these reflections, oldest first (one query)."""
    grouped: dict[int, list[PeerReply]] = defaultdict(list)
    if not reflections:
        return grouped
    replies = session.scalars(
        select(PeerReply)
        .options(joinedload(PeerReply.author))
        .where(
            PeerReply.cohort_id == cohort.id,
            PeerReply.reflection_id.in_([r.id for r in reflections]),
            PeerReply.hidden_at.is_(None),
        )
        .order_by(PeerReply.created_at, PeerReply.id)
    )
    for reply in replies:
        grouped[reply.reflection_id].append(reply)
    return grouped


def shareable(session: Session, user: User, cohort: Cohort) -> list[Reflection]:
    """The user's submitted reflections on the cohort's modules that are not shared yet."""
    statement = (
        reflections_with_context()
        .join(CohortModule, CohortModule.module_id == Lesson.module_id)
        .where(
            CohortModule.cohort_id == cohort.id,
            Reflection.user_id == user.id,
            Reflection.submitted_at.is_not(None),
            Reflection.shared_at.is_(None),
            Reflection.hidden_at.is_(None),
        )
        .order_by(Lesson.module_id, Lesson.position, Prompt.position)
    )
    return list(session.scalars(statement))


def share(session: Session, user: User, reflection: Reflection) -> None:
    """Share the user's own submitted reflection with their cohorts."""
    if reflection.user_id != user.id or reflection.submitted_at is None:
        raise NotShareableError
    if reflection.shared_at is None:
        reflection.shared_at = now_utc()
    session.flush()


def withdraw(session: Session, user: User, reflection: Reflection) -> None:
    """Stop sharing the user's reflection; replies stay hidden with it until shared again."""
    if reflection.user_id != user.id:
        raise NotShareableError
    reflection.shared_at = None
    session.flush()


def reply(
    session: Session, user: User, cohort: Cohort, reflection: Reflection, text: str
) -> PeerReply:
    """A member's short reply, in light Markdown, to a reflection in the cohort's gallery."""
    peer_reply = PeerReply(
        reflection_id=reflection.id,
        cohort_id=cohort.id,
        author_id=user.id,
        body=text,
        body_html=render_markdown(text),
    )
    session.add(peer_reply)
    session.flush()
    return peer_reply


def hide_reflection(session: Session, actor: User, cohort: Cohort, reflection: Reflection) -> None:
    """Take a shared reflection out of every gallery (moderation); audited."""
    reflection.hidden_at = now_utc()
    reflection.hidden_by_id = actor.id
    audit.record(session, actor, "reflection.hidden", reflection, cohort_id=cohort.id)
    session.flush()


def hide_reply(session: Session, actor: User, peer_reply: PeerReply) -> None:
    """Take a reply out of the gallery (moderation); audited."""
    peer_reply.hidden_at = now_utc()
    peer_reply.hidden_by_id = actor.id
    audit.record(session, actor, "peer_reply.hidden", peer_reply, cohort_id=peer_reply.cohort_id)
    session.flush()


def hidden_reflections(cohort: Cohort) -> Select:
    """Answers a moderator hid from the cohort's gallery, most recently hidden first."""
    return (
        reflections_with_context()
        .where(hidden_from_gallery(cohort.id))
        .order_by(Reflection.hidden_at.desc(), Reflection.id.desc())
    )


def hidden_replies(cohort: Cohort) -> Select:
    """Replies a moderator hid in the cohort, most recently hidden first."""
    return (
        select(PeerReply)
        .options(joinedload(PeerReply.author))
        .where(PeerReply.cohort_id == cohort.id, PeerReply.hidden_at.is_not(None))
        .order_by(PeerReply.hidden_at.desc(), PeerReply.id.desc())
    )


def show_reflection(session: Session, actor: User, cohort: Cohort, reflection: Reflection) -> None:
    """Undo a hide: the reflection shows again wherever its author shares it; audited."""
    reflection.hidden_at = None
    reflection.hidden_by_id = None
    audit.record(session, actor, "reflection.shown", reflection, cohort_id=cohort.id)
    session.flush()


def show_reply(session: Session, actor: User, peer_reply: PeerReply) -> None:
    """Undo a hide of a reply; audited."""
    peer_reply.hidden_at = None
    peer_reply.hidden_by_id = None
    audit.record(session, actor, "peer_reply.shown", peer_reply, cohort_id=peer_reply.cohort_id)
    session.flush()
