"""The lesson page: opening a lesson (which records the visit) and marking it complete.

The page reads first, then, when the visit records something new
(``progress.visit_is_recorded``), writes a single upsert (``with writing``), then
renders. What the page's one form sends is handled by ``lms.web.learner.lesson_form``.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from lms import progress, reflections
from lms.db import now_utc
from lms.web import access
from lms.web.database import get_session, writing
from lms.web.learner.forms import ACCEPTED_EXTENSIONS, CompleteForm
from lms.web.learner.views import bp, lesson_url, saved_message

PROMPT_PREVIEW_CHARS = 80


@bp.get("/modules/<slug>/lessons/<lesson_slug>")
@login_required
def lesson(slug: str, lesson_slug: str):
    session = get_session()
    view = access.load_lesson_view(session, current_user, slug, lesson_slug)
    module, lesson, enrollment, outline = view.module, view.lesson, view.enrollment, view.outline
    if enrollment is None:
        flash(gettext("Enroll in this module to open its lessons."))
        return redirect(url_for("learner.module", slug=module.slug))
    try:
        entry = progress.ensure_unlocked(outline, lesson)
    except progress.LessonLockedError as locked:
        return locked_page(module, lesson, locked.blocking)
    if not progress.visit_is_recorded(entry, enrollment, now_utc()):
        with writing(session):
            progress.open_lesson(session, current_user, lesson, enrollment, outline)
        outline = outline.with_opened(lesson.id)
        entry = outline.entries[outline.index(lesson.id)]
    before, after = outline.neighbours(lesson.id)
    prompt_reflections = view.prompt_reflections
    missing = [a.prompt for a in prompt_reflections if a.prompt.required and not a.submitted]
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
        prompt_reflections=prompt_reflections,
        max_chars=reflections.MAX_REFLECTION_CHARS,
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
        return locked_page(lesson.module, lesson, None)
    session.commit()
    return redirect(target)


def complete_and_say(session, lesson, enrollment) -> str:
    """Mark the lesson complete, or say which reflections it still needs; the page to go to.

    Raises progress.NotOpenedError when the learner never opened the lesson.
    """
    try:
        finished = progress.complete_lesson(session, current_user, lesson, enrollment)
    except progress.MissingReflectionsError as missing:
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


def locked_page(module, lesson, blocking):
    """The 403 page of a lesson the learner cannot open yet (blocking: the one to finish)."""
    return render_template(
        "learner/locked.html", module=module, lesson=lesson, blocking=blocking
    ), 403


def preview(text: str) -> str:
    """A prompt's text cut to a length that fits in a sentence."""
    text = " ".join(text.split())
    return text if len(text) <= PROMPT_PREVIEW_CHARS else text[: PROMPT_PREVIEW_CHARS - 1] + "…"
