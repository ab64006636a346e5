"""A learner's own work: every reflection and file, with its feedback, and the export zip."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import ngettext
from flask_login import current_user, login_required

from lms import learner_files, offline, reflections, review
from lms.db import now_utc
from lms.people import throttle
from lms.web.database import get_session, writing
from lms.web.errors import over_limit
from lms.web.learner.forms import DeleteFileForm
from lms.web.learner.views import bp, send_zip
from lms.web.storage import storage


@bp.get("/my-work")
@login_required
def my_work():
    db = get_session()
    items = reflections.my_work(db, current_user)
    feedback = review.feedback_for_learner(db, current_user, [i.reflection.id for i in items])
    page = render_template(
        "learner/my_work.html",
        items=items,
        feedback=feedback,
        loose=learner_files.unattached(db, current_user),
        used=learner_files.used_bytes(db, current_user),
        quota=current_app.config["LMS_LEARNER_QUOTA_BYTES"],
        delete_form=DeleteFileForm(),
    )
    # Shown on this page (still marked "new" in it): from now on it counts as read.
    unread = [
        i.reflection
        for i in items
        if any(f.read_at is None for f in feedback.get(i.reflection.id, []))
    ]
    if unread:
        with writing(db):
            for reflection in unread:
                review.mark_feedback_read(db, current_user, reflection)
    return page


@bp.get("/my-work/export")
@login_required
def export_work():
    refused = over_limit(
        throttle.export_key(current_user.id),
        lambda minutes: ngettext(
            "You have downloaded your work many times in the last hour. Please wait "
            "%(num)d minute and try again.",
            "You have downloaded your work many times in the last hour. Please wait "
            "%(num)d minutes and try again.",
            minutes,
        ),
    )
    if refused:
        return refused
    return send_zip(
        f"my-work-{now_utc():%Y-%m-%d}.zip",
        lambda out: offline.write_work_zip(
            get_session(), current_user, out, storage=storage(), render=render_template
        ),
        prefix="lms-work-",
    )
