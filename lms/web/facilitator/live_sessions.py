"""A cohort's live sessions as its facilitators schedule them: new, edit, cancel.

The form says the day and time in a zone the facilitator chooses; the session is
stored in UTC (``lms.calendar.to_utc``), and shown to everyone in their own zone.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from lms import cohorts
from lms.calendar import NonexistentTimeError, to_utc, zone, zone_names
from lms.models import Cohort, LiveSession
from lms.web.access import load_live_session, load_staff_cohort
from lms.web.database import get_session
from lms.web.facilitator.forms import LiveSessionForm
from lms.web.facilitator.views import bp
from lms.web.forms import require_pressed


def _session_details(form: LiveSessionForm) -> cohorts.LiveSessionDetails | None:
    """The form's live session in UTC, or None with an error on the form."""
    try:
        starts_at = to_utc(form.day.data, form.start.data, form.time_zone.data)
    except NonexistentTimeError:
        form.start.errors.append(
            gettext("Clocks skip this time on that day in %(zone)s.", zone=form.time_zone.data)
        )
        return None
    return cohorts.LiveSessionDetails(
        title=form.title.data,
        starts_at=starts_at,
        time_zone=form.time_zone.data,
        duration_minutes=form.duration_minutes.data,
        join_url=form.join_url.data or "",
        notes=form.notes.data or "",
    )


def _render_session_form(cohort: Cohort, form: LiveSessionForm, live_session: LiveSession | None):
    return render_template(
        "facilitator/cohort_live_session.html",
        cohort=cohort,
        form=form,
        live_session=live_session,
        zones=sorted(zone_names()),
    )


@bp.route("/cohorts/<int:cohort_id>/sessions/new", methods=["GET", "POST"])
def new_live_session(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    form = LiveSessionForm(time_zone=current_user.time_zone)
    if form.validate_on_submit() and (details := _session_details(form)):
        cohorts.add_live_session(session, current_user, cohort, details)
        session.commit()
        flash(gettext("The live session is scheduled."))
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
    return _render_session_form(cohort, form, None)


@bp.route("/cohorts/<int:cohort_id>/sessions/<int:live_session_id>/edit", methods=["GET", "POST"])
def edit_live_session(cohort_id: int, live_session_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    live_session = load_live_session(session, cohort, live_session_id)
    local = live_session.starts_at.astimezone(zone(live_session.time_zone))
    form = LiveSessionForm(obj=live_session, day=local.date(), start=local.time())
    if form.validate_on_submit() and (details := _session_details(form)):
        cohorts.update_live_session(session, current_user, live_session, details)
        session.commit()
        flash(gettext("Saved."))
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
    return _render_session_form(cohort, form, live_session)


@bp.post("/cohorts/<int:cohort_id>/sessions/<int:live_session_id>/delete")
def delete_live_session(cohort_id: int, live_session_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    live_session = load_live_session(session, cohort, live_session_id)
    require_pressed()
    cohorts.delete_live_session(session, current_user, live_session)
    session.commit()
    flash(gettext("The live session is cancelled."))
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
