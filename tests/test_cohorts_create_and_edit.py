"""Setting cohorts up: admins create, edit, close and reopen them; facilitators may if allowed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.models import AuditEvent, Cohort, Invitation, Membership, MembershipRole, Role
from tests.factories import make_cohort, make_module


@pytest.fixture
def admin(make_user, auth):
    user = make_user(Role.ADMIN, email="admin@example.org")
    auth.login(user.email)
    return user


def _cohort_form(**overrides):
    return {"name": "Spring cohort", "description": "", "starts_on": "", "ends_on": ""} | overrides


def test_admin_creates_a_cohort_with_modules_and_facilitators(admin, make_user, auth, db):
    module = make_module(db, lessons=2)
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
