"""Roles: who sees the facilitator and admin areas, and what admins may do to accounts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import AuditEvent, Role, User
from tests.accounts import NO_MATCH, is_signed_in, reload
from tests.conftest import Auth

ADMIN_PAGES = ["/admin/", "/admin/people", "/admin/audit", "/admin/people/1"]
FACILITATOR_PAGES = ["/facilitate/"]


def _events(db: Session, action: str) -> list[AuditEvent]:
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    db.commit()  # end the read: on SQLite it would hold the app's writes back
    return events


@pytest.mark.parametrize(
    ("role", "facilitator_status", "admin_status"),
    [
        (Role.LEARNER, 404, 404),
        (Role.FACILITATOR, 200, 404),
        (Role.ADMIN, 200, 200),
    ],
)
def test_each_role_sees_its_areas_and_no_other(
    client, auth, make_user, role, facilitator_status, admin_status
):
    auth.login(make_user(role).email)  # the first user: /admin/people/1 is this person

    for path in FACILITATOR_PAGES:
        assert client.get(path).status_code == facilitator_status, path
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == admin_status, path


@pytest.mark.parametrize("path", FACILITATOR_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, path):
    response = client.get(path)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


def test_a_learner_is_refused_admin_actions_too(client, auth, db, make_user):
    other = make_user()
    auth.login(make_user().email)

    response = auth.post(f"/admin/people/{other.id}", {"role": "admin"})

    assert response.status_code == 404
    assert reload(db, other).role == Role.LEARNER


# --- What an admin does to accounts ---------------------------------------------------------


@pytest.fixture
def admin(client, auth, make_user) -> User:
    """A signed-in admin on `client`."""
    user = make_user(Role.ADMIN)
    auth.login(user.email)
    return user


def test_disabling_a_person_ends_their_session_on_the_next_request(app, auth, db, make_user, admin):
    person = make_user()
    their_browser = app.test_client()
    Auth(their_browser).login(person.email, remember=True)
    assert is_signed_in(their_browser)

    response = auth.post(f"/admin/people/{person.id}/disable")

    assert response.status_code == 302
    assert not is_signed_in(their_browser)
    assert not reload(db, person).is_active
    (event,) = _events(db, "user.disabled")
    assert (event.actor_id, event.target_type, event.target_id) == (admin.id, "user", person.id)
    again = Auth(app.test_client()).login(person.email)
    assert NO_MATCH in again.get_data(as_text=True)


def test_an_enabled_person_can_sign_in_again(app, auth, db, make_user, admin):
    person = make_user()
    auth.post(f"/admin/people/{person.id}/disable")

    auth.post(f"/admin/people/{person.id}/enable")

    assert reload(db, person).is_active
    assert len(_events(db, "user.enabled")) == 1
    assert Auth(app.test_client()).login(person.email).status_code == 302


def test_a_role_change_is_audited_and_applies_at_once(app, auth, db, make_user, admin):
    person = make_user()
    their_browser = app.test_client()
    Auth(their_browser).login(person.email)
    assert their_browser.get("/facilitate/").status_code == 404

    response = auth.post(f"/admin/people/{person.id}", {"role": "facilitator"})

    assert response.status_code == 302
    assert reload(db, person).role == Role.FACILITATOR
    (event,) = _events(db, "user.role_changed")
    assert (event.actor_id, event.target_type, event.target_id) == (admin.id, "user", person.id)
    assert event.details == {"old": "learner", "new": "facilitator"}
    assert their_browser.get("/facilitate/").status_code == 200


def test_saving_the_same_role_records_nothing(auth, db, make_user, admin):
    person = make_user()

    auth.post(f"/admin/people/{person.id}", {"role": "learner"})

    assert _events(db, "user.role_changed") == []


def test_an_admin_cannot_demote_themselves(client, auth, db, admin):
    response = auth.post(f"/admin/people/{admin.id}", {"role": "learner"}, follow_redirects=True)

    assert "You cannot remove your own admin role." in response.get_data(as_text=True)
    assert reload(db, admin).role == Role.ADMIN
    assert _events(db, "user.role_changed") == []
    assert client.get("/admin/people").status_code == 200


def test_an_admin_cannot_disable_themselves(client, auth, db, admin):
    response = auth.post(f"/admin/people/{admin.id}/disable", follow_redirects=True)

    assert "You cannot disable your own account." in response.get_data(as_text=True)
    assert reload(db, admin).is_active
    assert _events(db, "user.disabled") == []
    assert client.get("/admin/people").status_code == 200


def test_an_unknown_person_is_a_404_for_admins(client, admin):
    assert client.get("/admin/people/999999").status_code == 404
