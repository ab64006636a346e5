"""Who gets what: every route of the app, for every kind of visitor, with real objects.

The matrix below has one row per route (endpoint and method) and one answer per actor.
A route the app has and the matrix lacks fails ``test_every_route_is_in_the_matrix``,
so nobody can add a page without saying who may open it. The world behind the ids is
described in ``tests/access_world.py``: every id in a URL is learner A's work or cohort
A's object, so learner B and facilitator B ask for someone else's things.

The answers:

- 200 or 302: the page, or the action done (its redirect).
- LOGIN: a redirect to the sign-in page, which comes back here afterwards.
- 404: not yours, or not for your role. The facilitator and admin areas answer 404 to
  those without the role, and other people's objects answer 404, never 403, so an id
  tells nothing about what exists.
- 403: only a locked lesson (learner B must finish lesson 1 first), which is hers to
  see once she gets there.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.admin import imports
from lms.models import User
from tests.access_world import ACTORS, FORMS, World, build_world, signed_in
from tests.conftest import Auth, csrf_token

LOGIN = "login"

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
    ("learner.complete", "POST"):                  (LOGIN, 302,   403,   302,   302,   302),
    ("learner.certificate", "GET"):                (LOGIN, 200,   404,   404,   404,   404),
    ("learner.download_module", "GET"):            (LOGIN, 200,   200,   302,   302,   302),
    ("learner.attachment", "GET"):                 (LOGIN, 200,   404,   404,   404,   404),
    ("media.media_file", "GET"):                   (LOGIN, 200,   200,   200,   200,   200),
    # Learner A's answer to lesson 2's prompt, and her files.
    ("learner.save_answer", "POST"):               (LOGIN, 302,   404,   404,   404,   404),
    ("learner.answer_revisions", "GET"):           (LOGIN, 200,   404,   404,   404,   404),
    ("learner.upload_files", "POST"):              (LOGIN, 302,   404,   404,   404,   404),
    ("learner.learner_file", "GET"):               (LOGIN, 200,   404,   200,   404,   200),
    ("learner.delete_file", "POST"):               (LOGIN, 302,   404,   404,   404,   404),
    ("learner.my_work", "GET"):                    (LOGIN, 200,   200,   200,   200,   200),
    ("learner.export_work", "GET"):                (LOGIN, 200,   200,   200,   200,   200),
    ("learner.delete_account", "GET"):             (LOGIN, 200,   200,   200,   200,   200),
    ("learner.delete_account", "POST"):            (LOGIN, 302,   302,   302,   302,   200),

    # Cohort A as its members see it; cohort C's join code and invitation are anyone's.
    #                                               anon   A      B      fac A  fac B  admin
    ("learner.my_cohorts", "GET"):                 (LOGIN, 200,   200,   200,   200,   200),
    ("learner.join_cohort", "GET"):                (LOGIN, 200,   200,   200,   200,   200),
    ("learner.join_cohort", "POST"):               (LOGIN, 302,   302,   302,   302,   302),
    ("learner.accept_invitation", "GET"):          (LOGIN, 200,   200,   200,   200,   200),
    ("learner.accept_invitation", "POST"):         (LOGIN, 302,   302,   302,   302,   302),
    ("learner.cohort", "GET"):                     (LOGIN, 200,   404,   200,   404,   200),
    ("learner.cohort_calendar", "GET"):            (LOGIN, 200,   404,   200,   404,   200),
    ("learner.cohort_feed", "GET"):                (200,   200,   200,   200,   200,   200),
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
    ("learner.delete_account", "POST"),  # the actor's own account goes
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


def request(app: Flask, db: Session, world: World, actor: str, endpoint: str, method: str, url):
    """One request by a fresh browser of the actor; returns what the matrix calls it."""
    client = signed_in(app, db, world.users.get(actor))
    kwargs = {}
    if method == "POST":
        data = {**FORMS.get(endpoint, lambda w: {})(world), "csrf_token": csrf_token(client)}
        kwargs["data"] = data
        if any(isinstance(value, tuple) for value in data.values()):
            kwargs["content_type"] = "multipart/form-data"
    with client.open(url, method=method, **kwargs) as response:
        response.get_data()  # a streamed body (the progress CSV) runs its query now
        location = response.headers.get("Location", "")
        status = response.status_code
    return outcome(status, location, url), location


def outcome(status: int, location: str, url: str) -> int | str:
    """LOGIN for a redirect to sign in that comes back to the URL; else the status."""
    target = urlsplit(location)
    if status == 302 and target.path == "/login" and parse_qs(target.query).get("next") == [url]:
        return LOGIN
    return status


def test_every_route_is_in_the_matrix(app):
    routes = app_routes(app)

    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)

    assert not missing, "routes without a row in the access matrix: " + ", ".join(
        f"{method} {endpoint}" for endpoint, method in missing
    )
    assert not stale, "matrix rows for routes the app no longer has: " + ", ".join(
        f"{method} {endpoint}" for endpoint, method in stale
    )


@pytest.mark.parametrize("actor", ACTORS)
def test_each_actor_gets_the_answer_of_the_matrix(app, db, tmp_path, actor):
    world = build_world(app, db, tmp_path)
    column = ACTORS.index(actor)
    wrong = []
    try:
        for endpoint, method in run_order(app_routes(app)):
            expected = MATRIX.get((endpoint, method), ("no row in the matrix",) * len(ACTORS))
            url = url_of(app, world, endpoint)
            got, location = request(app, db, world, actor, endpoint, method, url)
            if got != expected[column]:
                wrong.append(
                    f"{method} {endpoint} ({url}): expected {expected[column]}, got {got}"
                    + (f" to {location}" if location else "")
                )
    finally:
        imports.wait_for_imports()
    assert not wrong, f"{actor}:\n" + "\n".join(wrong)


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
