"""Times on every page, learners' and staff's: the viewer's zone and language, never raw UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_login import login_user

from lms.web.template_filters import local_time

AT = datetime(2026, 3, 10, 17, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "style", "shown"),
    [
        ("UTC", "datetime", "Mar 10, 2026, 5:30:05\u202fPM"),
        ("Africa/Nairobi", "datetime", "Mar 10, 2026, 8:30:05\u202fPM"),
        ("Africa/Nairobi", "time", "8:30\u202fPM"),
        ("Pacific/Kiritimati", "date", "March 11, 2026"),  # UTC+14: the next day already
        ("Not/A_Zone", "date", "March 10, 2026"),  # an unknown zone reads as UTC
    ],
)
def test_a_time_is_shown_in_the_viewers_zone(app, make_user, db, zone, style, shown):
    user = make_user()
    user.time_zone = zone
    with app.test_request_context():
        login_user(user)
        assert local_time(AT, style) == shown


def test_one_instant_seen_from_two_zones_is_two_wall_times(app, make_user, db):
    """Formatted texts are kept per wall-clock time, never per instant (equal across zones)."""
    berlin, nairobi = make_user(), make_user()
    berlin.time_zone, nairobi.time_zone = "Europe/Berlin", "Africa/Nairobi"
    seen = []
    for viewer in (berlin, nairobi, berlin):
        with app.test_request_context():
            login_user(viewer)
            seen.append(local_time(AT, "time"))
    assert seen == ["6:30\u202fPM", "8:30\u202fPM", "6:30\u202fPM"]


def test_a_column_headed_utc_shows_utc_whoever_views_it(app, make_user, db):
    user = make_user()
    user.time_zone = "Africa/Nairobi"
    with app.test_request_context():
        login_user(user)
        assert local_time(AT, in_zone="UTC") == "Mar 10, 2026, 5:30:05\u202fPM"


def test_no_time_is_shown_as_nothing(app):
    with app.test_request_context():
        assert local_time(None) == ""
