"""Cohorts: admins create and edit them, learners join or are added by email; live sessions."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import icalendar
import pytest
from sqlalchemy import select

from lms.calendar import escape_text, fold
from lms.invitations import parse_email_csv, parse_email_text
from lms.mail import outbox_dir
from lms.models import (
    AuditEvent,
    Cohort,
    Invitation,
    LiveSession,
    Membership,
    MembershipRole,
    Role,
)
from tests.cohort_data import make_cohort, make_module


@pytest.fixture
def admin(make_user, auth):
    user = make_user(Role.ADMIN, email="admin@example.org")
    auth.login(user.email)
    return user


def _cohort_form(**overrides):
    return {"name": "Spring cohort", "description": "", "starts_on": "", "ends_on": ""} | overrides


# --- Admin: create and edit ----------------------------------------------------------


def test_admin_creates_a_cohort_with_modules_and_facilitators(admin, make_user, auth, db):
    module = make_module(db)
    facilitator = make_user(Role.FACILITATOR)
    response = auth.post(
        "/admin/cohorts/new",
        _cohort_form(
            starts_on="2026-03-01",
            ends_on="2026-04-30",
            modules=[str(module.id)],
            facilitators=[str(facilitator.id)],
        ),
    )
    assert response.status_code == 302
    cohort = db.scalar(select(Cohort))
    assert cohort.name == "Spring cohort"
    assert [m.id for m in cohort.modules] == [module.id]
    membership = db.scalar(select(Membership).where(Membership.cohort_id == cohort.id))
    assert (membership.user_id, membership.role) == (facilitator.id, MembershipRole.FACILITATOR)
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.target_id == cohort.id)) == (
        "cohort.created"
    )
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Spring cohort" in page
    assert cohort.join_code in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"starts_on": "2026-05-01", "ends_on": "2026-04-01"}, "cannot end before it starts"),
        ({"starts_on": "May first"}, "Not a valid date value."),
        ({"modules": ["99999"]}, "valid choice"),
        ({"facilitators": ["99999"]}, "valid choice"),
    ],
)
def test_cohort_form_refuses_bad_input(admin, auth, db, overrides, message):
    response = auth.post("/admin/cohorts/new", _cohort_form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(Cohort)) is None


def test_admin_edits_a_cohort_and_changes_its_facilitators(admin, make_user, auth, db):
    first, second = make_user(Role.FACILITATOR), make_user(Role.FACILITATOR)
    learner = make_user()
    cohort = make_cohort(db, facilitators=[first], learners=[learner])
    response = auth.post(
        f"/admin/cohorts/{cohort.id}/edit",
        _cohort_form(name="Renamed", facilitators=[str(second.id)]),
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Cohort, cohort.id).name == "Renamed"
    roles = dict(
        db.execute(
            select(Membership.user_id, Membership.role).where(Membership.cohort_id == cohort.id)
        ).all()
    )
    assert roles == {second.id: MembershipRole.FACILITATOR, learner.id: MembershipRole.LEARNER}


@pytest.mark.parametrize("role", [Role.LEARNER, Role.FACILITATOR])
def test_only_admins_create_cohorts(make_user, auth, client, role):
    user = make_user(role)
    auth.login(user.email)
    assert client.get("/admin/cohorts/new").status_code == 404
    assert auth.post("/admin/cohorts/new", _cohort_form()).status_code == 404


# --- Joining -------------------------------------------------------------------------


def test_learner_joins_by_code(make_user, auth, client, db):
    cohort = make_cohort(db)
    learner = make_user()
    auth.login(learner.email)
    # The join link only fills the form in: joining takes a POST.
    page = client.get(f"/cohorts/join?code={cohort.join_code}").get_data(as_text=True)
    assert cohort.join_code in page
    assert db.scalar(select(Membership)) is None
    db.commit()  # end the read, so the app may write
    response = auth.post("/cohorts/join", {"code": f"  {cohort.join_code} "})
    assert response.headers["Location"] == f"/cohorts/{cohort.id}"
    membership = db.scalar(select(Membership))
    assert (membership.user_id, membership.role) == (learner.id, MembershipRole.LEARNER)
    db.commit()
    # Joining twice changes nothing.
    auth.post("/cohorts/join", {"code": cohort.join_code})
    assert len(db.scalars(select(Membership)).all()) == 1


@pytest.mark.parametrize("code", ["", "wrong", "archived"])
def test_a_wrong_or_closed_code_joins_nothing(make_user, auth, db, code):
    cohort = make_cohort(db)
    if code == "archived":
        cohort.archived_at = datetime.now(UTC)
        db.commit()
        code = cohort.join_code
    auth.login(make_user().email)
    response = auth.post("/cohorts/join", {"code": code})
    assert response.status_code == 200
    assert db.scalar(select(Membership)) is None


def test_a_new_join_code_retires_the_old_one(make_user, auth, db):
    facilitator = make_user(Role.FACILITATOR)
    cohort = make_cohort(db, facilitators=[facilitator])
    old = cohort.join_code
    auth.login(facilitator.email)
    auth.post(f"/facilitate/cohorts/{cohort.id}/join-code")
    db.expire_all()
    assert db.get(Cohort, cohort.id).join_code != old
    db.commit()
    auth.logout()
    auth.login(make_user().email)
    assert auth.post("/cohorts/join", {"code": old}).status_code == 200


def test_joining_needs_an_account(client, db):
    cohort = make_cohort(db)
    response = client.get(f"/cohorts/join?code={cohort.join_code}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- Adding members by email --------------------------------------------------------


def _outbox(app):
    return [p.read_text() for p in sorted(outbox_dir(app.config).glob("*.eml"))]


def test_facilitator_invites_every_address_with_or_without_an_account(
    app, make_user, auth, client, db
):
    facilitator = make_user(Role.FACILITATOR)
    known = make_user(email="known@example.org")
    cohort = make_cohort(db, facilitators=[facilitator])
    auth.login(facilitator.email)
    csv_file = (io.BytesIO(b"name,email\nNew Person,NEW@example.org\n"), "people.csv")
    response = auth.post(
        f"/facilitate/cohorts/{cohort.id}/members/add",
        {"emails": "known@example.org, known@example.org", "csv_file": csv_file},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert set(db.scalars(select(Membership.user_id).where(Membership.role == "learner"))) == set()
    tokens = dict(db.execute(select(Invitation.email, Invitation.token)).all())
    assert tokens.keys() == {"known@example.org", "new@example.org"}
    for email, token in tokens.items():
        [mail] = [m for m in _outbox(app) if f"To: {email}" in m]
        assert f"http://lms.test/invitations/{token}" in mail
    db.commit()

    # The invited person signs up and follows the link; the known one accepts too.
    auth.logout()
    newcomer = make_user(email="new@example.org")
    for person in (newcomer, known):
        auth.login(person.email)
        token = tokens[person.email]
        page = client.get(f"/invitations/{token}")
        assert cohort.name in page.get_data(as_text=True)
        assert auth.post(f"/invitations/{token}").status_code == 302
        assert db.scalar(select(Membership).where(Membership.user_id == person.id)) is not None
        db.commit()
        # An invitation works once.
        assert client.get(f"/invitations/{token}").status_code == 404
        auth.logout()

    # Inviting the same people again invites nobody twice.
    auth.login(facilitator.email)
    auth.post(
        f"/facilitate/cohorts/{cohort.id}/members/add",
        {"emails": "known@example.org\nnew@example.org"},
    )
    assert len(_outbox(app)) == 2


def test_bad_addresses_are_named_and_nothing_is_added(make_user, auth, db):
    facilitator = make_user(Role.FACILITATOR)
    cohort = make_cohort(db, facilitators=[facilitator])
    auth.login(facilitator.email)
    response = auth.post(
        f"/facilitate/cohorts/{cohort.id}/members/add", {"emails": "ok@example.org\nnot-an-email"}
    )
    assert "not-an-email" in response.get_data(as_text=True)
    assert db.scalar(select(Invitation)) is None


@pytest.mark.parametrize(
    ("text", "emails", "invalid"),
    [
        ("a@example.org\nB@Example.org", ["a@example.org", "b@example.org"], []),
        ("a@example.org, a@example.org; <c@example.org>", ["a@example.org", "c@example.org"], []),
        ("\n\n  \n", [], []),
        ("a@example.org bogus", ["a@example.org"], ["bogus"]),
    ],
)
def test_parse_email_text(text, emails, invalid):
    parsed = parse_email_text(text)
    assert (parsed.emails, parsed.invalid) == (emails, invalid)


@pytest.mark.parametrize(
    ("data", "emails"),
    [
        (b"email\na@example.org\nb@example.org\n", ["a@example.org", "b@example.org"]),
        (b"\xef\xbb\xbfName;E-mail\nAna;a@example.org\n", ["a@example.org"]),
        (b"a@example.org\nb@example.org\n", ["a@example.org", "b@example.org"]),
        (b"Address\na@example.org\n", ["a@example.org"]),
        (b"", []),
    ],
)
def test_parse_email_csv(data, emails):
    assert parse_email_csv(data).emails == emails


# --- Live sessions and their calendars ----------------------------------------------


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


@pytest.fixture
def cohort_with_staff(make_user, db):
    facilitator = make_user(Role.FACILITATOR)
    learner = make_user()
    cohort = make_cohort(db, facilitators=[facilitator], learners=[learner])
    return cohort, facilitator, learner


def test_live_session_is_stored_in_utc_and_shown_in_the_viewers_zone(
    cohort_with_staff, auth, client, db
):
    cohort, facilitator, learner = cohort_with_staff
    auth.login(facilitator.email)
    response = auth.post(f"/facilitate/cohorts/{cohort.id}/sessions/new", _session_form())
    assert response.status_code == 302
    live = db.scalar(select(LiveSession))
    assert live.starts_at == datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
    assert (live.time_zone, live.duration_minutes) == ("Europe/Berlin", 90)
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
    live_id = db.scalar(select(LiveSession.id))
    db.commit()  # end the read, so the app may write
    url = f"/facilitate/cohorts/{cohort.id}/sessions/{live_id}"
    form = client.get(f"{url}/edit").get_data(as_text=True)
    assert 'value="18:30"' in form  # edited in the host's own time zone
    auth.post(f"{url}/edit", _session_form(start="19:00", time_zone="UTC"))
    starts_at = db.scalar(select(LiveSession.starts_at).where(LiveSession.id == live_id))
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


def test_facilitator_removes_a_learner_but_not_a_facilitator(cohort_with_staff, auth, db):
    cohort, facilitator, learner = cohort_with_staff
    auth.login(facilitator.email)
    base = f"/facilitate/cohorts/{cohort.id}/members"
    assert auth.post(f"{base}/{facilitator.id}/remove").status_code == 404
    assert auth.post(f"{base}/{learner.id}/remove").status_code == 302
    members = db.execute(select(Membership.user_id, Membership.role)).all()
    assert members == [(facilitator.id, MembershipRole.FACILITATOR)]
    assert db.scalar(
        select(AuditEvent.details).where(AuditEvent.action == "cohort.member_removed")
    ) == {"user_id": learner.id}


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


def test_pending_invitations_are_listed_resent_and_withdrawn(app, cohort_with_staff, auth, db):
    cohort, facilitator, _learner = cohort_with_staff
    auth.login(facilitator.email)
    base = f"/facilitate/cohorts/{cohort.id}/invitations"
    auth.post(
        f"/facilitate/cohorts/{cohort.id}/members/add",
        {"emails": "one@example.org\ntwo@example.org"},
    )
    invitations = dict(db.execute(select(Invitation.email, Invitation.id)).all())
    tokens = dict(db.execute(select(Invitation.email, Invitation.token)).all())
    db.commit()
    page = auth.client.get(base).get_data(as_text=True)
    assert "one@example.org" in page
    assert "two@example.org" in page

    assert auth.post(f"{base}/{invitations['one@example.org']}/resend").status_code == 302
    assert sum("To: one@example.org" in m for m in _outbox(app)) == 2
    assert auth.post(f"{base}/{invitations['two@example.org']}/cancel").status_code == 302
    page = auth.client.get(base).get_data(as_text=True)
    assert '<span class="email">one@example.org</span>' in page
    assert '<span class="email">two@example.org</span>' not in page
    assert auth.client.get(f"/invitations/{tokens['two@example.org']}").status_code == 404
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["invitation.resent", "invitation.cancelled"]


def test_a_closed_cohort_takes_no_one_new_and_can_reopen(admin, make_user, auth, db):
    cohort = make_cohort(db)
    code = cohort.join_code
    invitation = Invitation(cohort_id=cohort.id, email="late@example.org")
    db.add(invitation)
    db.commit()
    auth.post(f"/admin/cohorts/{cohort.id}/edit", _cohort_form(closed="y"))
    assert db.scalar(select(Cohort.archived_at).where(Cohort.id == cohort.id)) is not None
    db.commit()
    learner = make_user(email="late@example.org")
    auth.logout()
    auth.login(learner.email)
    assert auth.post("/cohorts/join", {"code": code}).status_code == 200
    assert auth.client.get(f"/invitations/{invitation.token}").status_code == 404
    assert db.scalar(select(Membership.id).where(Membership.user_id == learner.id)) is None
    db.commit()

    auth.logout()
    auth.login("admin@example.org")
    form = auth.client.get(f"/admin/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert 'checked id="closed"' in form
    auth.post(f"/admin/cohorts/{cohort.id}/edit", _cohort_form())
    assert db.scalar(select(Cohort.archived_at).where(Cohort.id == cohort.id)) is None


def test_facilitators_may_not_create_cohorts_unless_the_site_allows_it(client, auth, make_user):
    auth.login(make_user(Role.FACILITATOR).email)
    assert client.get("/facilitate/cohorts/new").status_code == 404
    response = auth.post("/facilitate/cohorts/new", {"name": "Mine"})
    assert response.status_code == 404
    assert "New cohort" not in client.get("/facilitate/").get_data(as_text=True)


def test_a_facilitator_allowed_to_creates_a_cohort_and_facilitates_it(
    app, client, auth, make_user, db
):
    app.config["LMS_FACILITATORS_CREATE_COHORTS"] = True
    facilitator = make_user(Role.FACILITATOR)
    auth.login(facilitator.email)
    assert "New cohort" in client.get("/facilitate/").get_data(as_text=True)

    response = auth.post("/facilitate/cohorts/new", {"name": "Riverside circle"})

    cohort = db.scalars(select(Cohort).where(Cohort.name == "Riverside circle")).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/facilitate/cohorts/{cohort.id}")
    role = db.scalar(
        select(Membership.role).where(
            Membership.cohort_id == cohort.id, Membership.user_id == facilitator.id
        )
    )
    assert role == MembershipRole.FACILITATOR
    assert client.get(f"/facilitate/cohorts/{cohort.id}").status_code == 200
