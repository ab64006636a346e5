"""The access matrix's world: a real object behind every id in the app's URLs.

Two cohorts work through the module "wellness" (two lessons, one prompt each that
takes files, an attachment per lesson, an image):

- cohort A: learner A and facilitator A. Learner A finished the module: both answers
  submitted, the first shared in the gallery, the second shared and then hidden by
  facilitator A, a learner file on the second. The gallery has a reply by
  facilitator A and a hidden one by learner A. A live session, an invitation.
- cohort B: learner B and facilitator B. Learner B opened lesson 1 only and submitted
  its answer, so lesson 2, its prompt and its attachment are not yet hers.
- cohort C: open to join, with an invitation to a guest; nobody is in it.

There is an admin, an account with a password reset link, and two module packages
the admin uploaded (one to confirm, one to cancel).

``url_of`` names a route's URL with the world's objects behind it, ``send`` asks for it as
one of the ACTORS in a fresh browser, and ``outcome`` says what the answer was: a status,
or LOGIN for a redirect to sign in that comes back.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
from flask import Flask, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from lms import learner_files
from lms.db import now_utc
from lms.models import (
    Attachment,
    Enrollment,
    Invitation,
    LessonProgress,
    LiveSession,
    Membership,
    PeerReply,
    ProgressStatus,
    Role,
    User,
)
from lms.people import credentials
from lms.storage import Storage
from tests.conftest import PASSWORD, csrf_token
from tests.factories import make_cohort, make_module, make_reflection, make_users
from tests.fixtures.packages.kit import MINIMAL, zip_folder
from tests.world import World, signed_in

# The test password under few pbkdf2 rounds: werkzeug checks any method it names.
QUICK_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

ACTORS = ("anonymous", "learner_a", "learner_b", "facilitator_a", "facilitator_b", "admin")


def _csrf(app: Flask) -> tuple[str, str]:
    """A CSRF secret for a session and its signed token, as Flask-WTF makes them."""
    with app.test_request_context():
        token = generate_csrf()
        return flask.session["csrf_token"], token


def _progress(db: Session, user: User, lesson, complete: bool) -> None:
    status = ProgressStatus.COMPLETE if complete else ProgressStatus.IN_PROGRESS
    db.add(
        LessonProgress(
            user_id=user.id,
            lesson_id=lesson.id,
            status=status,
            completed_at=now_utc() if complete else None,
        )
    )


def _upload_package(app: Flask, db: Session, admin: User, package_zip: bytes) -> str:
    """Upload a package through the admin's page; returns the import token."""
    client = signed_in(app, db, admin.id)
    response = client.post(
        "/admin/modules/import",
        data={
            "package": (io.BytesIO(package_zip), "package.zip"),
            "csrf_token": csrf_token(client, "/admin/modules"),
        },
        content_type="multipart/form-data",
    )
    match = re.search(r"/admin/modules/import/([A-Za-z0-9_-]+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return match.group(1)


def build_access_world(app: Flask, db: Session, tmp_path: Path, uploads: bool = True) -> World:
    """Every object of the module docstring, committed (the uploads only if asked)."""
    data_dir = app.config["LMS_DATA_DIR"]
    roles = [Role.LEARNER, Role.LEARNER, Role.FACILITATOR, Role.FACILITATOR, Role.ADMIN]
    people = make_users(db, *roles, Role.LEARNER)
    learner_a, learner_b, facilitator_a, facilitator_b, admin, forgetful = people
    for person in people:
        # Checked dozens of times per world: scrypt's cost is not what the matrix tests.
        person.password_hash = QUICK_PASSWORD_HASH
    module = make_module(
        db,
        slug="wellness",
        lessons=2,
        prompts=[{"accepts_files": True}],
        attachments=1,
        media=True,
        data_dir=data_dir,
    )
    lesson_1, lesson_2 = module.lessons
    prompt_1, prompt_2 = lesson_1.prompts[0], lesson_2.prompts[0]
    attachment_2 = db.scalar(select(Attachment).where(Attachment.lesson_id == lesson_2.id))
    cohort_a = make_cohort(db, "Cohort A", [module], [facilitator_a], [learner_a])
    cohort_b = make_cohort(db, "Cohort B", [module], [facilitator_b], [learner_b])
    cohort_c = make_cohort(db, "Cohort C")

    # Learner A finished the module; learner B opened its first lesson.
    db.add(
        Enrollment(
            user_id=learner_a.id,
            module_id=module.id,
            last_lesson_id=lesson_2.id,
            completed_at=now_utc(),
        )
    )
    _progress(db, learner_a, lesson_1, complete=True)
    _progress(db, learner_a, lesson_2, complete=True)
    db.add(Enrollment(user_id=learner_b.id, module_id=module.id, last_lesson_id=lesson_1.id))
    _progress(db, learner_b, lesson_1, complete=False)
    db.commit()
    answer = make_reflection(db, learner_a, prompt_1, "What I learned about listening")
    hidden_reflection = make_reflection(db, learner_a, prompt_2, "What I fear at home")
    make_reflection(db, learner_b, prompt_1, "Learner B's answer")
    answer.shared_at = hidden_reflection.shared_at = now_utc()
    hidden_reflection.hidden_at, hidden_reflection.hidden_by_id = now_utc(), facilitator_a.id
    learner_file = learner_files.add_file(
        db,
        learner_a,
        hidden_reflection,
        io.BytesIO(b"My notes from the circle\n"),
        "notes.txt",
        storage=Storage(Path(data_dir)),
        limits=learner_files.Limits(max_bytes=1_000_000, quota_bytes=10_000_000),
    )
    reply = PeerReply(
        reflection_id=answer.id,
        cohort_id=cohort_a.id,
        author_id=facilitator_a.id,
        body="Thank you",
        body_html="<p>Thank you</p>",
    )
    hidden_reply = PeerReply(
        reflection_id=answer.id,
        cohort_id=cohort_a.id,
        author_id=learner_a.id,
        body="A reply hidden by a moderator",
        body_html="<p>A reply hidden by a moderator</p>",
        hidden_at=now_utc(),
        hidden_by_id=facilitator_a.id,
    )
    live_session = LiveSession(
        cohort_id=cohort_a.id,
        title="Listening circle",
        starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=7),
    )
    invitation = Invitation(cohort_id=cohort_a.id, email="invitee@example.org")
    to_b = Invitation(cohort_id=cohort_b.id, email=learner_a.email, invited_by_id=facilitator_b.id)
    to_c = Invitation(cohort_id=cohort_c.id, email=learner_a.email)
    db.add_all([reply, hidden_reply, live_session, invitation, to_b, to_c])
    db.commit()

    package_zip = zip_folder(MINIMAL, tmp_path / "package.zip", top="listening-circles")
    package_bytes = package_zip.read_bytes()
    users = {
        "learner_a": learner_a.id,
        "learner_b": learner_b.id,
        "facilitator_a": facilitator_a.id,
        "facilitator_b": facilitator_b.id,
        "admin": admin.id,
    }
    ids = {
        # The module, its lesson 2 (learner A's, locked for B) and what hangs off it.
        "slug": module.slug,
        "lesson_slug": lesson_2.slug,
        "module_id": module.id,
        "prompt_id": prompt_2.id,
        "attachment_id": attachment_2.id,
        "module_slug": module.slug,
        "path": "map.png",
        "filename": "css/site.css",
        # Learner A's work and cohort A's objects.
        "public_id": learner_file.public_id,
        "reflection_id": answer.id,
        "hidden_reflection": hidden_reflection.id,
        "cohort_id": cohort_a.id,
        "other_cohort": cohort_b.id,
        "open_cohort": cohort_c.id,
        "live_session_id": live_session.id,
        "invitation_id": invitation.id,
        "reply_id": reply.id,
        "hidden_reply": hidden_reply.id,
        "user_id": learner_a.id,
        "kind": "answers",
        # Tokens: each is the whole credential of its page.
        "feed_token": db.scalar(
            select(Membership.calendar_token).filter_by(cohort_id=cohort_a.id, user_id=learner_a.id)
        ),
        "invitation_token": to_b.token,
        "invitation_to_decline": to_c.token,
        "join_code": cohort_c.join_code,
        "reset_token": credentials.make_reset_token(app.config, forgetful),
        # For forms.
        "learner_email": learner_a.email,
        "facilitator_a": facilitator_a.id,
    }
    if uploads:
        ids["import_token"] = _upload_package(app, db, admin, package_bytes)
        ids["import_token_to_cancel"] = _upload_package(app, db, admin, package_bytes)
    db.commit()
    secret, token = _csrf(app)
    return World(users, ids, package_zip=package_bytes, csrf_secret=secret, csrf_token=token)


# --- Valid forms for the POST routes --------------------------------------------------
# Each POST is sent with a form its view accepts, so an allowed actor's answer is the
# action's real answer (a redirect), not a validation error. Routes not named here take
# just the CSRF token (a confirm button).

_NEW_PASSWORD = {"password": PASSWORD, "confirm": PASSWORD}
_LIVE_SESSION = {
    "title": "Listening circle",
    "day": "2027-01-15",
    "start": "18:00",
    "time_zone": "Africa/Nairobi",
    "duration_minutes": "90",
}


def _reflection_form(w: World) -> dict[str, Any]:
    p = w.ids["prompt_id"]
    return {f"p{p}-body": "A new thought", f"p{p}-revision": "1"}


def _upload(w: World) -> dict[str, Any]:
    return {f"u{w.ids['prompt_id']}-files": (io.BytesIO(b"More notes\n"), "more.txt")}


def _cohort(w: World) -> dict[str, Any]:
    return {
        "name": "Cohort A",
        "modules": [str(w.ids["module_id"])],
        "facilitators": [str(w.ids["facilitator_a"])],
    }


FORMS: dict[str, Callable[[World], dict[str, Any]]] = {
    "accounts.register": lambda w: {
        "display_name": "Newcomer",
        "email": "newcomer@example.org",
        **_NEW_PASSWORD,
    },
    "accounts.login": lambda w: {"email": w.ids["learner_email"], "password": PASSWORD},
    "accounts.change_password": lambda w: {"current_password": PASSWORD, **_NEW_PASSWORD},
    "accounts.reset_request": lambda w: {"email": w.ids["learner_email"]},
    "accounts.reset_password": lambda w: _NEW_PASSWORD,
    "learner.save_reflection": _reflection_form,
    "learner.save_lesson": lambda w: {**_reflection_form(w), f"p{w.ids['prompt_id']}-save": "y"},
    "learner.upload_files": _upload,
    "learner.join_cohort": lambda w: {"code": w.ids["join_code"]},
    "learner.reply": lambda w: {"body": "Thank you for sharing"},
    "accounts.delete_account": lambda w: {"password": PASSWORD, "understood": "y"},
    "facilitator.add_members": lambda w: {"emails": "friend@example.org"},
    "facilitator.new_live_session": lambda w: _LIVE_SESSION,
    "facilitator.edit_live_session": lambda w: _LIVE_SESSION,
    "facilitator.give_feedback": lambda w: {"body": "Thank you, well seen."},
    "facilitator.review_state": lambda w: {"state": "reviewed"},
    "facilitator.new_cohort": lambda w: {"name": "Cohort D"},
    "admin.new_cohort": lambda w: {"name": "Cohort D"},
    "admin.edit_cohort": _cohort,
    "admin.person": lambda w: {"role": "learner"},
    "admin.upload_package": lambda w: {"package": (io.BytesIO(w.package_zip), "package.zip")},
}


def form(endpoint: str, world: World) -> dict[str, Any]:
    """A valid form for the route's POST (without its CSRF token)."""
    return FORMS[endpoint](world) if endpoint in FORMS else {}


# --- Asking for the world's objects: a URL per route, an answer per request ----------

LOGIN = "login"  # the answer "a redirect to sign in that comes back here" (see outcome)
FORM_PAGE = "/my-work"  # where every POST of the matrix says it was sent from (its Referer)

# URL arguments are the world's objects of the same name; these routes name others.
ARGUMENTS: dict[str, dict[str, str]] = {
    "accounts.reset_password": {"token": "reset_token"},
    "learner.accept_invitation": {"token": "invitation_token"},
    "learner.decline_invitation": {"token": "invitation_to_decline"},
    "learner.cohort_feed": {"token": "feed_token"},
    "facilitator.show_shared_reflection": {"reflection_id": "hidden_reflection"},
    "facilitator.show_reply": {"reply_id": "hidden_reply"},
    "admin.import_preview": {"token": "import_token"},
    "admin.import_status": {"token": "import_token"},
    "admin.confirm_import": {"token": "import_token"},
    "admin.cancel_import": {"token": "import_token_to_cancel"},
}


def app_routes(app: Flask) -> set[tuple[str, str]]:
    """Every (endpoint, method) the app answers, without the automatic HEAD and OPTIONS."""
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def url_of(app: Flask, world: World, endpoint: str, overrides: dict | None = None) -> str:
    """The route's URL with the world's objects behind every argument."""
    names = {**ARGUMENTS.get(endpoint, {}), **(overrides or {})}
    (rule,) = app.url_map.iter_rules(endpoint)
    values = {}
    for argument in rule.arguments:
        name = names.get(argument, argument)
        assert name in world.ids, f"{endpoint}: the world has no object for <{argument}>"
        values[argument] = world.ids[name]
    with app.test_request_context():
        return url_for(endpoint, **values)


def send(app: Flask, db: Session, world: World, actor: str, method: str, url: str, data=None):
    """One request by a fresh browser of the actor (a POST with a valid CSRF token and data).

    Returns what the matrix calls the answer, and where it redirects to.
    """
    client = signed_in(app, db, world.users.get(actor), world.csrf_secret)
    kwargs = {}
    if method == "POST":
        kwargs["data"] = {**(data or {}), "csrf_token": world.csrf_token}
        kwargs["headers"] = {"Referer": f"http://localhost{FORM_PAGE}"}
        if any(isinstance(value, tuple) for value in kwargs["data"].values()):
            kwargs["content_type"] = "multipart/form-data"
    with client.open(url, method=method, **kwargs) as response:
        response.get_data()  # a streamed body (the progress CSV) runs its query now
        location = response.headers.get("Location", "")
        status = response.status_code
    return outcome(status, location, url, method), location


def outcome(status: int, location: str, url: str, method: str = "GET") -> int | str:
    """LOGIN for a redirect to sign in that comes back to the URL; else the status.

    A POST comes back to the page its form was on (its Referer), never to its own URL,
    which sign-in could only open with a GET.
    """
    target = urlsplit(location)
    back = [url] if method == "GET" else [FORM_PAGE]
    if status == 302 and target.path == "/login" and parse_qs(target.query).get("next") == back:
        return LOGIN
    return status
