"""The reflections inbox: submitted reflections of the facilitator's learners, and feedback."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from lms import review
from lms.models import ReviewState
from lms.pagination import paginate
from lms.visibility import staff_cohorts
from lms.web.access import load_staff_reflection
from lms.web.database import get_session
from lms.web.facilitator.forms import (
    REVIEW_STATE_LABELS,
    FeedbackForm,
    InboxFilterForm,
    ReviewStateForm,
)
from lms.web.facilitator.views import bp
from lms.web.paging import requested_page

LEARNER_FILE_ENDPOINT = "learner.learner_file"
ANY = SelectChoice("", _l("Any"))


def _filter_form() -> InboxFilterForm:
    """The filter form with its choices: each level is offered once the one above is chosen."""
    session = get_session()
    form = InboxFilterForm(request.args)
    form.cohort.choices = [ANY] + [
        (c.id, c.name) for c in session.scalars(staff_cohorts(current_user))
    ]
    form.module.choices = [ANY] + [
        SelectChoice(m.id, m.title) for m in review.taught_modules(session, current_user)
    ]
    form.lesson.choices = [ANY]
    form.prompt.choices = [ANY]
    module_id = form.module.coerce(form.module.raw_data[0]) if form.module.raw_data else None
    if module_id:
        form.lesson.choices += [
            SelectChoice(lesson.id, lesson.title)
            for lesson in review.lessons_of(session, module_id)
        ]
    lesson_id = form.lesson.coerce(form.lesson.raw_data[0]) if form.lesson.raw_data else None
    if module_id and lesson_id:
        form.prompt.choices += [
            SelectChoice(p.id, p.text[:80])
            for p in review.prompts_of(session, module_id, lesson_id)
        ]
    return form


def _filters(form: InboxFilterForm) -> review.InboxFilter:
    """The filters that passed validation; a stale or foreign choice is dropped, not obeyed."""
    form.validate()

    def value(field):
        return None if field.errors else field.data or None

    state = value(form.state)
    return review.InboxFilter(
        cohort_id=value(form.cohort),
        module_id=value(form.module),
        lesson_id=value(form.lesson),
        prompt_id=value(form.prompt),
        learner=value(form.learner),
        state=ReviewState(state) if state else None,
    )


@bp.get("/reflections")
def reflections():
    form = _filter_form()
    statement = review.inbox(current_user, _filters(form))
    page = paginate(get_session(), statement, requested_page())
    return render_template(
        "facilitator/inbox.html", form=form, page=page, state_labels=_state_labels()
    )


def _state_labels() -> dict[ReviewState, str]:
    # Translated once for the page, not once per row: a page lists 50 reflections.
    return {state: str(label) for state, label in REVIEW_STATE_LABELS.items()}


@bp.get("/reflections/<int:reflection_id>")
def reflection(reflection_id: int):
    session = get_session()
    reflection = load_staff_reflection(session, current_user, reflection_id)
    return _render_reflection(
        reflection, FeedbackForm(), ReviewStateForm(state=reflection.review_state.value)
    )


def _render_reflection(reflection, feedback_form, state_form):
    session = get_session()
    revisions = paginate(session, review.revisions(reflection), requested_page(), per_page=10)
    return render_template(
        "facilitator/reflection.html",
        reflection=reflection,
        revisions=revisions,
        feedback=review.feedback_of(session, reflection),
        files=review.files_of(session, reflection),
        progress=review.learner_progress(
            session, reflection.user_id, reflection.prompt.lesson.module_id
        ),
        file_endpoint=LEARNER_FILE_ENDPOINT
        if LEARNER_FILE_ENDPOINT in current_app.view_functions
        else None,
        feedback_form=feedback_form,
        state_form=state_form,
        state_labels=_state_labels(),
    )


@bp.post("/reflections/<int:reflection_id>/feedback")
def give_feedback(reflection_id: int):
    session = get_session()
    reflection = load_staff_reflection(session, current_user, reflection_id)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _render_reflection(
            reflection, form, ReviewStateForm(state=reflection.review_state.value)
        ), 400
    review.give_feedback(session, current_user, reflection, form.body.data)
    session.commit()
    flash(gettext("Your feedback is sent; the answer is marked reviewed."))
    return redirect(url_for("facilitator.reflection", reflection_id=reflection.id))


@bp.post("/reflections/<int:reflection_id>/state")
def review_state(reflection_id: int):
    session = get_session()
    reflection = load_staff_reflection(session, current_user, reflection_id)
    form = ReviewStateForm()
    if not form.validate_on_submit():
        abort(400)
    review.set_review_state(session, current_user, reflection, ReviewState(form.state.data))
    session.commit()
    flash(gettext("Saved."))
    return redirect(url_for("facilitator.reflection", reflection_id=reflection.id))
