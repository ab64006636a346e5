"""A cohort as its facilitators run it: starting one, its page, its join code.

Its members are in ``members``, its invitations in ``invitations``, its live sessions in
``live_sessions``, the moderation of its gallery in ``gallery``, its progress in
``progress``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from lms import cohorts
from lms.pagination import paginate
from lms.web.access import load_staff_cohort
from lms.web.database import get_session
from lms.web.facilitator.views import bp, may_create_cohorts
from lms.web.forms import ButtonForm, CohortForm, require_pressed
from lms.web.links import public_url
from lms.web.paging import requested_page


@bp.route("/cohorts/new", methods=["GET", "POST"])
def new_cohort():
    """A facilitator starts a cohort of their own, and facilitates it."""
    if not may_create_cohorts(current_user):
        abort(404)
    session = get_session()
    form = CohortForm.with_choices(session)
    if form.validate_on_submit():
        cohort = cohorts.create_own_cohort(session, current_user, form.details())
        session.commit()
        flash(gettext("The cohort %(name)s is ready.", name=cohort.name))
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
    return render_template("cohort_form.html", form=form, cohort=None)


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    page = paginate(session, cohorts.members(cohort), requested_page())
    return render_template(
        "facilitator/cohort.html",
        cohort=cohort,
        page=page,
        join_link=public_url("learner.join_cohort", code=cohort.join_code),
        confirm=ButtonForm(),
    )


@bp.post("/cohorts/<int:cohort_id>/join-code")
def new_join_code(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    require_pressed()
    cohorts.new_join_code(session, current_user, cohort)
    session.commit()
    flash(gettext("The cohort has a new join code; the old one no longer works."))
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
