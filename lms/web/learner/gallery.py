"""A cohort's gallery: the reflections its members share, and their replies to each other."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from lms import sharing
from lms.models import Cohort
from lms.pagination import paginate
from lms.web.access import load_gallery_reflection, load_member_cohort
from lms.web.database import get_session
from lms.web.forms import ButtonForm
from lms.web.ids import parse_id
from lms.web.learner.forms import ReplyForm
from lms.web.learner.views import bp
from lms.web.paging import requested_page


def _render_gallery(cohort: Cohort, reply_form: ReplyForm, reply_to: int | None = None):
    session = get_session()
    prompt_id = parse_id(request.args.get("prompt"))
    page = paginate(session, sharing.gallery(cohort, prompt_id), requested_page())
    return render_template(
        "learner/cohort_gallery.html",
        cohort=cohort,
        page=page,
        prompt_id=prompt_id,
        replies=sharing.replies_to(session, cohort, page.items),
        shareable=sharing.shareable(session, current_user, cohort),
        moderate=sharing.may_moderate(session, current_user, cohort),
        reply_form=reply_form,
        reply_to=reply_to,
        button=ButtonForm(),
    )


@bp.get("/cohorts/<int:cohort_id>/gallery")
@login_required
def gallery(cohort_id: int):
    cohort = load_member_cohort(get_session(), current_user, cohort_id)
    return _render_gallery(cohort, ReplyForm())


@bp.post("/cohorts/<int:cohort_id>/gallery/<int:reflection_id>/replies")
@login_required
def reply(cohort_id: int, reflection_id: int):
    session = get_session()
    cohort = load_member_cohort(session, current_user, cohort_id)
    reflection = load_gallery_reflection(session, cohort, reflection_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_gallery(cohort, form, reply_to=reflection.id), 400
    sharing.reply(session, current_user, cohort, reflection, form.body.data)
    session.commit()
    flash(gettext("Your reply is posted."))
    return redirect(
        url_for("learner.gallery", cohort_id=cohort.id, _anchor=f"answer-{reflection.id}")
    )
