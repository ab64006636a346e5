"""Answers sent but not saved, shown back: after their session ended, or holding U+0000.

A lesson page open when its session ends (signed out on another device, the password
changed there) still sends its form. Its texts come back on a page where they can be
copied, with the sign-in fields: signing in there saves them, but only into the account
the page was opened in (the form carries its public id), never into whoever signs in.

A form whose text holds U+0000 (pasted from some documents; no database here stores it)
is refused before any view reads it; without JavaScript to take the character out, its
texts come back the same way, without it, one button from saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, flash, render_template, request
from flask_babel import gettext, ngettext

from lms.people import credentials
from lms.web.accounts.forms import LoginForm
from lms.web.accounts.views import start_session, too_many_attempts
from lms.web.database import get_session, writing
from lms.web.errors import unstorable_text_answer, wants_json
from lms.web.learner.views import bp
from lms.web.request_limits import UnstorableTextError

_BODY = re.compile(r"p(\d+)-body")


@dataclass(frozen=True)
class SentText:
    """One reflection box as the page sent it, to be sent again from the page shown back."""

    prompt_id: int
    body: str
    revision: str
    base: str | None


def sent_texts() -> list[SentText]:
    """The reflection boxes of the post, in the page's order, without any U+0000."""
    texts = []
    for name, body in request.form.items():
        match = _BODY.fullmatch(name)
        if match:
            prompt = match[1]
            texts.append(
                SentText(
                    int(prompt),
                    body.replace("\x00", ""),
                    request.form.get(f"p{prompt}-revision", ""),
                    request.form.get(f"p{prompt}-base"),
                )
            )
    return texts


def texts_page(message: str, status: int, form: LoginForm | None = None):
    """The texts of the post shown back with the reason they were not saved."""
    chosen = sum(1 for f in request.files.values() if f.filename)
    return render_template(
        "learner/signed_out.html",
        message=message,
        texts=sent_texts(),
        account=request.form.get("account", ""),
        form=form,
        files_note=ngettext(
            "The file you chose was not sent: choose it again once your text is saved.",
            "The %(num)d files you chose were not sent: choose them again once your text is saved.",
            chosen,
        )
        if chosen
        else None,
    ), status


def sign_in_to_save():
    """None once the learner has signed in from the page as its own account; else a page.

    The first post of a signed-out page gets its texts back with the sign-in fields;
    that page posts them again with the email and password.
    """
    form = LoginForm()
    message = gettext(
        "You were signed out (on another device, or your password was changed), so what "
        "you wrote here is not saved yet. It is below: sign in to save it, or copy it."
    )
    status = 401
    if "password" in request.form and form.validate():
        with writing(get_session()) as db:  # a failure is counted, a success recorded
            attempt = credentials.sign_in(
                db, current_app.config, form.email.data, form.password.data, request.remote_addr
            )
            if attempt.retry_after:
                message, status = too_many_attempts(attempt.retry_after), 429
            elif attempt.user is None:
                message = gettext("That email and password do not match an account we can sign in.")
            elif attempt.user.public_id != request.form.get("account"):
                message = gettext(
                    "This text was written in another account, so it cannot be saved in this "
                    "one. Sign in with the account you wrote it in, or copy it."
                )
            else:
                start_session(attempt.user, remember=form.remember.data)
                flash(gettext("You are signed in again."))
                return None
    return texts_page(message, status, form)


@bp.errorhandler(UnstorableTextError)
def unstorable_reflections(error: UnstorableTextError):
    """A reflection form with U+0000: its texts back without it (scripts get the app's JSON)."""
    if wants_json() or not sent_texts():
        return unstorable_text_answer()
    return texts_page(
        gettext(
            "Nothing was saved yet: your text held an invisible character (U+0000) that "
            "this site cannot store; it often comes with text pasted from another document. "
            "It is taken out below: press Save to keep your text."
        ),
        400,
    )
