"""A cohort's gallery as its facilitators moderate it: hiding, showing reflections and replies."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from lms import sharing
from lms.models import Cohort
from lms.pagination import paginate
from lms.web.access import (
    load_gallery_reflection,
    load_hidden_reflection,
    load_peer_reply,
    load_staff_cohort,
)
from lms.web.database import get_session
from lms.web.facilitator.views import bp
from lms.web.forms import ButtonForm, require_pressed
from lms.web.paging import requested_page


def _back_to_gallery(cohort: Cohort):
    return redirect(url_for("learner.gallery", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/gallery/<int:reflection_id>/hide")
def hide_shared_reflection(cohort_id: int, reflection_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    reflection = load_gallery_reflection(session, cohort, reflection_id)
    require_pressed()
    sharing.hide_reflection(session, current_user, cohort, reflection)
    session.commit()
    flash(gettext("The answer is hidden from the gallery."))
    return _back_to_gallery(cohort)


@bp.post("/cohorts/<int:cohort_id>/replies/<int:reply_id>/hide")
def hide_reply(cohort_id: int, reply_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    peer_reply = load_peer_reply(session, cohort, reply_id)
    require_pressed()
    sharing.hide_reply(session, current_user, peer_reply)
    session.commit()
    flash(gettext("The reply is hidden."))
    return _back_to_gallery(cohort)


@bp.get("/cohorts/<int:cohort_id>/hidden/<any(answers, replies):kind>")
def hidden(cohort_id: int, kind: str):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    statement = (
        sharing.hidden_reflections(cohort) if kind == "answers" else sharing.hidden_replies(cohort)
    )
    page = paginate(session, statement, requested_page())
    return render_template(
        "facilitator/cohort_hidden.html", cohort=cohort, kind=kind, page=page, confirm=ButtonForm()
    )


@bp.post("/cohorts/<int:cohort_id>/gallery/<int:reflection_id>/show")
def show_shared_reflection(cohort_id: int, reflection_id: int):
    session = get_session()
    cohort = load_staff_cohort(session, current_user, cohort_id)
    reflection = load_hidden_reflection(session, cohort, reflection_id)
    require_pressed()
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
