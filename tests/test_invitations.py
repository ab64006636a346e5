"""Invitations: nobody joins a cohort, and no facilitator reads their work, without their yes.

An address with an account and one without are invited the same way: an email with a
link that only the invited address can accept or decline, for a limited time.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, select, update

from lms import learner_files
from lms.db import now_utc
from lms.mail import outbox_dir
from lms.models import AuditEvent, Cohort, Invitation, Membership, MembershipRole, Role
from lms.web.storage import storage
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.factories import make_cohort, make_module, make_reflection, make_users


@pytest.fixture
def world(app, db):
    """Learner A in cohort A with a submitted answer and a file; cohort B of facilitator B."""
    learner_a, learner_b, facilitator_a, facilitator_b = make_users(
        db, Role.LEARNER, Role.LEARNER, Role.FACILITATOR, Role.FACILITATOR
    )
    module = make_module(db, slug="listening", title="Listening", lessons=2)
    cohort_a = make_cohort(db, "Cohort A", [module], [facilitator_a], [learner_a])
    cohort_b = make_cohort(db, "Cohort B", [module], [facilitator_b], [learner_b])
    answer = make_reflection(db, learner_a, module.lessons[0].prompts[0], "What I fear at home")
    learner_file = learner_files.add_file(
        db,
        learner_a,
        answer,
        io.BytesIO(b"My notes\n"),
        "notes.txt",
        storage=storage(app),
        limits=learner_files.Limits(max_bytes=1_000_000, quota_bytes=10_000_000),
    )
    db.commit()
    people = {
        "learner_a": learner_a,
        "learner_b": learner_b,
        "facilitator_a": facilitator_a,
        "facilitator_b": facilitator_b,
    }
    ids = {
        "cohort_a": cohort_a.id,
        "cohort_b": cohort_b.id,
        "answer": answer.id,
        "file": learner_file.public_id,
    }
    return people, ids


def _as(app, user) -> Auth:
    """A fresh browser signed in as the user through the form."""
    auth = Auth(app.test_client())
    assert auth.login(user.email).status_code == 302
    return auth


def _add(auth: Auth, cohort_id: int, emails: str):
    """Post the add-members form; returns the response and the message on the next page."""
    response = auth.post(f"/facilitate/cohorts/{cohort_id}/members/add", {"emails": emails})
    assert response.status_code == 302
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    message = re.search(r'<p class="flash flash-message">([^<]*)</p>', page)
    return response, message.group(1) if message else None


def _mails(app) -> list[str]:
    return [p.read_text() for p in sorted(outbox_dir(app.config).glob("*.eml"))]


def _token(app, email: str) -> str:
    [token] = {
        m.group(1)
        for mail in _mails(app)
        if f"To: {email}" in mail and (m := re.search(r"/invitations/([\w-]+)", mail))
    }
    return token


def _membership(db, cohort_id, user_id):
    role = db.scalar(
        select(Membership.role).where(
            Membership.cohort_id == cohort_id, Membership.user_id == user_id
        )
    )
    db.commit()  # end the read: on SQLite it would hold the app's writes back
    return role


def _invitation(db, email) -> SimpleNamespace:
    """The invitation's columns as the app left them."""
    statement = select(Invitation).where(Invitation.email == email)
    invitation = db.scalars(statement.execution_options(populate_existing=True)).one()
    values = {c.key: getattr(invitation, c.key) for c in inspect(Invitation).column_attrs}
    db.commit()  # end the read: on SQLite it would hold the app's writes back
    return SimpleNamespace(**values)


def _status(auth: Auth, path: str) -> int:
    with auth.client.get(path) as response:
        response.get_data()
        return response.status_code


# --- Item 2: consent before membership -------------------------------------------------


def test_an_existing_account_is_invited_not_added_and_its_work_stays_unread(app, db, world):
    people, ids = world
    learner_a = people["learner_a"]
    facilitator_b = _as(app, people["facilitator_b"])

    _add(facilitator_b, ids["cohort_b"], learner_a.email)

    assert _membership(db, ids["cohort_b"], learner_a.id) is None
    assert _status(facilitator_b, f"/facilitate/reflections/{ids['answer']}") == 404
    assert _status(facilitator_b, f"/files/{ids['file']}") == 404
    token = _token(app, learner_a.email)
    assert _invitation(db, learner_a.email).cohort_id == ids["cohort_b"]

    # Learner A finds it where she looks for cohorts, with both answers as buttons.
    learner = _as(app, learner_a)
    page = learner.client.get("/cohorts").get_data(as_text=True)
    assert "Cohort B" in page
    assert f'action="/invitations/{token}"' in page
    assert f'action="/invitations/{token}/decline"' in page
    invitation_page = learner.client.get(f"/invitations/{token}").get_data(as_text=True)
    assert "Decline" in invitation_page
    assert "Listening" in invitation_page  # the modules whose answers its facilitators read

    response = learner.post(f"/invitations/{token}")
    assert response.headers["Location"] == f"/cohorts/{ids['cohort_b']}"
    assert _membership(db, ids["cohort_b"], learner_a.id) == MembershipRole.LEARNER
    assert db.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
        "invitation.accepted"
    )
    db.commit()
    # She said yes: facilitator B now reads her answers on the cohort's modules.
    assert _status(facilitator_b, f"/facilitate/reflections/{ids['answer']}") == 200
    assert _status(facilitator_b, f"/files/{ids['file']}") == 200


def test_a_declined_invitation_stops_working_and_the_facilitator_may_invite_again(app, db, world):
    people, ids = world
    learner_a = people["learner_a"]
    facilitator_b = _as(app, people["facilitator_b"])
    _add(facilitator_b, ids["cohort_b"], learner_a.email)
    token = _token(app, learner_a.email)
    learner = _as(app, learner_a)

    response = learner.post(f"/invitations/{token}/decline")

    assert response.headers["Location"] == "/cohorts"
    assert _invitation(db, learner_a.email).declined_at is not None
    assert db.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
        "invitation.declined"
    )
    db.commit()
    assert f"/invitations/{token}" not in learner.client.get("/cohorts").get_data(as_text=True)
    page = learner.client.get(f"/invitations/{token}")
    assert page.status_code == 404
    assert "declined" in page.get_data(as_text=True)
    assert learner.post(f"/invitations/{token}").status_code == 404
    assert _membership(db, ids["cohort_b"], learner_a.id) is None

    # The facilitator sees the answer, and may ask again later.
    listing = facilitator_b.client.get(f"/facilitate/cohorts/{ids['cohort_b']}/invitations")
    entry = rf'<span class="email">{re.escape(learner_a.email)}</span>.*?</li>'
    assert "Declined" in re.search(entry, listing.text, re.S).group(0)
    _response, message = _add(facilitator_b, ids["cohort_b"], learner_a.email)
    assert message == "Invitations sent: 1. Already members or already invited: 0."
    assert _invitation(db, learner_a.email).declined_at is None
    assert len([m for m in _mails(app) if f"To: {learner_a.email}" in m]) == 2
    assert f"/invitations/{token}" in learner.client.get("/cohorts").get_data(as_text=True)
    assert learner.post(f"/invitations/{token}").status_code == 302


def test_joining_by_code_stays_immediate_and_uses_a_pending_invitation_up(app, db, world):
    people, ids = world
    learner_a = people["learner_a"]
    _add(_as(app, people["facilitator_b"]), ids["cohort_b"], learner_a.email)
    join_code = db.scalar(select(Cohort.join_code).where(Cohort.id == ids["cohort_b"]))
    db.commit()
    learner = _as(app, learner_a)

    assert learner.post("/cohorts/join", {"code": join_code}).status_code == 302

    assert _membership(db, ids["cohort_b"], learner_a.id) == MembershipRole.LEARNER
    assert _invitation(db, learner_a.email).accepted_at is not None


def test_an_admin_still_chooses_a_cohorts_facilitators_directly(app, db, world):
    people, _ids = world
    [admin] = make_users(db, Role.ADMIN)
    response = _as(app, admin).post(
        "/admin/cohorts/new",
        {"name": "Cohort D", "facilitators": [str(people["facilitator_a"].id)]},
    )
    cohort_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _membership(db, cohort_id, people["facilitator_a"].id) == MembershipRole.FACILITATOR


# --- Item 3: an invitation is for its address, for a limited time ----------------------


def test_only_the_invited_address_may_accept_or_decline(app, db, world):
    people, ids = world
    learner_b = people["learner_b"]
    _add(_as(app, people["facilitator_a"]), ids["cohort_a"], "friend@example.org")
    token = _token(app, "friend@example.org")
    holder = _as(app, learner_b)  # the link reached someone else

    page = holder.client.get(f"/invitations/{token}")
    text = page.get_data(as_text=True)

    assert page.status_code == 403
    assert "friend@example.org" in text
    assert "Sign in with that address" in text
    assert "Cohort A" not in text  # nothing more than it takes
    assert learner_b.email in text
    assert holder.post(f"/invitations/{token}").status_code == 403
    assert holder.post(f"/invitations/{token}/decline").status_code == 403
    assert _membership(db, ids["cohort_a"], learner_b.id) is None
    invitation = _invitation(db, "friend@example.org")
    assert (invitation.accepted_at, invitation.declined_at) == (None, None)
    assert "Cohort A" not in holder.client.get("/cohorts").get_data(as_text=True)


def test_an_invitation_is_matched_to_the_address_whatever_its_case(app, db, world):
    people, ids = world
    _add(_as(app, people["facilitator_a"]), ids["cohort_a"], "Friend@Example.org")
    token = _token(app, "friend@example.org")
    db.commit()
    auth = Auth(app.test_client())
    auth.client.post(
        "/register",
        data={
            "display_name": "Friend",
            "email": "FRIEND@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token(auth.client, "/register"),
        },
    )
    assert auth.post(f"/invitations/{token}").status_code == 302


@pytest.mark.parametrize(
    ("days", "age", "works"),
    [(30, timedelta(days=29, hours=23), True), (30, timedelta(days=30, minutes=1), False)]
    + [(2, timedelta(days=1), True), (2, timedelta(days=2, minutes=1), False)],
)
def test_an_invitation_works_for_LMS_INVITATION_DAYS(app, db, world, days, age, works):  # noqa: N802
    people, ids = world
    learner_a = people["learner_a"]
    app.config["LMS_INVITATION_DAYS"] = days
    _add(_as(app, people["facilitator_b"]), ids["cohort_b"], learner_a.email)
    token = _token(app, learner_a.email)
    db.execute(update(Invitation).values(invited_at=now_utc() - age))
    db.commit()
    learner = _as(app, learner_a)

    page = learner.client.get(f"/invitations/{token}")
    listed = f"/invitations/{token}" in learner.client.get("/cohorts").get_data(as_text=True)
    accepted = learner.post(f"/invitations/{token}").status_code

    assert (page.status_code, listed, accepted) == (
        (200, True, 302) if works else (404, False, 404)
    )
    if not works:
        assert "expired" in page.get_data(as_text=True)
        assert _membership(db, ids["cohort_b"], learner_a.id) is None


def test_an_expired_invitation_says_what_it_means_and_resending_renews_it(app, db, world):
    people, ids = world
    learner_a = people["learner_a"]
    facilitator_b = _as(app, people["facilitator_b"])
    _add(facilitator_b, ids["cohort_b"], learner_a.email)
    token = _token(app, learner_a.email)
    db.execute(update(Invitation).values(invited_at=now_utc() - timedelta(days=31)))
    db.commit()
    learner = _as(app, learner_a)
    text = learner.client.get(f"/invitations/{token}").get_data(as_text=True)
    assert "This invitation has expired" in text
    assert "Ask the person who invited you to send it again" in text
    base = f"/facilitate/cohorts/{ids['cohort_b']}/invitations"
    listing = facilitator_b.client.get(base).get_data(as_text=True)
    assert "Expired" in listing

    invitation = _invitation(db, learner_a.email)
    assert facilitator_b.post(f"{base}/{invitation.id}/resend").status_code == 302

    renewed = _invitation(db, learner_a.email)
    assert now_utc() - renewed.invited_at < timedelta(minutes=1)
    assert renewed.token == token  # the link in the first mail works again too
    assert learner.post(f"/invitations/{token}").status_code == 302
    assert _membership(db, ids["cohort_b"], learner_a.id) == MembershipRole.LEARNER


# --- Item 5: adding an address says nothing about whether it has an account ------------


def _comparable(text: str, *names: str) -> str:
    """The text without what names one address or invitation."""
    text = re.sub(r"/invitations/[\w-]+", "/invitations/TOKEN", text)
    text = re.sub(r"^(Date|Message-ID|Content-Transfer-Encoding): .*$", "", text, flags=re.M)
    for name in names:
        text = text.replace(name, "ADDRESS")
    return text


def test_adding_members_answers_the_same_whether_or_not_an_address_has_an_account(app, db, world):
    people, ids = world
    facilitator = _as(app, people["facilitator_a"])
    known, unknown = people["learner_b"].email, "nobody-yet@example.org"

    answers = []
    for email in (known, unknown):
        response, message = _add(facilitator, ids["cohort_a"], email)
        event = db.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        answers.append(
            (
                response.status_code,
                response.headers["Location"],
                message,
                event.action,
                event.details,
                [_comparable(m, email) for m in _mails(app) if f"To: {email}" in m],
            )
        )
        db.commit()

    assert answers[0] == answers[1]
    assert answers[0][2] == "Invitations sent: 1. Already members or already invited: 0."
    assert answers[0][3:5] == ("invitation.sent", {"sent": 1, "already": 0})
    _response, again = _add(facilitator, ids["cohort_a"], f"{known}\n{unknown}")
    assert again == "Invitations sent: 0. Already members or already invited: 2."
    members = f"{people['learner_a'].email}\n{people['facilitator_a'].email}"
    _response, members_too = _add(facilitator, ids["cohort_a"], members)
    assert members_too == "Invitations sent: 0. Already members or already invited: 2."


def test_my_cohorts_costs_the_same_queries_for_1_and_6_invitations(app, db, world, count_queries):
    people, _ids = world
    learner_a = people["learner_a"]
    learner = _as(app, learner_a)
    cohorts = iter(range(1, 100))

    def cost_after_inviting(n: int) -> int:
        for _ in range(n):
            cohort = make_cohort(db, f"Invited {next(cohorts)}")
            db.add(Invitation(cohort_id=cohort.id, email=learner_a.email))
        db.commit()
        with count_queries as queries:
            assert learner.client.get("/cohorts").status_code == 200
        return queries.count

    one = cost_after_inviting(1)
    assert cost_after_inviting(5) == one
    assert learner.client.get("/cohorts").get_data(as_text=True).count("/decline") == 6
