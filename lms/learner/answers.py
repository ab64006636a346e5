"""Answers to prompts: saving (autosave or the Save button), submitting, conflicts, files.

The same endpoint serves the page's form without JavaScript (redirects, a conflict
page) and the autosave script (JSON, 409 on a conflict), told apart by ``Accept``.
An autosave reads the user and the prompt with the learner's reflection, then, in one
short write transaction, runs one conditional UPDATE and one INSERT.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from lms import access, filetypes, learner_files, reflections
from lms.db import begin_write, get_session, reads_first
from lms.errors import wants_json
from lms.learner.forms import AnswerForm, DeleteFileForm, UploadForm
from lms.learner.views import bp, data_dir, file_size, lesson_url, saved_message
from lms.models import Prompt
from lms.security import safe_next

# Learner files are never shown inline: a browser saves them, whatever they claim to be.
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


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


# --- Learner files ------------------------------------------------------------------


@bp.post("/prompts/<int:prompt_id>/answer/files")
@login_required
def upload_files(prompt_id: int):
    session = get_session()
    prompt, reflection = access.load_prompt(session, current_user, prompt_id)
    if not prompt.accepts_files:
        abort(404)
    form = UploadForm.for_prompt(prompt)
    if not form.validate_on_submit():
        return _upload_answer(prompt, [], [gettext("Choose a file to attach.")], 400)
    reflection = reflections.ensure_reflection(session, current_user, prompt, reflection)
    limits = learner_files.Limits(
        max_bytes=current_app.config["LMS_MAX_UPLOAD_BYTES"],
        quota_bytes=current_app.config["LMS_LEARNER_QUOTA_BYTES"],
    )
    added, problems, written = [], [], []
    for upload in form.files.data:
        try:
            with session.begin_nested():
                learner_file = learner_files.add_file(
                    session,
                    current_user,
                    reflection,
                    upload.stream,
                    upload.filename,
                    data_dir=data_dir(),
                    limits=limits,
                )
        except learner_files.FileTooLargeError as error:
            problems.append(
                gettext(
                    "“%(name)s” is larger than %(limit)s, the most one file may be.",
                    name=error.filename,
                    limit=file_size(error.limit),
                )
            )
        except learner_files.QuotaExceededError as error:
            problems.append(
                gettext(
                    "“%(name)s” does not fit: your files may take %(quota)s in all and "
                    "already take %(used)s. Remove a file you no longer need.",
                    name=error.filename,
                    quota=file_size(error.quota),
                    used=file_size(error.used),
                )
            )
        except filetypes.UnsupportedFileError as error:
            problems.append(error.translated(gettext))
        else:
            added.append(learner_file)
            written.append(learner_files.file_path(data_dir(), learner_file))
    try:
        session.commit()
    except BaseException:
        learner_files.remove_paths(written)
        raise
    return _upload_answer(prompt, added, problems, 200 if added or not problems else 400)


def _upload_answer(prompt: Prompt, added: list, problems: list[str], status: int):
    # Said on the lesson page either way: the upload script goes there when done.
    if added:
        flash(
            ngettext(
                "Attached %(num)d file to your answer.",
                "Attached %(num)d files to your answer.",
                len(added),
            )
        )
    for problem in problems:
        flash(problem, "error")
    if wants_json():
        return jsonify(redirect=_back_to(prompt), problems=problems), status
    return redirect(_back_to(prompt))


@bp.get("/files/<public_id>")
@login_required
def learner_file(public_id: str):
    session = get_session()
    learner_file = access.load_learner_file(session, current_user, public_id)
    path = learner_files.file_path(data_dir(), learner_file)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=learner_file.content_type,
        as_attachment=True,
        download_name=learner_file.filename,
        max_age=0,
        etag=learner_file.sha256,
    )
    response.headers.update(FILE_HEADERS)
    return response


@bp.post("/files/<public_id>/delete")
@login_required
def delete_file(public_id: str):
    session = get_session()
    learner_file = access.load_own_file(session, current_user, public_id)
    if not DeleteFileForm().validate_on_submit():
        abort(400)
    name = learner_file.filename
    path = learner_files.delete_file(session, learner_file, data_dir())
    session.commit()
    learner_files.remove_paths([path])
    flash(gettext("Removed “%(name)s”.", name=name))
    return redirect(safe_next(request.form.get("next"), url_for("learner.my_work")))
