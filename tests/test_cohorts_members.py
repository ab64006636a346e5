"""Cohort members: learners join by code or accept an emailed invitation; facilitators
invite, resend, withdraw and remove."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lms.invitations import parse_email_csv, parse_email_text
from lms.mail import outbox_dir
from lms.models import AuditEvent, Cohort, Invitation, Membership, MembershipRole, Role
from tests.factories import make_cohort

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
