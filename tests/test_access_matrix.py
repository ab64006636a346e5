"""Who gets what: every route of the app, for every kind of visitor, with real objects.

The matrix below has one row per route (endpoint and method) and one answer per actor.
A route the app has and the matrix lacks fails ``test_every_route_is_in_the_matrix``,
so nobody can add a page without saying who may open it. The world behind the ids is
described in ``tests/access_world.py``: every id in a URL is learner A's work or cohort
A's object, so learner B and facilitator B ask for someone else's things.

The answers:

- 200 or 302: the page, or the action done (its redirect).
- LOGIN: a redirect to the sign-in page, which comes back here afterwards (after a
  POST, to the page its form was on, never to the action's own URL).
- 404: not yours, or not for your role. The facilitator and admin areas answer 404 to
  those without the role, and other people's objects answer 404, never 403, so an id
  tells nothing about what exists.
- 403: a locked lesson (learner B must finish lesson 1 first), which is hers to see
  once she gets there; and an invitation opened by an account of another address,
  which is told the address to sign in with (its link, a random token, is already in
  their hands: the answer tells them nothing they could not read in the mail).
- 401: answers sent by a page whose session has ended: their text comes back, with the
  sign-in fields that save it into the page's own account.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
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
from lms.web.admin import imports
from tests.access_world import ACTORS, World, build_world, form, signed_in
from tests.conftest import Auth

LOGIN = "login"
FORM_PAGE = "/my-work"  # where every POST of the matrix says it was sent from (its Referer)

# fmt: off
MATRIX: dict[tuple[str, str], tuple[int | str, ...]] = {
    # Accounts: open to everyone; signed-in visitors are sent on from sign-in and register.
    # A reset link or a calendar feed token is the whole credential of its page.
    #                                               anon   A      B      fac A  fac B  admin
    ("accounts.login", "GET"):                     (200,   302,   302,   302,   302,   302),
    ("accounts.login", "POST"):                    (302,   302,   302,   302,   302,   302),
    ("accounts.logout", "POST"):                   (LOGIN, 302,   302,   302,   302,   302),
    ("accounts.register", "GET"):                  (200,   302,   302,   302,   302,   302),
    ("accounts.register", "POST"):                 (302,   302,   302,   302,   302,   302),
    ("accounts.change_password", "GET"):           (LOGIN, 200,   200,   200,   200,   200),
    ("accounts.change_password", "POST"):          (LOGIN, 302,   302,   302,   302,   302),
    ("accounts.delete_account", "GET"):            (LOGIN, 200,   200,   200,   200,   200),
    ("accounts.delete_account", "POST"):           (LOGIN, 302,   302,   302,   302,   200),
    ("accounts.reset_request", "GET"):             (200,   200,   200,   200,   200,   200),
    ("accounts.reset_request", "POST"):            (302,   302,   302,   302,   302,   302),
    ("accounts.reset_password", "GET"):            (200,   200,   200,   200,   200,   200),
    ("accounts.reset_password", "POST"):           (302,   302,   302,   302,   302,   302),
    ("static", "GET"):                             (200,   200,   200,   200,   200,   200),

    # The learner's journey through the module "wellness" and its lesson 2.
    #                                               anon   A      B      fac A  fac B  admin
    ("learner.home", "GET"):                       (200,   200,   200,   200,   200,   200),
    ("learner.catalog", "GET"):                    (200,   200,   200,   200,   200,   200),
    ("learner.my_learning", "GET"):                (LOGIN, 200,   200,   200,   200,   200),
    ("learner.module", "GET"):                     (LOGIN, 200,   200,   200,   200,   200),
    ("learner.enroll", "POST"):                    (LOGIN, 302,   302,   302,   302,   302),
    ("learner.resume", "GET"):                     (LOGIN, 302,   302,   302,   302,   302),
    ("learner.lesson", "GET"):                     (LOGIN, 200,   403,   302,   302,   302),
    ("learner.save_lesson", "POST"):               (401,   302,   403,   302,   302,   302),
    ("learner.complete", "POST"):                  (LOGIN, 302,   403,   302,   302,   302),
    ("learner.certificate", "GET"):                (LOGIN, 200,   404,   404,   404,   404),
    ("learner.download_module", "GET"):            (LOGIN, 200,   200,   302,   302,   302),
    ("learner.attachment", "GET"):                 (LOGIN, 200,   404,   404,   404,   404),
    ("media.media_file", "GET"):                   (LOGIN, 200,   200,   200,   200,   200),
    # Learner A's answer to lesson 2's prompt, and her files.
    ("learner.save_answer", "POST"):               (401,   302,   404,   404,   404,   404),
    ("learner.answer_revisions", "GET"):           (LOGIN, 200,   404,   404,   404,   404),
    ("learner.upload_files", "POST"):              (LOGIN, 302,   404,   404,   404,   404),
    ("learner.learner_file", "GET"):               (LOGIN, 200,   404,   200,   404,   200),
    ("learner.delete_file", "POST"):               (LOGIN, 302,   404,   404,   404,   404),
    ("learner.my_work", "GET"):                    (LOGIN, 200,   200,   200,   200,   200),
    ("learner.export_work", "GET"):                (LOGIN, 200,   200,   200,   200,   200),

    # Cohort A as its members see it; cohort C's join code is anyone's, learner A's
    # invitations (to cohorts B and C) are hers alone.
    #                                               anon   A      B      fac A  fac B  admin
    ("learner.my_cohorts", "GET"):                 (LOGIN, 200,   200,   200,   200,   200),
    ("learner.join_cohort", "GET"):                (LOGIN, 200,   200,   200,   200,   200),
    ("learner.join_cohort", "POST"):               (LOGIN, 302,   302,   302,   302,   302),
    ("learner.accept_invitation", "GET"):          (LOGIN, 200,   403,   403,   403,   403),
    ("learner.accept_invitation", "POST"):         (LOGIN, 302,   403,   403,   403,   403),
    ("learner.decline_invitation", "POST"):        (LOGIN, 302,   403,   403,   403,   403),
    ("learner.cohort", "GET"):                     (LOGIN, 200,   404,   200,   404,   200),
    ("learner.cohort_calendar", "GET"):            (LOGIN, 200,   404,   200,   404,   200),
    ("learner.cohort_feed", "GET"):                (200,   200,   200,   200,   200,   200),
    ("learner.new_calendar_link", "POST"):         (LOGIN, 302,   404,   302,   404,   404),
    ("learner.live_session_calendar", "GET"):      (LOGIN, 200,   404,   200,   404,   200),
    ("learner.gallery", "GET"):                    (LOGIN, 200,   404,   200,   404,   200),
    ("learner.reply", "POST"):                     (LOGIN, 302,   404,   302,   404,   302),
    ("learner.share", "POST"):                     (LOGIN, 302,   404,   404,   404,   404),
    ("learner.withdraw", "POST"):                  (LOGIN, 302,   404,   404,   404,   404),

    # The facilitator area: cohort A is facilitator A's (and every admin's).
    # Facilitators may not start cohorts unless the site allows it (it does not here).
    #                                               anon   A      B      fac A  fac B  admin
    ("facilitator.index", "GET"):                  (LOGIN, 404,   404,   200,   200,   200),
    ("facilitator.new_cohort", "GET"):             (LOGIN, 404,   404,   404,   404,   200),
    ("facilitator.new_cohort", "POST"):            (LOGIN, 404,   404,   404,   404,   302),
    ("facilitator.cohort", "GET"):                 (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.add_members", "GET"):            (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.add_members", "POST"):           (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.remove_member", "POST"):         (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.new_join_code", "POST"):         (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.invitations", "GET"):            (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.resend_invitation", "POST"):     (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.cancel_invitation", "POST"):     (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.new_live_session", "GET"):       (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.new_live_session", "POST"):      (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.edit_live_session", "GET"):      (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.edit_live_session", "POST"):     (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.delete_live_session", "POST"):   (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.hide_shared_answer", "POST"):    (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.show_shared_answer", "POST"):    (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.hide_reply", "POST"):            (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.show_reply", "POST"):            (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.hidden", "GET"):                 (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.progress", "GET"):               (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.progress_csv", "GET"):           (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.reflections", "GET"):            (LOGIN, 404,   404,   200,   200,   200),
    ("facilitator.reflection", "GET"):             (LOGIN, 404,   404,   200,   404,   200),
    ("facilitator.give_feedback", "POST"):         (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.review_state", "POST"):          (LOGIN, 404,   404,   302,   404,   302),

    # The admin area. An import token is the admin's own upload.
    #                                               anon   A      B      fac A  fac B  admin
    ("admin.index", "GET"):                        (LOGIN, 404,   404,   404,   404,   200),
    ("admin.people", "GET"):                       (LOGIN, 404,   404,   404,   404,   200),
    ("admin.person", "GET"):                       (LOGIN, 404,   404,   404,   404,   200),
    ("admin.person", "POST"):                      (LOGIN, 404,   404,   404,   404,   302),
    ("admin.disable_person", "POST"):              (LOGIN, 404,   404,   404,   404,   302),
    ("admin.enable_person", "POST"):               (LOGIN, 404,   404,   404,   404,   302),
    ("admin.cohort_list", "GET"):                  (LOGIN, 404,   404,   404,   404,   200),
    ("admin.new_cohort", "GET"):                   (LOGIN, 404,   404,   404,   404,   200),
    ("admin.new_cohort", "POST"):                  (LOGIN, 404,   404,   404,   404,   302),
    ("admin.edit_cohort", "GET"):                  (LOGIN, 404,   404,   404,   404,   200),
    ("admin.edit_cohort", "POST"):                 (LOGIN, 404,   404,   404,   404,   302),
    ("admin.modules", "GET"):                      (LOGIN, 404,   404,   404,   404,   200),
    ("admin.upload_package", "POST"):              (LOGIN, 404,   404,   404,   404,   302),
    ("admin.import_preview", "GET"):               (LOGIN, 404,   404,   404,   404,   200),
    ("admin.import_status", "GET"):                (LOGIN, 404,   404,   404,   404,   302),
    ("admin.confirm_import", "POST"):              (LOGIN, 404,   404,   404,   404,   302),
    ("admin.cancel_import", "POST"):               (LOGIN, 404,   404,   404,   404,   302),
    ("admin.export_module", "GET"):                (LOGIN, 404,   404,   404,   404,   200),
    ("admin.audit_log", "GET"):                    (LOGIN, 404,   404,   404,   404,   200),
}
# fmt: on

# URL arguments are the world's objects of the same name; these routes name others.
ARGUMENTS: dict[str, dict[str, str]] = {
    "accounts.reset_password": {"token": "reset_token"},
    "learner.accept_invitation": {"token": "invitation_token"},
    "learner.decline_invitation": {"token": "invitation_to_decline"},
    "learner.cohort_feed": {"token": "feed_token"},
    "facilitator.show_shared_answer": {"reflection_id": "hidden_answer"},
    "facilitator.show_reply": {"reply_id": "hidden_reply"},
    "admin.import_preview": {"token": "import_token"},
    "admin.import_status": {"token": "import_token"},
    "admin.confirm_import": {"token": "import_token"},
    "admin.cancel_import": {"token": "import_token_to_cancel"},
}

# Actions that change what later rows find run last, in this order; every other row
# runs in the matrix's order, pages (GET) before actions.
RUN_LAST = [
    ("learner.join_cohort", "POST"),  # joining cohort C uses up learner A's invitation to it
    ("learner.enroll", "POST"),  # the staff become enrolled in the module
    ("facilitator.hide_shared_answer", "POST"),  # the answer leaves the gallery
    ("learner.withdraw", "POST"),  # so does this one
    ("learner.delete_file", "POST"),
    ("facilitator.delete_live_session", "POST"),
    ("facilitator.cancel_invitation", "POST"),
    ("facilitator.remove_member", "POST"),  # learner A leaves cohort A
    ("admin.disable_person", "POST"),
    ("admin.enable_person", "POST"),
    ("admin.cancel_import", "POST"),
    ("admin.confirm_import", "POST"),
    ("accounts.delete_account", "POST"),  # the actor's own account goes
]


def app_routes(app: Flask) -> set[tuple[str, str]]:
    """Every (endpoint, method) the app answers, without the automatic HEAD and OPTIONS."""
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def run_order(routes: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Pages first, then actions, then the actions of RUN_LAST; each in the matrix's order."""
    order = {route: n for n, route in enumerate(MATRIX)}

    def key(route):
        last = RUN_LAST.index(route) if route in RUN_LAST else -1
        return (last, route[1] != "GET", order.get(route, len(order)), route)

    return sorted(routes, key=key)


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


def test_every_route_is_in_the_matrix(app):
    routes = app_routes(app)

    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    short = [route for route, answers in MATRIX.items() if len(answers) != len(ACTORS)]

    assert not missing, "routes without a row in the access matrix: " + ", ".join(
        f"{method} {endpoint}" for endpoint, method in missing
    )
    assert not stale, "matrix rows for routes the app no longer has: " + ", ".join(
        f"{method} {endpoint}" for endpoint, method in stale
    )
    assert not short, f"rows without one answer for each of {ACTORS}: {short}"


@pytest.mark.parametrize("actor", ACTORS)
def test_each_actor_gets_the_answer_of_the_matrix(app, db, tmp_path, actor):
    world = build_world(app, db, tmp_path)
    column = ACTORS.index(actor)
    wrong = []
    try:
        for endpoint, method in run_order(app_routes(app)):
            expected = MATRIX.get((endpoint, method), ("no row in the matrix",) * len(ACTORS))
            url = url_of(app, world, endpoint)
            got, location = send(app, db, world, actor, method, url, form(endpoint, world))
            if got != expected[column]:
                wrong.append(
                    f"{method} {endpoint} ({url}): expected {expected[column]}, got {got}"
                    + (f" to {location}" if location else "")
                )
    finally:
        imports.wait_for_imports()
    assert not wrong, f"{actor}:\n" + "\n".join(wrong)


# Arguments that name an object belonging to the cohort in the same URL.
COHORT_OBJECTS = {"live_id", "invitation_id", "reflection_id", "reply_id", "user_id", "token"}


def test_an_object_is_found_only_under_its_own_cohort(app, db, tmp_path):
    """Cohort A's objects under cohort B's URL answer 404, even to those who may see both."""
    world = build_world(app, db, tmp_path)
    checked, wrong = [], []
    for endpoint, method in run_order(app_routes(app)):
        (rule,) = app.url_map.iter_rules(endpoint)
        if "cohort_id" not in rule.arguments or not rule.arguments & COHORT_OBJECTS:
            continue
        url = url_of(app, world, endpoint, {"cohort_id": "other_cohort"})
        members_too = endpoint.startswith("learner.")
        for actor in ["facilitator_b", "admin"] + ["learner_b"] * members_too:
            got, _location = send(app, db, world, actor, method, url, form(endpoint, world))
            checked.append((endpoint, method))
            if got != 404:
                wrong.append(f"{method} {endpoint} ({url}) as {actor}: {got}")
    assert len(set(checked)) >= 13, checked  # the routes of this kind today
    assert not wrong, "\n".join(wrong)


# --- Losing a role or an account takes effect on the very next request ----------------


def _signed_in_through_the_form(app: Flask, db: Session, user_id: int) -> FlaskClient:
    email = db.get_one(User, user_id).email
    db.commit()  # end the read: on SQLite it would hold the app's writes back
    client = app.test_client()
    assert Auth(client).login(email).status_code == 302
    return client


def _admin_does(app: Flask, db: Session, world: World, path: str, data: dict) -> None:
    admin = Auth(_signed_in_through_the_form(app, db, world.users["admin"]))
    assert admin.post(path, data).status_code == 302


def _answers(app: Flask, world: World, client: FlaskClient, endpoints: list[str]) -> dict:
    answers = {}
    for endpoint in endpoints:
        url = url_of(app, world, endpoint)
        with client.get(url) as response:
            response.get_data()  # a streamed body (the progress CSV) ends its query
            answers[endpoint] = outcome(response.status_code, response.location or "", url)
    return answers


# What a facilitator of cohort A reads only as its facilitator.
STAFF_PAGES = [
    "facilitator.index",
    "facilitator.cohort",
    "facilitator.reflection",
    "facilitator.progress_csv",
    "learner.learner_file",
]
# What learner A reads as herself.
OWN_PAGES = ["learner.my_work", "learner.answer_revisions", "learner.learner_file"]


@pytest.mark.parametrize(
    ("actor", "action", "pages", "after"),
    [
        ("facilitator_a", ("", {"role": "learner"}), STAFF_PAGES, 404),
        ("facilitator_a", ("/disable", {}), STAFF_PAGES, LOGIN),
        ("learner_a", ("/disable", {}), OWN_PAGES, LOGIN),
    ],
    ids=["facilitator demoted", "facilitator disabled", "learner disabled"],
)
def test_the_next_request_after_an_admin_acts_is_refused(
    app, db, tmp_path, actor, action, pages, after
):
    world = build_world(app, db, tmp_path)
    their_browser = _signed_in_through_the_form(app, db, world.users[actor])
    assert _answers(app, world, their_browser, pages) == dict.fromkeys(pages, 200)
    suffix, data = action

    _admin_does(app, db, world, f"/admin/people/{world.users[actor]}{suffix}", data)

    assert _answers(app, world, their_browser, pages) == dict.fromkeys(pages, after)


def test_a_disabled_learners_calendar_feed_stops(app, db, tmp_path):
    world = build_world(app, db, tmp_path)
    calendar_app = app.test_client()
    feed = url_of(app, world, "learner.cohort_feed")
    assert calendar_app.get(feed).status_code == 200

    _admin_does(app, db, world, f"/admin/people/{world.users['learner_a']}/disable", {})

    assert calendar_app.get(feed).status_code == 404


# --- Mass assignment: fields a form does not have are ignored --------------------------
# Each action is sent with its valid form plus fields naming columns it must not touch;
# the action happens (so the form was accepted) and those columns keep their values.

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
    world = build_world(app, db, tmp_path, uploads=False)
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
    data = _forged(f"p{prompt}-", **form("learner.save_answer", world))
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
    world = build_world(app, db, tmp_path, uploads=False)
    ids, facilitator = world.ids, world.users["facilitator_a"]
    cohort = f"/facilitate/cohorts/{ids['cohort_id']}"
    live_before = _row(db, LiveSession, id=ids["live_id"])

    # A live session stays in its cohort with its calendar uid.
    data = _forged(**form("facilitator.edit_live_session", world))
    _posts(app, db, world, "facilitator_a", f"{cohort}/sessions/{ids['live_id']}/edit", data)
    live = _row(db, LiveSession, id=ids["live_id"])
    assert (live.cohort_id, live.uid) == (ids["cohort_id"], live_before.uid)
    assert live.time_zone == "Africa/Nairobi"

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
    world = build_world(app, db, tmp_path, uploads=False)
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
