"""Answers to prompts: saving (autosave or the Save button), submitting, conflicts, files.

The same endpoint serves the page's form without JavaScript (redirects, a conflict
page) and the autosave script (JSON, 409 on a conflict), told apart by ``Accept``.
An autosave reads the user and the prompt with the learner's reflection, then, in one
short write transaction, runs one conditional UPDATE and one INSERT.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template
from flask_babel import gettext
from flask_login import current_user, login_required

from lms import access, reflections
from lms.db import begin_write, get_session, reads_first
from lms.errors import wants_json
from lms.learner.forms import AnswerForm
from lms.learner.views import bp, lesson_url, saved_message
from lms.models import Prompt


def _back_to(prompt: Prompt) -> str:
    return lesson_url(prompt.lesson.module, prompt.lesson.slug, _anchor=f"prompt-{prompt.id}")


@bp.post("/prompts/<int:prompt_id>/answer")
@reads_first
@login_required
def save_answer(prompt_id: int):
    session = get_session()
    prompt, reflection = access.load_prompt(session, current_user, prompt_id)
    form = AnswerForm.for_prompt(prompt)
    if not form.validate_on_submit():
        if wants_json():
            return jsonify(error=gettext("This answer could not be saved. Please reload.")), 400
        return render_template("learner/answer.html", prompt=prompt, form=form), 400
    body = form.body.data
    based_on = form.revision.data
    if form.combine.data and reflection is not None and reflection.revision_count == based_on:
        # The conflict page's "keep both": the newer text, then the learner's.
        body = reflection.current_body.rstrip() + "\n\n" + body.lstrip()
    # The save's conditional UPDATE finds out whether another save came in since the read.
    begin_write(session)
    try:
        if form.submit.data:
            reflection = reflections.submit(
                session, current_user, prompt, body, based_on=based_on, reflection=reflection
            )
        else:
            reflection = reflections.save_draft(
                session, current_user, prompt, body, based_on=based_on, reflection=reflection
            )
    except reflections.ConflictError as conflict:
        return _conflict(prompt, conflict)
    except reflections.EmptyAnswerError:
        return _not_saved(prompt, form, gettext("Write your answer before you submit it."), 400)
    except reflections.UnknownRevisionError:
        message = gettext(
            "Not saved: this page is out of date. Copy your text, reload the page, and paste it."
        )
        return _not_saved(prompt, form, message, 400)
    except reflections.GoneError:
        message = gettext("Not saved: this account or this question no longer exists.")
        return _not_saved(prompt, form, message, 410)
    session.commit()
    if wants_json():
        return jsonify(
            revision=reflection.revision_count,
            state=reflection.state.value,
            message=saved_message(reflection),
        )
    if form.submit.data:
        flash(gettext("Your answer is submitted. You can still edit it and submit it again."))
    else:
        flash(saved_message(reflection))
    return redirect(_back_to(prompt))


def _not_saved(prompt: Prompt, form: AnswerForm, message: str, status: int):
    """The refusal: JSON for the script, else the learner's text back with the reason."""
    if wants_json():
        return jsonify(error=message), status
    form.body.errors = [message]
    return render_template("learner/answer.html", prompt=prompt, form=form), status


def _conflict(prompt: Prompt, conflict: reflections.ConflictError):
    newer = conflict.reflection
    if wants_json():
        return jsonify(
            conflict=True,
            revision=newer.revision_count,
            body=newer.current_body,
            message=gettext("This answer was changed in another tab or on another device."),
        ), 409
    form = AnswerForm.for_prompt(
        prompt, formdata=None, data={"body": conflict.body, "revision": newer.revision_count}
    )
    form.body.label.text = gettext("Your text")
    return render_template(
        "learner/conflict.html", prompt=prompt, form=form, newer=newer, back=_back_to(prompt)
    ), 409


@bp.get("/prompts/<int:prompt_id>/answer/revisions")
@login_required
def answer_revisions(prompt_id: int):
    session = get_session()
    reflection = access.load_own_reflection(session, current_user, prompt_id)
    return render_template(
        "learner/revisions.html",
        reflection=reflection,
        prompt=reflection.prompt,
        revisions=reflections.revisions(session, reflection),
    )

