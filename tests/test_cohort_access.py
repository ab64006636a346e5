"""Access rules of the cohort area, route by route: another cohort's objects answer 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lms.models import Invitation, LiveSession, Role
from tests.factories import make_cohort, make_module, make_reflection, make_users


@pytest.fixture
def world(db):
    """Two cohorts, each with a facilitator, a learner and a submitted reflection."""
    names = ["admin", "facilitator_a", "learner_a", "facilitator_b", "learner_b", "outsider"]
    roles = [Role.ADMIN, Role.FACILITATOR, Role.LEARNER, Role.FACILITATOR, Role.LEARNER]
    people = dict(zip(names, make_users(db, *roles, Role.LEARNER), strict=True))
    module = make_module(db, lessons=2)
    cohort_a = make_cohort(db, "A", [module], [people["facilitator_a"]], [people["learner_a"]])
    cohort_b = make_cohort(db, "B", [module], [people["facilitator_b"]], [people["learner_b"]])
    invitation = Invitation(cohort_id=cohort_a.id, email="newcomer@example.org")
    db.add(invitation)
    live_session = LiveSession(
        cohort_id=cohort_a.id, title="Circle", starts_at=datetime(2026, 3, 10, 17, tzinfo=UTC)
    )
    db.add(live_session)
    db.commit()
    prompt = module.lessons[0].prompts[0]
    reflection = make_reflection(db, people["learner_a"], prompt, "My answer in A")
    ids = {
        "cohort": cohort_a.id,
        "cohort_b": cohort_b.id,
        "live_session": live_session.id,
        "invitation": invitation.id,
        "reflection": reflection.id,
        "module": module.id,
        "learner": people["learner_a"].id,
    }
    db.commit()
    return people, ids


# (method, path) of cohort A's objects; {name} is filled from the world's ids.
STAFF_ROUTES = [
    ("GET", "/facilitate/cohorts/{cohort}"),
    ("GET", "/facilitate/cohorts/{cohort}/members/add"),
    ("POST", "/facilitate/cohorts/{cohort}/members/add"),
    ("POST", "/facilitate/cohorts/{cohort}/join-code"),
    ("POST", "/facilitate/cohorts/{cohort}/members/{learner}/remove"),
    ("GET", "/facilitate/cohorts/{cohort}/invitations"),
    ("POST", "/facilitate/cohorts/{cohort}/invitations/{invitation}/resend"),
    ("POST", "/facilitate/cohorts/{cohort}/invitations/{invitation}/cancel"),
    ("GET", "/facilitate/cohorts/{cohort}/sessions/new"),
    ("POST", "/facilitate/cohorts/{cohort}/sessions/new"),
    ("GET", "/facilitate/cohorts/{cohort}/sessions/{live_session}/edit"),
    ("POST", "/facilitate/cohorts/{cohort}/sessions/{live_session}/edit"),
    ("POST", "/facilitate/cohorts/{cohort}/sessions/{live_session}/delete"),
]
MEMBER_ROUTES = [
    ("GET", "/cohorts/{cohort}"),
    ("GET", "/cohorts/{cohort}/calendar.ics"),
    ("GET", "/cohorts/{cohort}/sessions/{live_session}.ics"),
]
ADMIN_ROUTES = [
    ("GET", "/admin/cohorts/{cohort}/edit"),
    ("POST", "/admin/cohorts/{cohort}/edit"),
]


def _request(auth, method, path):
    if method == "GET":
        return auth.client.get(path)
    return auth.post(path, {})


def _case(routes, who, status):
    return [pytest.param(m, p, who, status, id=f"{who}-{m}-{p}") for m, p in routes]


@pytest.mark.parametrize(
    ("method", "path", "who", "status"),
    _case(STAFF_ROUTES, "facilitator_b", 404)
    + _case(STAFF_ROUTES, "learner_a", 404)
    + _case(STAFF_ROUTES, "learner_b", 404)
    + _case(MEMBER_ROUTES, "facilitator_b", 404)
    + _case(MEMBER_ROUTES, "learner_b", 404)
    + _case(MEMBER_ROUTES, "outsider", 404)
    + _case(ADMIN_ROUTES, "facilitator_a", 404)
    + _case(ADMIN_ROUTES, "learner_a", 404),
)
def test_others_get_404(world, auth, method, path, who, status):
    people, ids = world
    auth.login(people[who].email)
    assert _request(auth, method, path.format(**ids)).status_code == status


@pytest.mark.parametrize(
    ("method", "path", "who"),
    [(m, p, who) for m, p in STAFF_ROUTES if m == "GET" for who in ("facilitator_a", "admin")]
    + [(m, p, who) for m, p in MEMBER_ROUTES for who in ("learner_a", "facilitator_a", "admin")]
    + [("GET", "/admin/cohorts/{cohort}/edit", "admin")],
)
def test_own_cohort_and_admins_get_200(world, auth, method, path, who):
    people, ids = world
    auth.login(people[who].email)
    assert _request(auth, method, path.format(**ids)).status_code == 200


def test_a_session_of_another_cohort_is_not_found_through_mine(world, auth):
    people, ids = world
    auth.login(people["learner_b"].email)
    assert auth.client.get(f"/cohorts/{ids['cohort_b']}").status_code == 200
    path = f"/cohorts/{ids['cohort_b']}/sessions/{ids['live_session']}.ics"
    assert auth.client.get(path).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    _people, ids = world
    for _method, path in MEMBER_ROUTES + STAFF_ROUTES[:1]:
        response = client.get(path.format(**ids))
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
