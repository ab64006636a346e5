"""A learner's cohorts: invitations waiting for them, joining by code, cohort pages, calendars.

The cohort's gallery is in ``gallery``; sharing one's reflection in it, in ``sharing``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from lms import calendar, cohorts, invitations
from lms.db import now_utc
from lms.models import Cohort, MembershipRole
from lms.pagination import paginate
from lms.web.access import (
    load_feed_membership,
    load_live_session,
    load_member_cohort,
    load_own_membership,
)
from lms.web.database import get_session
from lms.web.forms import require_pressed
from lms.web.learner.forms import CalendarLinkForm, JoinForm
from lms.web.learner.views import bp
from lms.web.links import public_url
from lms.web.paging import requested_page


@bp.get("/cohorts")
@login_required
def my_cohorts():
    session = get_session()
    statement = cohorts.member_cohorts(current_user)
    page = paginate(session, statement, requested_page())
    lifetime = invitations.lifetime(current_app.config)
    return render_template(
        "learner/cohorts.html",
        page=page,
        waiting=session.scalars(invitations.waiting_for(current_user, lifetime)).all(),
        lifetime=lifetime,
        form=JoinForm(),
    )


@bp.route("/cohorts/join", methods=["GET", "POST"])
@login_required
def join_cohort():
    # A join link carries the code in its query string; joining still takes a POST.
    form = JoinForm(code=request.args.get("code", ""))
    if form.validate_on_submit():
        session = get_session()
        cohort = cohorts.find_by_code(session, form.code.data)
        if cohort is None:
            form.code.errors.append(gettext("No open cohort has this code. Check it and retry."))
        else:
            _membership, is_new = cohorts.join(session, current_user, cohort)
            session.commit()
            if is_new:
                flash(gettext("Welcome to %(name)s!", name=cohort.name))
            return redirect(url_for("learner.cohort", cohort_id=cohort.id))
    return render_template("learner/cohort_join.html", form=form)


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def cohort(cohort_id: int):
    session = get_session()
    cohort = load_member_cohort(session, current_user, cohort_id)
    page = paginate(session, cohorts.members(cohort), requested_page())
    return render_template(
        "learner/cohort.html",
        cohort=cohort,
        page=page,
        feed_url=_feed_url(cohort),
        calendar_form=CalendarLinkForm(),
        facilitator=MembershipRole.FACILITATOR,
    )


def _feed_url(cohort: Cohort) -> str | None:
    """The viewer's own subscription URL for the cohort's calendar; None unless a member."""
    token = cohorts.calendar_token(get_session(), current_user, cohort)
    if token is None:
        return None
    return public_url("learner.cohort_feed", cohort_id=cohort.id, token=token)


@bp.post("/cohorts/<int:cohort_id>/calendar-link")
@login_required
def new_calendar_link(cohort_id: int):
    session = get_session()
    membership = load_own_membership(session, current_user, cohort_id)
    require_pressed(CalendarLinkForm)
    cohorts.new_calendar_link(session, current_user, membership)
    session.commit()
    flash(gettext("Your calendar has a new address; the old one no longer works."))
    return redirect(url_for("learner.cohort", cohort_id=cohort_id))


def _calendar_host() -> str:
    # Event UIDs carry the public host, not the Host header, so they never change.
    return urlsplit(current_app.config["LMS_BASE_URL"]).hostname or "lms"


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/cohorts/<int:cohort_id>/calendar.ics")
@login_required
def cohort_calendar(cohort_id: int):
    cohort = load_member_cohort(get_session(), current_user, cohort_id)
    body = calendar.ics(
        cohort.live_sessions, host=_calendar_host(), name=cohort.name, stamp=now_utc()
    )
    return _ics_response(body, f"cohort-{cohort.id}.ics")


@bp.get("/cohorts/<int:cohort_id>/feed/<token>.ics")
def cohort_feed(cohort_id: int, token: str):
    # No sign-in: calendar apps fetch this. The token is the member's calendar secret:
    # replaced when they ask or their sessions end, gone when they leave.
    cohort = load_feed_membership(get_session(), cohort_id, token).cohort
    body = calendar.ics(
        cohort.live_sessions, host=_calendar_host(), name=cohort.name, stamp=now_utc()
    )
    return _ics_response(body, f"cohort-{cohort.id}.ics")


@bp.get("/cohorts/<int:cohort_id>/sessions/<int:live_session_id>.ics")
@login_required
def live_session_calendar(cohort_id: int, live_session_id: int):
    session = get_session()
    cohort = load_member_cohort(session, current_user, cohort_id)
    live_session = load_live_session(session, cohort, live_session_id)
    body = calendar.ics([live_session], host=_calendar_host(), stamp=now_utc())
    return _ics_response(body, f"live-session-{live_session.id}.ics")
