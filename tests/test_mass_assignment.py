"""Mass assignment: fields a form does not have are ignored.

Each action is sent with its valid form plus fields naming columns it must not touch;
the action happens (so the form was accepted) and those columns keep their values. The
world is the access matrix's (tests/access_world.py).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from lms.models import (
    Cohort,
    Enrollment,
    Feedback,
    Invitation,
    LearnerFile,
    Lesson,
    LessonProgress,
    LiveSession,
    Membership,
    MembershipRole,
    PeerReply,
    ProgressStatus,
    Reflection,
    ReflectionState,
    ReviewState,
    Role,
    User,
)
from tests.access_world import build_access_world, form, send

# The forged ids name learner B and cohort B (number 2 of each in a fresh world).
FORGED = {
    "id": "1",
    "user_id": "2",
    "learner_id": "2",
    "author_id": "2",
    "cohort_id": "2",
    "role": "admin",
    "is_admin": "y",
    "completed": "y",
    "completed_at": "2020-01-01T00:00:00",
    "version": "99",
    "state": "submitted",
    "review_state": "reviewed",
    "revision_count": "99",
    "session_token": "forged",
    "disabled_at": "2020-01-01T00:00:00",
    "hidden_at": "",
    "shared_at": "",
    "join_code": "forged",
    "created_by_id": "2",
    "archived_at": "2020-01-01T00:00:00",
    "email": "forged@example.org",
    "display_name": "Forged",
}


def _forged(prefix: str = "", **real: Any) -> dict[str, Any]:
    """The forged fields (also under a form's prefix), then the form's real fields."""
    prefixed = {f"{prefix}{name}": value for name, value in FORGED.items()} if prefix else {}
    return {**FORGED, **prefixed, **real}


def _row(db: Session, model, **where) -> SimpleNamespace:
    """The values of the one row that matches, as they are now."""
    row = db.scalars(select(model).filter_by(**where)).one()
    values = {c.key: getattr(row, c.key) for c in inspect(model).column_attrs}
    db.commit()  # end the read: on SQLite it would hold the app's writes back
    return SimpleNamespace(**values)


def _posts(app, db, world, actor, url, data) -> None:
    got, location = send(app, db, world, actor, "POST", url, data)
    assert got == 302, (url, got, location)


def test_a_learner_cannot_set_what_their_forms_do_not_offer(app, db, tmp_path):
    world = build_access_world(app, db, tmp_path, uploads=False)
    a, b = world.users["learner_a"], world.users["learner_b"]
    ids = world.ids
    assert (b, ids["other_cohort"]) == (2, 2)  # what FORGED names
    b_before = _row(db, User, id=b)

    # Registering: a learner, active, with a session token of the app's making.
    _posts(app, db, world, "anonymous", "/register", _forged(**form("accounts.register", world)))
    newcomer = _row(db, User, email="newcomer@example.org")
    assert (newcomer.role, newcomer.disabled_at, newcomer.display_name) == (
        Role.LEARNER,
        None,
        "Newcomer",
    )
    assert newcomer.session_token != "forged"

    # Changing a password changes only the signed-in learner's password.
    data = _forged(**form("accounts.change_password", world))
    _posts(app, db, world, "learner_a", "/account/password", data)
    learner_a = _row(db, User, id=a)
    assert (learner_a.role, learner_a.email, learner_a.display_name) == (
        Role.LEARNER,
        world.ids["learner_email"],
        "Learner 1",
    )
    assert learner_a.disabled_at is None
    assert _row(db, User, id=b).password_hash == b_before.password_hash

    # Saving an answer: a new draft of her own answer, still hidden, still unreviewed.
    prompt = ids["prompt_id"]
    data = _forged(f"p{prompt}-", **form("learner.save_reflection", world))
    _posts(app, db, world, "learner_a", f"/prompts/{prompt}/answer", data)
    answer = _row(db, Reflection, prompt_id=prompt, user_id=a)
    assert (answer.current_body, answer.revision_count) == ("A new thought", 2)
    assert (answer.state, answer.review_state) == (ReflectionState.DRAFT, ReviewState.NEW)
    assert answer.hidden_at is not None
    assert db.scalars(select(Reflection).filter_by(prompt_id=prompt, user_id=b)).all() == []

    # Completing lesson 1 completes her lesson 1: not lesson 2, not the module.
    _posts(app, db, world, "learner_b", "/modules/wellness/lessons/lesson-1/complete", _forged())
    lesson_1, lesson_2 = _row(db, Lesson, slug="lesson-1"), _row(db, Lesson, slug="lesson-2")
    done = _row(db, LessonProgress, user_id=b, lesson_id=lesson_1.id)
    assert done.status == ProgressStatus.COMPLETE
    assert (
        db.scalars(select(LessonProgress).filter_by(user_id=b, lesson_id=lesson_2.id)).all() == []
    )
    assert _row(db, Enrollment, user_id=b).completed_at is None

    # Joining cohort C by its code makes her a learner of cohort C and of nothing else.
    _posts(app, db, world, "learner_b", "/cohorts/join", _forged(code=ids["join_code"]))
    memberships = sorted(
        db.execute(select(Membership.cohort_id, Membership.role).filter_by(user_id=b))
    )
    db.commit()
    assert memberships == [
        (ids["other_cohort"], MembershipRole.LEARNER),
        (ids["open_cohort"], MembershipRole.LEARNER),
    ]

    # A reply is hers, in cohort A, visible.
    url = f"/cohorts/{ids['cohort_id']}/gallery/{ids['reflection_id']}/replies"
    _posts(app, db, world, "learner_a", url, _forged(body="So true"))
    reply = _row(db, PeerReply, body="So true")
    assert (reply.author_id, reply.cohort_id, reply.hidden_at) == (a, ids["cohort_id"], None)

    # An uploaded file is hers, on her answer.
    data = _forged(f"u{prompt}-", **form("learner.upload_files", world))
    _posts(app, db, world, "learner_a", f"/prompts/{prompt}/answer/files", data)
    upload = _row(db, LearnerFile, filename="more.txt")
    assert (upload.user_id, upload.reflection_id) == (a, answer.id)


def test_staff_cannot_set_what_their_forms_do_not_offer(app, db, tmp_path):
    world = build_access_world(app, db, tmp_path, uploads=False)
    ids, facilitator = world.ids, world.users["facilitator_a"]
    cohort = f"/facilitate/cohorts/{ids['cohort_id']}"
    live_session_before = _row(db, LiveSession, id=ids["live_session_id"])

    # A live session stays in its cohort with its calendar uid.
    data = _forged(**form("facilitator.edit_live_session", world))
    _posts(
        app, db, world, "facilitator_a", f"{cohort}/sessions/{ids['live_session_id']}/edit", data
    )
    live_session = _row(db, LiveSession, id=ids["live_session_id"])
    assert (live_session.cohort_id, live_session.uid) == (ids["cohort_id"], live_session_before.uid)
    assert live_session.time_zone == "Africa/Nairobi"

    # A new one goes to the cohort of the URL.
    data = _forged(**{**form("facilitator.new_live_session", world), "title": "Second"})
    _posts(app, db, world, "facilitator_a", f"{cohort}/sessions/new", data)
    assert _row(db, LiveSession, title="Second").cohort_id == ids["cohort_id"]

    # Feedback is the facilitator's, on the answer of the URL, unread.
    url = f"/facilitate/reflections/{ids['reflection_id']}/feedback"
    _posts(app, db, world, "facilitator_a", url, _forged(body="Well seen", read_at="2020-01-01"))
    feedback = _row(db, Feedback, body_markdown="Well seen")
    assert (feedback.author_id, feedback.reflection_id) == (facilitator, ids["reflection_id"])
    assert (feedback.read_at, feedback.revision_number) == (None, 1)

    # Adding an existing account invites it; accepting makes it a learner, whatever the
    # forms say.
    learner_b = _row(db, User, id=world.users["learner_b"])
    _posts(
        app, db, world, "facilitator_a", f"{cohort}/members/add", _forged(emails=learner_b.email)
    )
    invitation = _row(db, Invitation, cohort_id=ids["cohort_id"], email=learner_b.email)
    assert (invitation.invited_by_id, invitation.accepted_at) == (facilitator, None)
    _posts(app, db, world, "learner_b", f"/invitations/{invitation.token}", _forged())
    added = _row(db, Membership, cohort_id=ids["cohort_id"], user_id=learner_b.id)
    assert added.role == MembershipRole.LEARNER
    assert _row(db, User, id=learner_b.id).role == Role.LEARNER


def test_an_admin_form_changes_only_its_own_fields(app, db, tmp_path):
    world = build_access_world(app, db, tmp_path, uploads=False)
    ids, admin = world.ids, world.users["admin"]
    before = _row(db, User, id=world.users["learner_a"])
    cohort_before = _row(db, Cohort, id=ids["cohort_id"])

    # The person form changes the role and nothing else of the account.
    data = _forged(role="facilitator")
    _posts(app, db, world, "admin", f"/admin/people/{before.id}", data)
    after = _row(db, User, id=before.id)
    assert after.role == Role.FACILITATOR
    unchanged = ("email", "display_name", "disabled_at", "session_token", "password_hash")
    assert [getattr(after, f) for f in unchanged] == [getattr(before, f) for f in unchanged]

    # The cohort form keeps the join code, the creator, and the cohort open.
    data = _forged(**form("admin.edit_cohort", world))
    _posts(app, db, world, "admin", f"/admin/cohorts/{ids['cohort_id']}/edit", data)
    cohort = _row(db, Cohort, id=ids["cohort_id"])
    assert (cohort.join_code, cohort.created_by_id) == (
        cohort_before.join_code,
        cohort_before.created_by_id,
    )
    assert cohort.archived_at is None

    # A new cohort is the admin's, with a join code of the app's making.
    _posts(app, db, world, "admin", "/admin/cohorts/new", _forged(name="Cohort D"))
    new = _row(db, Cohort, name="Cohort D")
    assert (new.created_by_id, new.archived_at) == (admin, None)
    assert new.join_code != "forged"
