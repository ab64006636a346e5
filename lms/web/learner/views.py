"""The learner's way through modules: home ("My learning"), catalog, module, lesson, certificate.

Each view loads through a helper of ``lms.web.access``, calls the domain, commits once.
The lesson page writes (opening records progress) although it is a GET: it reads
first, then, when the visit records something new (``progress.visit_is_recorded``),
writes a single upsert (``with writing``), then renders.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from lms import progress, reflections, review
from lms.db import now_utc
from lms.models import Enrollment, Module
from lms.pagination import page_number, paginate
from lms.storage import Storage
from lms.web import access
from lms.web.database import get_session, writing
from lms.web.learner.forms import (
    ACCEPTED_EXTENSIONS,
    CompleteForm,
    EnrollForm,
)
from lms.web.template_filters import local_time

bp = Blueprint("learner", __name__)

PROMPT_PREVIEW_CHARS = 80


# --- Helpers shared by the learner's pages ------------------------------------


def storage() -> Storage:
    """The data dir's files (attachments and media blobs)."""
    return Storage(Path(current_app.config["LMS_DATA_DIR"]))


def data_dir() -> str:
    return current_app.config["LMS_DATA_DIR"]


def saved_message(reflection) -> str:
    """ "Saved 10:42" or "Submitted 10:42", in the learner's time zone."""
    at = local_time(reflection.updated_at, "time")
    if reflection.state == "submitted":
        return gettext("Submitted %(time)s", time=at)
    return gettext("Saved %(time)s", time=at)


def preview(text: str) -> str:
    """A prompt's text cut to a length that fits in a sentence."""
    text = " ".join(text.split())
    return text if len(text) <= PROMPT_PREVIEW_CHARS else text[: PROMPT_PREVIEW_CHARS - 1] + "…"


def lesson_url(module: Module, slug: str, **kwargs) -> str:
    return url_for("learner.lesson", slug=module.slug, lesson_slug=slug, **kwargs)


# --- Home and catalog ---------------------------------------------------------


@bp.get("/")
def home():
    # Light on purpose (no query beyond the signed-in user): "My learning" is one tap away.
    return render_template("learner/home.html")


@bp.get("/learning")
@login_required
def my_learning():
    session = get_session()
    return render_template(
        "learner/my_learning.html",
        enrolled=progress.my_learning(session, current_user),
        unread_feedback=review.unread_feedback_count(session, current_user),
    )


@bp.get("/modules")
def catalog():
    session = get_session()
    statement = select(Module).where(Module.published.is_(True)).order_by(Module.title, Module.id)
    page = paginate(session, statement, page_number(request.args.get("page")))
    enrolled: set[int] = set()
    if current_user.is_authenticated and page.items:
        enrolled = set(
            session.scalars(
                select(Enrollment.module_id).where(
                    Enrollment.user_id == current_user.id,
                    Enrollment.module_id.in_([m.id for m in page.items]),
                )
            )
        )
    return render_template("learner/catalog.html", page=page, enrolled=enrolled, form=EnrollForm())


@bp.get("/modules/<slug>")
@login_required
def module(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    outline = progress.outline(session, current_user, module)
    shared = progress.module_attachments(session, module)
    return render_template(
        "learner/module.html",
        module=module,
        enrollment=enrollment,
        outline=outline,
        attachments=shared if enrollment else [],
        form=EnrollForm(),
    )


@bp.post("/modules/<slug>/enroll")
@login_required
def enroll(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    form = EnrollForm()
    if form.validate_on_submit() and enrollment is None:
        progress.enroll(session, current_user, module)
        session.commit()
        flash(gettext("You are enrolled in %(title)s. Welcome!", title=module.title))
    return redirect(url_for("learner.resume", slug=module.slug))


@bp.get("/modules/<slug>/continue")
@login_required
def resume(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    if enrollment is None:
        return redirect(url_for("learner.module", slug=module.slug))
    entry = progress.outline(session, current_user, module).resume(enrollment.last_lesson_id)
    if entry is None:
        flash(gettext("This module has no lessons yet."))
        return redirect(url_for("learner.module", slug=module.slug))
    return redirect(lesson_url(module, entry.slug))


# --- The lesson player ----------------------------------------------------------


@bp.get("/modules/<slug>/lessons/<lesson_slug>")
@login_required
def lesson(slug: str, lesson_slug: str):
    session = get_session()
    lesson, enrollment = access.load_lesson(session, current_user, slug, lesson_slug)
    module = lesson.module
    if enrollment is None:
        flash(gettext("Enroll in this module to open its lessons."))
        return redirect(url_for("learner.module", slug=module.slug))
    outline = progress.outline(session, current_user, module)
    try:
        entry = progress.ensure_unlocked(outline, lesson)
    except progress.LessonLockedError as locked:
        return locked_page(lesson, locked.blocking)
    answers = reflections.answers_for_lesson(session, current_user, lesson)
    if not progress.visit_is_recorded(entry, enrollment, now_utc()):
        with writing(session):
            progress.open_lesson(session, current_user, lesson, enrollment, outline)
        outline = outline.with_opened(lesson.id)
        entry = outline.entries[outline.index(lesson.id)]
    before, after = outline.neighbours(lesson.id)
    missing = [a.prompt for a in answers if a.prompt.required and not a.submitted]
    return render_template(
        "learner/lesson.html",
        module=module,
        lesson=lesson,
        # Read only when the lesson's fragment is not cached yet.
        attachments=lambda: progress.lesson_attachments(session, lesson),
        entry=entry,
        outline=outline,
        before=before,
        after=after,
        answers=answers,
        max_chars=reflections.MAX_ANSWER_CHARS,
        missing=missing,
        max_upload_bytes=current_app.config["LMS_MAX_UPLOAD_BYTES"],
        accept=ACCEPTED_EXTENSIONS,
        saved_message=saved_message,
    )


@bp.post("/modules/<slug>/lessons/<lesson_slug>/complete")
@login_required
def complete(slug: str, lesson_slug: str):
    session = get_session()
    lesson, enrollment = access.load_lesson(session, current_user, slug, lesson_slug)
    if enrollment is None:
        return redirect(url_for("learner.module", slug=slug))
    if not CompleteForm().validate_on_submit():
        return redirect(lesson_url(lesson.module, lesson.slug))
    try:
        target = complete_and_say(session, lesson, enrollment)
    except progress.NotOpenedError:
        return locked_page(lesson, None)
    session.commit()
    return redirect(target)


def complete_and_say(session, lesson, enrollment) -> str:
    """Mark the lesson complete, or say which answers it still needs; the page to go to.

    Raises progress.NotOpenedError when the learner never opened the lesson.
    """
    try:
        finished = progress.complete_lesson(session, current_user, lesson, enrollment)
    except progress.MissingAnswersError as missing:
        names = "; ".join(f"“{preview(p.text)}”" for p in missing.prompts)
        flash(
            ngettext(
                "To complete this lesson, submit your answer to: %(names)s",
                "To complete this lesson, submit your answers to: %(names)s",
                len(missing.prompts),
                names=names,
            ),
            "error",
        )
        return lesson_url(lesson.module, lesson.slug, _anchor="reflect")
    if finished:
        flash(gettext("You completed the whole module. Well done!"))
        return url_for("learner.module", slug=lesson.module.slug)
    flash(gettext("Lesson complete."))
    return lesson_url(lesson.module, lesson.slug)


def locked_page(lesson, blocking):
    """The 403 page of a lesson the learner cannot open yet (blocking: the one to finish)."""
    return render_template(
        "learner/locked.html", module=lesson.module, lesson=lesson, blocking=blocking
    ), 403


@bp.get("/modules/<slug>/certificate")
@login_required
def certificate(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    if enrollment is None or enrollment.completed_at is None:
        return render_template(
            "errors/error.html",
            title=gettext("No certificate yet"),
            message=gettext("The certificate is ready once you complete every lesson."),
        ), 404
    return render_template("learner/certificate.html", module=module, enrollment=enrollment)
