"""A cohort as its facilitators run it: members, join code, live sessions, moderation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from lms import cohorts, sharing
from lms.calendar import NonexistentTimeError, to_utc, zone, zone_names
from lms.models import Cohort, LiveSession, Membership, User
from lms.pagination import page_number, paginate
from lms.web.access import (
    load_gallery_reflection,
    load_hidden_reflection,
    load_live_session,
    load_peer_reply,
    load_staff_cohort,
    load_staff_learner,
)
from lms.web.database import get_session
from lms.web.facilitator.forms import LiveSessionForm
from lms.web.facilitator.views import bp, may_create_cohorts
from lms.web.forms import ButtonForm, CohortForm
from lms.web.links import public_url


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


def _members(cohort: Cohort) -> Select:
    return (
        select(Membership)
        .join(Membership.user)
        .options(contains_eager(Membership.user))
        .where(Membership.cohort_id == cohort.id)
        .order_by(Membership.role.desc(), User.display_name, User.id)
    )


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    page = paginate(session, _members(cohort), page_number(request.args.get("page")))
    return render_template(
        "facilitator/cohort.html",
        cohort=cohort,
        page=page,
        notes=cohorts.notes_html(cohort.live_sessions),
        zone=zone(current_user.time_zone),
        join_link=public_url("learner.join_cohort", code=cohort.join_code),
        confirm=ButtonForm(),
    )


@bp.post("/cohorts/<int:cohort_id>/members/<int:user_id>/remove")
def remove_member(cohort_id: int, user_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    learner = load_staff_learner(session, current_user, cohort, user_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    cohorts.remove_member(session, current_user, cohort, learner)
    session.commit()
    flash(
        gettext("%(name)s has left the cohort; their work stays theirs.", name=learner.display_name)
    )
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/join-code")
def new_join_code(cohort_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    cohorts.new_join_code(session, current_user, cohort)
    session.commit()
    flash(gettext("The cohort has a new join code; the old one no longer works."))
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))


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


def _render_session_form(cohort: Cohort, form: LiveSessionForm, live: LiveSession | None):
    return render_template(
        "facilitator/cohort_live_session.html",
        cohort=cohort,
        form=form,
        live=live,
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


@bp.route("/cohorts/<int:cohort_id>/sessions/<int:live_id>/edit", methods=["GET", "POST"])
def edit_live_session(cohort_id: int, live_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    live = load_live_session(session, cohort, live_id)
    local = live.starts_at.astimezone(zone(live.time_zone))
    form = LiveSessionForm(obj=live, day=local.date(), start=local.time())
    if form.validate_on_submit() and (details := _session_details(form)):
        cohorts.update_live_session(session, current_user, live, details)
        session.commit()
        flash(gettext("Saved."))
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))
    return _render_session_form(cohort, form, live)


@bp.post("/cohorts/<int:cohort_id>/sessions/<int:live_id>/delete")
def delete_live_session(cohort_id: int, live_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    live = load_live_session(session, cohort, live_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    cohorts.delete_live_session(session, current_user, live)
    session.commit()
    flash(gettext("The live session is cancelled."))
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id))


# --- Moderation of the cohort's gallery ------------------------------------------


def _back_to_gallery(cohort: Cohort):
    return redirect(url_for("learner.gallery", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/gallery/<int:reflection_id>/hide")
def hide_shared_answer(cohort_id: int, reflection_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    reflection = load_gallery_reflection(session, cohort, reflection_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    sharing.hide_reflection(session, current_user, cohort, reflection)
    session.commit()
    flash(gettext("The answer is hidden from the gallery."))
    return _back_to_gallery(cohort)


@bp.post("/cohorts/<int:cohort_id>/replies/<int:reply_id>/hide")
def hide_reply(cohort_id: int, reply_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    peer_reply = load_peer_reply(session, cohort, reply_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    sharing.hide_reply(session, current_user, peer_reply)
    session.commit()
    flash(gettext("The reply is hidden."))
    return _back_to_gallery(cohort)


@bp.get("/cohorts/<int:cohort_id>/hidden/<any(answers, replies):kind>")
def hidden(cohort_id: int, kind: str):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    statement = (
        sharing.hidden_answers(cohort) if kind == "answers" else sharing.hidden_replies(cohort)
    )
    page = paginate(session, statement, page_number(request.args.get("page")))
    return render_template(
        "facilitator/cohort_hidden.html", cohort=cohort, kind=kind, page=page, confirm=ButtonForm()
    )


@bp.post("/cohorts/<int:cohort_id>/gallery/<int:reflection_id>/show")
def show_shared_answer(cohort_id: int, reflection_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    reflection = load_hidden_reflection(session, cohort, reflection_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    sharing.show_reflection(session, current_user, cohort, reflection)
    session.commit()
    flash(gettext("The answer shows again if its author shares it."))
    return redirect(url_for("facilitator.hidden", cohort_id=cohort.id, kind="answers"))


@bp.post("/cohorts/<int:cohort_id>/replies/<int:reply_id>/show")
def show_reply(cohort_id: int, reply_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    peer_reply = load_peer_reply(session, cohort, reply_id)
    if peer_reply.hidden_at is None or not ButtonForm().validate_on_submit():
        abort(400)
    sharing.show_reply(session, current_user, peer_reply)
    session.commit()
    flash(gettext("The reply shows again."))
    return redirect(url_for("facilitator.hidden", cohort_id=cohort.id, kind="replies"))
