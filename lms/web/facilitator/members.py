"""A cohort's members: inviting people by email (or a CSV file), removing a member."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from lms import cohorts, invitations
from lms.web.access import load_staff_cohort, load_staff_learner
from lms.web.database import get_session
from lms.web.facilitator.forms import AddMembersForm
from lms.web.facilitator.invitations import send_invitations
from lms.web.facilitator.views import bp
from lms.web.forms import require_pressed


@bp.route("/cohorts/<int:cohort_id>/members/add", methods=["GET", "POST"])
def add_members(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    form = AddMembersForm()
    if form.validate_on_submit():
        lifetime = invitations.lifetime(current_app.config)
        result = invitations.invite(session, current_user, cohort, form.addresses, lifetime)
        session.commit()
        send_invitations(cohort, result.invitations)
        flash(
            gettext(
                "Invitations sent: %(sent)d. Already members or already invited: %(already)d.",
                sent=len(result.invitations),
                already=len(result.already),
            )
        )
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
    return render_template(
        "facilitator/cohort_add_members.html",
        cohort=cohort,
        form=form,
        days=current_app.config["LMS_INVITATION_DAYS"],
    )


@bp.post("/cohorts/<int:cohort_id>/members/<int:user_id>/remove")
def remove_member(cohort_id: int, user_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    learner = load_staff_learner(session, current_user, cohort, user_id)
    require_pressed()
    cohorts.remove_member(session, current_user, cohort, learner)
    session.commit()
    flash(
        gettext("%(name)s has left the cohort; their work stays theirs.", name=learner.display_name)
    )
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
