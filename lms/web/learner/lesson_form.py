"""The lesson page is one form: no button of it loses what was typed in another box.

Without JavaScript every button of the lesson page (Save draft, Submit answer, Upload,
Remove, Mark complete) posts the whole page here. Every box whose text changed is kept
as a draft first, each based on the revision its page showed and checked for a
conflict on its own; the files chosen for any prompt are attached; only then is the
pressed button's action done. A conflict on any box shows the conflict page with both
texts of each such box, and the action waits until the learner presses it again.
The autosave script saves box by box through ``lms.web.learner.reflections`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user
from sqlalchemy.orm import Session

from lms import learner_files, progress, reflections
from lms.models import Enrollment, LearnerFile, Lesson
from lms.web import access
from lms.web.database import get_session, reads_first, writing
from lms.web.ids import parse_id
from lms.web.learner import files, signed_out
from lms.web.learner.forms import ReflectionForm
from lms.web.learner.lessons import complete_and_say, locked_page
from lms.web.learner.views import bp, lesson_url, saved_message
from lms.web.request_limits import accepts_files


@dataclass
class Box:
    """One reflection box as the page sent it: the prompt's reflection and the form reading it."""

    prompt_reflection: reflections.PromptReflection
    form: ReflectionForm

    @property
    def prompt_id(self) -> int:
        return self.prompt_reflection.prompt.id

    @property
    def pressed(self) -> bool:
        """One of this box's own buttons was pressed (save, submit, keep both)."""
        return bool(self.form.save.data or self.form.submit.data or self.form.combine.data)

    def based_on(self, pressed_here: bool) -> int:
        """The revision the learner's text is based on.

        The conflict page sends each box with the newer revision it showed and the one
        the text was first based on (``-base``): the newer one counts only for the box
        whose button the learner pressed, having chosen what to keep; any other box is
        still in conflict and is shown again.
        """
        base = parse_id(request.form.get(f"p{self.prompt_id}-base"))
        return self.form.revision.data if pressed_here or base is None else base


@bp.post("/modules/<slug>/lessons/<lesson_slug>")
@accepts_files("LMS_LEARNER_QUOTA_BYTES")  # every box of the lesson, and the files chosen
@reads_first
def save_lesson(slug: str, lesson_slug: str):
    if not current_user.is_authenticated:
        page = signed_out.sign_in_to_save()
        if page is not None:
            return page
    session = get_session()
    lesson, enrollment = access.load_lesson(session, current_user, slug, lesson_slug)
    if enrollment is None:
        return redirect(url_for("learner.module", slug=slug))
    outline = progress.outline(session, current_user, lesson.module)
    try:
        entry = progress.ensure_unlocked(outline, lesson)
    except progress.LessonLockedError as locked:
        return locked_page(lesson.module, lesson, locked.blocking)
    if entry.state == progress.LessonState.NOT_STARTED:
        # Never opened, so never shown to them: nothing on it can have been typed.
        return redirect(lesson_url(lesson.module, lesson.slug))
    prompt_reflections = reflections.reflections_for_lesson(session, current_user, lesson)
    return post_reflections(session, lesson, enrollment, prompt_reflections)


def post_reflections(
    session: Session,
    lesson: Lesson,
    enrollment: Enrollment | None,
    prompt_reflections: list[reflections.PromptReflection],
):
    """Keep every box sent, attach the chosen files, then do what the pressed button asks."""
    if request.form.get("account", current_user.public_id) != current_user.public_id:
        # The page was opened in another account, which this browser has left since.
        return signed_out.texts_page(
            gettext(
                "This page was opened in another account, so nothing on it was saved here. "
                "Copy what you need from it."
            ),
            409,
        )
    boxes = [
        Box(prompt_reflection, ReflectionForm.for_prompt(prompt_reflection.prompt))
        for prompt_reflection in prompt_reflections
        if f"p{prompt_reflection.prompt.id}-body" in request.form
    ]
    if not all([box.form.validate() for box in boxes]):
        return _not_saved(lesson, boxes, 400)
    removing = None
    if request.form.get("remove"):
        # Looked up before anything is written: another's file answers 404 at once.
        removing = access.load_own_file(session, current_user, request.form["remove"])
    page = Page(lesson, enrollment, prompt_reflections, boxes, removing)
    attached = files.Attached()
    try:
        kept, action = _write(session, page, attached)
    except reflections.GoneError:
        # The account was deleted while this was on its way: nobody is signed in.
        logout_user()
        session.rollback()
        return signed_out.texts_page(
            gettext("Not saved: this account or a question of this page no longer exists."),
            410,
        )
    files.say_attached(attached)
    if action is None:
        return _refusals_page(lesson, kept)
    target, removed = action
    if removed is not None:
        learner_files.remove_paths([removed])
    return redirect(target)


@dataclass
class Page:
    """The lesson form as it was sent: its boxes, and the file its Remove button names."""

    lesson: Lesson
    enrollment: Enrollment | None
    prompt_reflections: list[reflections.PromptReflection]
    boxes: list[Box]
    removing: LearnerFile | None

    @property
    def pressed(self) -> Box | None:
        """The box whose own button was pressed, if any."""
        return next((box for box in self.boxes if box.pressed), None)


@dataclass
class Kept:
    """How keeping the boxes went: those in conflict, those refused, the one submitted."""

    conflicts: list[tuple[Box, reflections.ConflictError]]
    refused: list[Box]
    submitting: Box | None


def _write(session: Session, page: Page, attached: files.Attached):
    """The page's writes in one transaction: (how the boxes were kept, the button's action).

    The action, (where to go, the path of a removed file), is None when a box is in
    conflict or refused: it waits until the learner has seen them. A transaction that
    fails leaves no file behind that nothing refers to.
    """
    try:
        with writing(session):
            kept = _keep_boxes(session, page)
            _attach_chosen(session, page.prompt_reflections, attached)
            if kept.conflicts or kept.refused:
                return kept, None
            return kept, _act(session, page, kept.submitting)
    except BaseException:
        learner_files.remove_paths(attached.written)
        raise


def _keep_boxes(session: Session, page: Page) -> Kept:
    """Keep each box as a draft (the pressed one submitted if its button says so).

    Raises GoneError when the account or a prompt went meanwhile.
    """
    pressed = page.pressed
    submitting = pressed if pressed is not None and pressed.form.submit.data else None
    kept = Kept([], [], submitting)
    for box in page.boxes:
        try:
            _keep(session, box, box.based_on(box is pressed), submit=box is submitting)
        except reflections.ConflictError as conflict:
            kept.conflicts.append((box, conflict))
        except reflections.EmptyReflectionError:
            kept.submitting = None
            flash(gettext("Write your answer before you submit it."), "error")
        except reflections.UnknownRevisionError:
            box.form.body.errors = [
                gettext(
                    "Not saved: this page is out of date. Copy your text, reload the page, "
                    "and paste it."
                )
            ]
            kept.refused.append(box)
    return kept


def _attach_chosen(
    session: Session,
    prompt_reflections: list[reflections.PromptReflection],
    attached: files.Attached,
) -> None:
    """Attach the files chosen in every prompt that takes files."""
    for prompt_reflection in prompt_reflections:
        chosen = (
            files.chosen_files(prompt_reflection.prompt)
            if prompt_reflection.prompt.accepts_files
            else []
        )
        if chosen:
            files.attach(
                session, prompt_reflection.prompt, prompt_reflection.reflection, chosen, attached
            )


def _refusals_page(lesson: Lesson, kept: Kept):
    """The boxes in conflict side by side; with any refused box, every such box again."""
    if not kept.refused:
        return _conflict_page(lesson, kept.conflicts)
    for box, _conflict in kept.conflicts:  # shown too, so that no text leaves the screen
        box.form.body.errors = [
            gettext("Changed in another tab or on another device: save to see both texts.")
        ]
    return _not_saved(lesson, kept.refused + [box for box, _conflict in kept.conflicts], 400)


def _keep(session: Session, box: Box, based_on: int, *, submit: bool) -> None:
    body = box.form.body.data
    reflection = box.prompt_reflection.reflection
    combine = box.form.combine.data and reflection is not None
    if combine and reflection.revision_count == based_on:
        # The conflict page's "keep both": the newer text, then the learner's.
        body = reflection.current_body.rstrip() + "\n\n" + body.lstrip()
    verb = reflections.submit if submit else reflections.save_draft
    box.prompt_reflection.reflection = verb(
        session,
        current_user,
        box.prompt_reflection.prompt,
        body,
        based_on=based_on,
        reflection=reflection,
    )


def _act(session: Session, page: Page, submitting: Box | None) -> tuple[str, Path | None]:
    """Do what the pressed button asks; (where to go, the path of a removed file)."""
    lesson, prompt_reflections, pressed = page.lesson, page.prompt_reflections, page.pressed
    if page.removing is not None:
        path = files.remove(session, page.removing)
        owner = next((a for a in prompt_reflections if page.removing in a.files), None)
        return _url(lesson, owner.prompt.id if owner else None), path
    if request.form.get("complete") and page.enrollment is not None:
        return complete_and_say(session, lesson, page.enrollment), None
    upload = next(
        (a for a in prompt_reflections if request.form.get(f"u{a.prompt.id}-submit")), None
    )
    if upload is not None:
        if not files.chosen_files(upload.prompt):
            flash(gettext("Choose a file to attach."), "error")
        return _url(lesson, upload.prompt.id), None
    if submitting is not None:
        flash(gettext("Your answer is submitted. You can still edit it and submit it again."))
    elif pressed is None:
        flash(gettext("What you wrote is saved."))
    elif not pressed.form.submit.data:  # Save draft, or a choice on the conflict page
        reflection = pressed.prompt_reflection.reflection
        if reflection is not None and reflection.revision_count:
            flash(saved_message(reflection))
    return _url(lesson, pressed.prompt_id if pressed else None), None


def _url(lesson: Lesson, prompt_id: int | None) -> str:
    anchor = f"prompt-{prompt_id}" if prompt_id else "reflect"
    return lesson_url(lesson.module, lesson.slug, _anchor=anchor)


def _conflict_page(lesson: Lesson, conflicts: list[tuple[Box, reflections.ConflictError]]):
    return render_template(
        "learner/conflict.html",
        lesson=lesson,
        conflicts=[(box.prompt_reflection.prompt, conflict) for box, conflict in conflicts],
        back=_url(lesson, conflicts[0][0].prompt_id),
    ), 409


def _not_saved(lesson: Lesson, boxes: list[Box], status: int):
    return render_template(
        "learner/answer.html",
        lesson=lesson,
        boxes=[(box.prompt_reflection.prompt, box.form) for box in boxes],
        back=_url(lesson, boxes[0].prompt_id if boxes else None),
    ), status
