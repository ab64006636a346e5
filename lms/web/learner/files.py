"""Learner files: attaching them to a reflection, downloading them, removing them.

The upload script sends one prompt's files here (it shows a progress bar); the lesson
page's form, sent without it, attaches the files chosen in every prompt through the
same ``attach``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from lms import filetypes, learner_files, reflections
from lms.models import LearnerFile, Prompt, Reflection
from lms.web import access
from lms.web.database import get_session
from lms.web.errors import wants_json
from lms.web.forms import require_pressed
from lms.web.learner.forms import DeleteFileForm, UploadForm
from lms.web.learner.views import bp, lesson_url
from lms.web.request_limits import accepts_files
from lms.web.security import safe_next
from lms.web.storage import storage
from lms.web.template_filters import file_size

# Learner files are never shown inline: a browser saves them, whatever they claim to be.
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


@dataclass
class Attached:
    """What one request attached: the files, the refusals in words, the paths written."""

    added: list[LearnerFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def chosen_files(prompt: Prompt) -> list[FileStorage]:
    """The files chosen in the prompt's file field (a browser sends an empty one for none)."""
    return [f for f in request.files.getlist(f"u{prompt.id}-files") if f.filename]


def attach(
    session: Session,
    prompt: Prompt,
    reflection: Reflection | None,
    uploads: list[FileStorage],
    attached: Attached,
) -> None:
    """Attach the uploads to the learner's reflection, each in a savepoint; refusals say why."""
    reflection = reflections.ensure_reflection(session, current_user, prompt, reflection)
    limits = learner_files.Limits(
        max_bytes=current_app.config["LMS_MAX_UPLOAD_BYTES"],
        quota_bytes=current_app.config["LMS_LEARNER_QUOTA_BYTES"],
    )
    for upload in uploads:
        try:
            with session.begin_nested():
                learner_file = learner_files.add_file(
                    session,
                    current_user,
                    reflection,
                    upload.stream,
                    upload.filename,
                    storage=storage(),
                    limits=limits,
                )
        except learner_files.FileTooLargeError as error:
            attached.problems.append(
                gettext(
                    "“%(name)s” is larger than %(limit)s, the most one file may be.",
                    name=error.filename,
                    limit=file_size(error.limit),
                )
            )
        except learner_files.QuotaExceededError as error:
            attached.problems.append(
                gettext(
                    "“%(name)s” does not fit: your files may take %(quota)s in all and "
                    "already take %(used)s. Remove a file you no longer need.",
                    name=error.filename,
                    quota=file_size(error.quota),
                    used=file_size(error.used),
                )
            )
        except filetypes.UnsupportedFileError as error:
            attached.problems.append(error.translated(gettext))
        else:
            attached.added.append(learner_file)
            attached.written.append(storage().learner_file_path(learner_file))


def commit(session: Session, attached: Attached) -> None:
    """Commit; a commit that fails leaves no file behind that nothing refers to."""
    try:
        session.commit()
    except BaseException:
        learner_files.remove_paths(attached.written)
        raise


def say_attached(attached: Attached) -> None:
    """Say on the next page what was attached and what was refused, and why."""
    if attached.added:
        flash(
            ngettext(
                "Attached %(num)d file to your answer.",
                "Attached %(num)d files to your answer.",
                len(attached.added),
            )
        )
    for problem in attached.problems:
        flash(problem, "error")


def remove(session: Session, learner_file: LearnerFile) -> Path:
    """Remove the learner's file and say so; returns its path, to delete after the commit."""
    name = learner_file.filename
    path = learner_files.delete_file(session, learner_file, storage())
    flash(gettext("Removed “%(name)s”.", name=name))
    return path


def _back_to(prompt: Prompt) -> str:
    return lesson_url(prompt.lesson.module, prompt.lesson.slug, _anchor=f"prompt-{prompt.id}")


@bp.post("/prompts/<int:prompt_id>/answer/files")
@accepts_files("LMS_LEARNER_QUOTA_BYTES")  # several files, together within the quota
@login_required
def upload_files(prompt_id: int):
    session = get_session()
    prompt, reflection = access.load_prompt(session, current_user, prompt_id)
    if not prompt.accepts_files:
        abort(404)
    form = UploadForm.for_prompt(prompt)
    attached = Attached()
    if not form.validate_on_submit():
        attached.problems.append(gettext("Choose a file to attach."))
        status = 400
    else:
        attach(session, prompt, reflection, form.files.data, attached)
        commit(session, attached)
        status = 200 if attached.added or not attached.problems else 400
    # Said on the lesson page either way: the upload script goes there when done.
    say_attached(attached)
    if wants_json():
        return jsonify(redirect=_back_to(prompt), problems=attached.problems), status
    return redirect(_back_to(prompt))


@bp.get("/files/<public_id>")
@login_required
def learner_file(public_id: str):
    session = get_session()
    learner_file = access.load_learner_file(session, current_user, public_id)
    path = storage().learner_file_path(learner_file)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=filetypes.media_type(learner_file.content_type),
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
    require_pressed(DeleteFileForm)
    path = remove(session, learner_file)
    session.commit()
    learner_files.remove_paths([path])
    return redirect(safe_next(request.form.get("next"), url_for("learner.my_work")))
