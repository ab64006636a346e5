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

import pytest

from lms.packages import jobs
from tests.access_world import ACTORS, LOGIN, app_routes, build_access_world, form, send, url_of

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
    ("learner.save_reflection", "POST"):               (401,   302,   404,   404,   404,   404),
    ("learner.reflection_revisions", "GET"):           (LOGIN, 200,   404,   404,   404,   404),
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
    ("facilitator.hide_shared_reflection", "POST"):    (LOGIN, 404,   404,   302,   404,   302),
    ("facilitator.show_shared_reflection", "POST"):    (LOGIN, 404,   404,   302,   404,   302),
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

# Actions that change what later rows find run last, in this order; every other row
# runs in the matrix's order, pages (GET) before actions.
RUN_LAST = [
    ("learner.join_cohort", "POST"),  # joining cohort C uses up learner A's invitation to it
    ("learner.enroll", "POST"),  # the staff become enrolled in the module
    ("facilitator.hide_shared_reflection", "POST"),  # the answer leaves the gallery
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


def run_order(routes: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Pages first, then actions, then the actions of RUN_LAST; each in the matrix's order."""
    order = {route: n for n, route in enumerate(MATRIX)}

    def key(route):
        last = RUN_LAST.index(route) if route in RUN_LAST else -1
        return (last, route[1] != "GET", order.get(route, len(order)), route)

    return sorted(routes, key=key)


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
    world = build_access_world(app, db, tmp_path)
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
        jobs.wait_for_imports()
    assert not wrong, f"{actor}:\n" + "\n".join(wrong)


# Arguments that name an object belonging to the cohort in the same URL.
COHORT_OBJECTS = {
    "live_session_id",
    "invitation_id",
    "reflection_id",
    "reply_id",
    "user_id",
    "token",
}


def test_an_object_is_found_only_under_its_own_cohort(app, db, tmp_path):
    """Cohort A's objects under cohort B's URL answer 404, even to those who may see both."""
    world = build_access_world(app, db, tmp_path)
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
