"""The admin's cohort pages: list, create, edit. Running a cohort is in the facilitator area."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from lms import cohorts
from lms.pagination import paginate
from lms.web.access import load_staff_cohort
from lms.web.admin.views import bp
from lms.web.database import get_session
from lms.web.forms import CohortForm
from lms.web.paging import requested_page


@bp.get("/cohorts")
def cohort_list():
    page = paginate(get_session(), cohorts.every_cohort(), requested_page())
    return render_template("admin/cohorts.html", page=page)


@bp.route("/cohorts/new", methods=["GET", "POST"])
def new_cohort():
    session = get_session()
    form = CohortForm.with_choices(session)
    if form.validate_on_submit():
        cohort = cohorts.create_cohort(session, current_user, form.details())
        session.commit()
        flash(gettext("The cohort %(name)s is ready.", name=cohort.name))
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
    return render_template("cohort_form.html", form=form, cohort=None)


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
def edit_cohort(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    form = CohortForm.with_choices(
        session,
        obj=cohort,
        modules=[m.id for m in cohort.modules],
        facilitators=cohorts.facilitator_ids(session, cohort),
        closed=cohort.archived_at is not None,
    )
    if form.validate_on_submit():
        cohorts.update_cohort(session, current_user, cohort, form.details())
        session.commit()
        flash(gettext("Saved."))
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
    return render_template("cohort_form.html", form=form, cohort=cohort)
