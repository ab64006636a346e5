"""The autosave script's saves, one reflection at a time, and a reflection's earlier versions.

The script asks for JSON (``Accept``) and hears 200 with the new revision, 409 with the
newer text on a conflict, 401 when the session has ended, and another 4xx, with words
to show, for a save that cannot be taken. A form sent here without the script (a page
older than the lesson's one form) is handled as the lesson's form is. An autosave reads
the user and the prompt with the learner's reflection, then, in one short write
transaction, runs one conditional UPDATE and one INSERT.
"""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from flask_babel import gettext
from flask_login import current_user, login_required

from lms import reflections
from lms.web import access
from lms.web.database import get_session, reads_first, writing
from lms.web.errors import wants_json
from lms.web.learner import lesson_form, signed_out
from lms.web.learner.forms import ReflectionForm
from lms.web.learner.views import bp, saved_message


@bp.post("/prompts/<int:prompt_id>/answer")
@reads_first
def save_reflection(prompt_id: int):
    if not current_user.is_authenticated:
        if wants_json():
            return current_app.login_manager.unauthorized()
        page = signed_out.sign_in_to_save()
        if page is not None:
            return page
    session = get_session()
    prompt, reflection = access.load_prompt(session, current_user, prompt_id)
    if not wants_json():
        prompt_reflection = reflections.PromptReflection(prompt, reflection)
        return lesson_form.post_reflections(session, prompt.lesson, None, [prompt_reflection])
    form = ReflectionForm.for_prompt(prompt)
    if not form.validate_on_submit():
        return jsonify(error=gettext("This answer could not be saved. Please reload.")), 400
    save = reflections.submit if form.submit.data else reflections.save_draft
    try:
        # The save's conditional UPDATE finds out whether another save came in since the read.
        with writing(session):
            reflection = save(
                session,
                current_user,
                prompt,
                form.body.data,
                based_on=form.revision.data,
                reflection=reflection,
            )
    except reflections.ConflictError as conflict:
        newer = conflict.reflection
        return jsonify(
            conflict=True,
            revision=newer.revision_count,
            body=newer.current_body,
            message=gettext("This answer was changed in another tab or on another device."),
        ), 409
    except reflections.EmptyReflectionError:
        return jsonify(error=gettext("Write your answer before you submit it.")), 400
    except reflections.UnknownRevisionError:
        message = gettext(
            "Not saved: this page is out of date. Copy your text, reload the page, and paste it."
        )
        return jsonify(error=message), 400
    except reflections.GoneError:
        message = gettext("Not saved: this account or this question no longer exists.")
        return jsonify(error=message), 410
    return jsonify(
        revision=reflection.revision_count,
        state=reflection.state.value,
        message=saved_message(reflection),
    )


@bp.get("/prompts/<int:prompt_id>/answer/revisions")
@login_required
def reflection_revisions(prompt_id: int):
    session = get_session()
    reflection = access.load_own_reflection(session, current_user, prompt_id=prompt_id)
    return render_template(
        "learner/revisions.html",
        reflection=reflection,
        prompt=reflection.prompt,
        revisions=reflections.revisions(session, reflection),
    )
