"""Losing a role or an account takes effect on the very next request.

The world is the access matrix's (tests/access_world.py): a browser signed in through the
form reads its pages, an admin acts, and the same browser's next request is refused.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.models import User
from tests.access_world import LOGIN, build_access_world, outcome, url_of
from tests.conftest import Auth
from tests.world import World


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
OWN_PAGES = ["learner.my_work", "learner.reflection_revisions", "learner.learner_file"]


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
    world = build_access_world(app, db, tmp_path)
    their_browser = _signed_in_through_the_form(app, db, world.users[actor])
    assert _answers(app, world, their_browser, pages) == dict.fromkeys(pages, 200)
    suffix, data = action

    _admin_does(app, db, world, f"/admin/people/{world.users[actor]}{suffix}", data)

    assert _answers(app, world, their_browser, pages) == dict.fromkeys(pages, after)


def test_a_disabled_learners_calendar_feed_stops(app, db, tmp_path):
    world = build_access_world(app, db, tmp_path)
    calendar_app = app.test_client()
    feed = url_of(app, world, "learner.cohort_feed")
    assert calendar_app.get(feed).status_code == 200

    _admin_does(app, db, world, f"/admin/people/{world.users['learner_a']}/disable", {})

    assert calendar_app.get(feed).status_code == 404
