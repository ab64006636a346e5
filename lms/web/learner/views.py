"""The learner's blueprint, the helpers its pages share, and its home pages ("My learning").

Each view of the blueprint loads through a helper of ``lms.web.access``, calls the
domain, commits once. Its pages are in the modules named for their URLs: modules,
lessons, lesson_form, reflections, files, attachments, my_work, cohorts, gallery, sharing,
invitations.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import BinaryIO

from flask import Blueprint, render_template, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from lms import progress, review
from lms.models import Module
from lms.web.database import get_session
from lms.web.template_filters import local_time

bp = Blueprint("learner", __name__)


# --- Helpers shared by the learner's pages ------------------------------------


def send_zip(name: str, write: Callable[[BinaryIO], None], prefix: str):
    """A zip written by ``write`` to a temporary file (gone once sent), never built in memory."""
    out = tempfile.TemporaryFile(prefix=prefix)  # noqa: SIM115  (send_file closes it)
    try:
        write(out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return send_file(out, mimetype="application/zip", as_attachment=True, download_name=name)


def saved_message(reflection) -> str:
    """ "Saved 10:42" or "Submitted 10:42", in the learner's time zone."""
    at = local_time(reflection.updated_at, "time")
    if reflection.state == "submitted":
        return gettext("Submitted %(time)s", time=at)
    return gettext("Saved %(time)s", time=at)


def lesson_url(module: Module, slug: str, **kwargs) -> str:
    return url_for("learner.lesson", slug=module.slug, lesson_slug=slug, **kwargs)


# --- Home --------------------------------------------------------------------------


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
