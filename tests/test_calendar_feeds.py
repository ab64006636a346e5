"""A member's calendar feed: a secret of their membership that they can reset.

It ends with the member's sessions (sign-out, password change or reset, disabling)
and with the membership itself (leaving, being removed).
"""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from lms.models import AuditEvent, Membership, Role
from lms.people import credentials
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.factories import make_cohort, make_users

NEW_PASSWORD = "another long test passphrase"


@pytest.fixture
def members(db):
    """A learner in two cohorts with a facilitator; an admin in neither."""
    learner, facilitator, admin = make_users(db, Role.LEARNER, Role.FACILITATOR, Role.ADMIN)
    first = make_cohort(db, "First circle", facilitators=[facilitator], learners=[learner])
    second = make_cohort(db, "Second circle", learners=[learner])
    return learner, facilitator, admin, first, second


def _as(app, user) -> Auth:
    auth = Auth(app.test_client())
    assert auth.login(user.email).status_code == 302
    return auth


def _feed_path(auth: Auth, cohort_id: int) -> str | None:
    """The feed address the member's cohort page offers, without the origin."""
    page = auth.client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    found = re.search(r'id="feed-url" type="url" readonly value="([^"]+)"', page)
    return found.group(1).removeprefix("http://lms.test") if found else None


def _tokens(db, user_id) -> dict[int, str]:
    tokens = dict(
        db.execute(
            select(Membership.cohort_id, Membership.calendar_token).where(
                Membership.user_id == user_id
            )
        ).all()
    )
    db.commit()  # end the read: on SQLite it would hold the app's writes back
    return tokens


def test_the_feed_address_carries_the_members_own_calendar_token(app, db, members):
    learner, _facilitator, _admin, first, _second = members
    path = _feed_path(_as(app, learner), first.id)
    assert path == f"/cohorts/{first.id}/feed/{_tokens(db, learner.id)[first.id]}.ics"
    assert app.test_client().get(path).status_code == 200


def test_a_token_signed_with_the_secret_key_opens_no_feed(app, members):
    learner, _facilitator, _admin, first, _second = members
    signed = URLSafeSerializer(app.config["SECRET_KEY"], salt="lms.cohort-calendar-feed")
    forged = signed.dumps([first.id, learner.id])
    assert app.test_client().get(f"/cohorts/{first.id}/feed/{forged}.ics").status_code == 404


def test_a_token_opens_only_its_own_cohorts_feed(app, db, members):
    learner, _facilitator, _admin, first, second = members
    token = _tokens(db, learner.id)[second.id]
    assert app.test_client().get(f"/cohorts/{first.id}/feed/{token}.ics").status_code == 404


def test_a_member_gets_a_new_calendar_link_and_the_old_one_stops(app, db, members):
    learner, _facilitator, _admin, first, second = members
    auth = _as(app, learner)
    old = _feed_path(auth, first.id)
    other = _feed_path(auth, second.id)
    page = auth.client.get(f"/cohorts/{first.id}").get_data(as_text=True)
    assert "Get a new calendar link" in page
    assert "the old one stops working" in page

    response = auth.post(f"/cohorts/{first.id}/calendar-link")

    assert response.headers["Location"] == f"/cohorts/{first.id}"
    new = _feed_path(auth, first.id)
    calendar_app = app.test_client()
    assert new != old
    assert calendar_app.get(old).status_code == 404
    assert calendar_app.get(new).status_code == 200
    assert calendar_app.get(other).status_code == 200  # the other cohort's link stays
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "calendar_link.reset"))
    assert (event.actor_id, event.target_type, event.target_id) == (learner.id, "cohort", first.id)


def test_only_members_get_a_new_calendar_link(app, db, members):
    learner, _facilitator, admin, first, _second = members
    outsider, *_ = make_users(db, Role.LEARNER)
    before = _tokens(db, learner.id)
    assert _as(app, outsider).post(f"/cohorts/{first.id}/calendar-link").status_code == 404
    assert _as(app, admin).post(f"/cohorts/{first.id}/calendar-link").status_code == 404
    assert _tokens(db, learner.id) == before


def test_an_admin_who_is_not_a_member_has_no_feed_but_can_download(app, members):
    _learner, _facilitator, admin, first, _second = members
    auth = _as(app, admin)
    page = auth.client.get(f"/cohorts/{first.id}").get_data(as_text=True)
    assert _feed_path(auth, first.id) is None
    assert "Get a new calendar link" not in page
    assert f'href="/cohorts/{first.id}/calendar.ics"' in page
    assert auth.client.get(f"/cohorts/{first.id}/calendar.ics").status_code == 200


def _sign_out(app, db, learner, admin):
    assert _as(app, learner).logout().status_code == 302


def _change_password(app, db, learner, admin):
    response = _as(app, learner).post(
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302


def _reset_password(app, db, learner, admin):
    token = credentials.make_reset_token(app.config, db.get_one(type(learner), learner.id))
    db.commit()
    client = app.test_client()
    response = client.post(
        f"/reset/{token}",
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, f"/reset/{token}"),
        },
    )
    assert response.status_code == 302


def _disable(app, db, learner, admin):
    assert _as(app, admin).post(f"/admin/people/{learner.id}/disable").status_code == 302


@pytest.mark.parametrize(
    "end_sessions",
    [_sign_out, _change_password, _reset_password, _disable],
    ids=["sign-out", "password change", "password reset", "disabled"],
)
def test_a_members_feeds_end_with_their_sessions(app, db, members, end_sessions):
    learner, _facilitator, admin, first, second = members
    before = _tokens(db, learner.id)
    calendar_app = app.test_client()
    old = [f"/cohorts/{c}/feed/{token}.ics" for c, token in before.items()]
    assert [calendar_app.get(path).status_code for path in old] == [200, 200]

    end_sessions(app, db, learner, admin)

    after = _tokens(db, learner.id)
    assert after.keys() == before.keys()
    assert not set(after.values()) & set(before.values())
    assert [calendar_app.get(path).status_code for path in old] == [404, 404]


def test_leaving_a_cohort_ends_its_feed(app, db, members):
    learner, facilitator, _admin, first, _second = members
    path = _feed_path(_as(app, learner), first.id)
    remove = f"/facilitate/cohorts/{first.id}/members/{learner.id}/remove"
    assert _as(app, facilitator).post(remove).status_code == 302
    assert app.test_client().get(path).status_code == 404
