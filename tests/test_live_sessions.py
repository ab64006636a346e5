"""Live sessions: scheduled in the host's time zone, shown in the viewer's, and calendars."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import icalendar
import pytest
from sqlalchemy import select

from lms.calendar import escape_text, fold
from lms.models import AuditEvent, LiveSession


def _session_form(**overrides):
    return {
        "title": "Opening circle",
        "day": "2026-03-10",
        "start": "18:30",
        "time_zone": "Europe/Berlin",
        "duration_minutes": "90",
        "join_url": "https://meet.example.org/room",
        "notes": "Bring a story, a question; and tea.",
    } | overrides


def test_live_session_is_stored_in_utc_and_shown_in_the_viewers_zone(
    cohort_with_staff, auth, client, db
):
    cohort, facilitator, learner = cohort_with_staff
    auth.login(facilitator.email)
    response = auth.post(f"/facilitate/cohorts/{cohort.id}/sessions/new", _session_form())
    assert response.status_code == 302
    live_session = db.scalar(select(LiveSession))
    assert live_session.starts_at == datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    assert (live_session.time_zone, live_session.duration_minutes) == ("Europe/Berlin", 90)
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.target_type == "live_session"))
    db.commit()

    learner.time_zone = "America/New_York"
    db.commit()
    auth.logout()
    auth.login(learner.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "March 10, 2026, 1:30\u202fPM" in page  # New York is on summer time from 8 March
    assert "America/New_York" in page
    assert 'href="https://meet.example.org/room"' in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"join_url": "javascript:alert(1)"}, "https://"),
        ({"join_url": "ftp://example.org/x"}, "https://"),
        ({"join_url": "https://"}, "https://"),
        ({"time_zone": "Mars/Olympus"}, "Choose a time zone"),
        ({"duration_minutes": "0"}, "between 5 and 1440"),
        ({"day": "2026-03-29", "start": "02:30"}, "Clocks skip this time"),
    ],
)
def test_live_session_form_refuses_bad_input(cohort_with_staff, auth, db, overrides, message):
    cohort, facilitator, _learner = cohort_with_staff
    auth.login(facilitator.email)
    response = auth.post(
        f"/facilitate/cohorts/{cohort.id}/sessions/new", _session_form(**overrides)
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(LiveSession)) is None


def test_edit_and_cancel_a_live_session(cohort_with_staff, auth, client, db):
    cohort, facilitator, _learner = cohort_with_staff
    auth.login(facilitator.email)
    auth.post(f"/facilitate/cohorts/{cohort.id}/sessions/new", _session_form())
    live_session_id = db.scalar(select(LiveSession.id))
    db.commit()  # end the read, so the app may write
    url = f"/facilitate/cohorts/{cohort.id}/sessions/{live_session_id}"
    form = client.get(f"{url}/edit").get_data(as_text=True)
    assert 'value="18:30"' in form  # edited in the host's own time zone
    auth.post(f"{url}/edit", _session_form(start="19:00", time_zone="UTC"))
    starts_at = db.scalar(select(LiveSession.starts_at).where(LiveSession.id == live_session_id))
    assert starts_at == datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
    db.commit()
    assert auth.post(f"{url}/delete").status_code == 302
    assert db.scalar(select(LiveSession.id)) is None


def _add_sessions(db, cohort):
    sessions = [
        LiveSession(
            cohort_id=cohort.id,
            title="Panel, part 1; with Q&A \\ more",
            starts_at=datetime(2026, 3, 10, 17, 30, tzinfo=UTC),
            duration_minutes=90,
            time_zone="Europe/Berlin",
            join_url="https://meet.example.org/room",
            notes="Line one\nLine two, with ünïcödé " + "long " * 40,
        ),
        LiveSession(
            cohort_id=cohort.id,
            title="Closing",
            starts_at=datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
            duration_minutes=60,
        ),
    ]
    db.add_all(sessions)
    db.commit()
    return sessions


def test_cohort_calendar_is_valid_icalendar_in_utc(cohort_with_staff, auth, client, db):
    cohort, _facilitator, learner = cohort_with_staff
    first, second = _add_sessions(db, cohort)
    auth.login(learner.email)
    response = client.get(f"/cohorts/{cohort.id}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.get_data()
    lines = body.split(b"\r\n")
    assert lines[-1] == b""  # every line ends in CRLF
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in body.replace(b"\r\n", b"")

    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [first.title, second.title]
    assert events[0].decoded("DTSTART") == datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    assert events[0].decoded("DTEND") == datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
    assert str(events[0]["UID"]) == f"{first.uid}@lms.test"
    assert str(events[0]["DESCRIPTION"]).startswith("Line one\nLine two, with ünïcödé long")
    assert "DTSTAMP" in events[1]


def test_one_session_calendar(cohort_with_staff, auth, client, db):
    cohort, _facilitator, learner = cohort_with_staff
    first, _second = _add_sessions(db, cohort)
    auth.login(learner.email)
    response = client.get(f"/cohorts/{cohort.id}/sessions/{first.id}.ics")
    [event] = icalendar.Calendar.from_ical(response.get_data()).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a,b;c\\d", "a\\,b\\;c\\\\d"),
        ("one\ntwo\r\nthree", "one\\ntwo\\nthree"),
        ("plain", "plain"),
    ],
)
def test_escape_text(text, escaped):
    assert escape_text(text) == escaped


@pytest.mark.parametrize("text", ["x" * 200, "é" * 100, "SUMMARY:" + "🌍" * 30])
def test_fold_keeps_lines_within_75_octets_and_characters_whole(text):
    folded = fold(text).encode("utf-8")
    lines = folded.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert all(line.startswith(b" ") for line in lines[1:])
    unfolded = b"".join([lines[0]] + [line[1:] for line in lines[1:]]).decode("utf-8")
    assert unfolded == text


def test_live_session_notes_are_sanitised_markdown(cohort_with_staff, auth, client, db):
    cohort, _facilitator, learner = cohort_with_staff
    db.add(
        LiveSession(
            cohort_id=cohort.id,
            title="Circle",
            starts_at=datetime(2026, 3, 10, 17, tzinfo=UTC),
            notes="Read **this** first.\n\n<script>alert(1)</script>",
        )
    )
    db.commit()
    auth.login(learner.email)
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "<strong>this</strong>" in page
    assert "<script>alert" not in page


def _feed_path(client, cohort_id):
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    url = re.search(r'id="feed-url" type="url" readonly value="([^"]+)"', page).group(1)
    assert url.startswith("http://lms.test/")
    return url.removeprefix("http://lms.test")


def test_calendar_feed_works_without_a_session_while_one_is_a_member(
    cohort_with_staff, auth, app, db
):
    cohort, facilitator, learner = cohort_with_staff
    _add_sessions(db, cohort)
    auth.login(learner.email)
    path = _feed_path(auth.client, cohort.id)
    calendar_app = app.test_client()  # no cookies, as a calendar app fetches
    response = calendar_app.get(path)
    assert response.status_code == 200
    assert len(icalendar.Calendar.from_ical(response.get_data()).walk("VEVENT")) == 2
    # Another cohort's id, a forged token, a former member: nothing.
    assert calendar_app.get(path.replace(f"/{cohort.id}/", "/999/")).status_code == 404
    assert calendar_app.get(path[:-8] + "xxxx.ics").status_code == 404
    auth.logout()
    auth.login(facilitator.email)
    auth.post(f"/facilitate/cohorts/{cohort.id}/members/{learner.id}/remove")
    assert calendar_app.get(path).status_code == 404
