"""A learner's own work: every answer and file, the export zip, and deleting the account."""

from __future__ import annotations

import tempfile

from flask import current_app, flash, redirect, render_template, send_file, session, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, logout_user

from lms import learner_files, offline, reflections, review
from lms.db import now_utc
from lms.models import Role
from lms.people import credentials, erasure, throttle
from lms.web.database import get_session, writing
from lms.web.errors import too_many
from lms.web.learner.forms import DeleteAccountForm, DeleteFileForm
from lms.web.learner.views import bp, data_dir
from lms.web.request_limits import minutes, use_of
from lms.web.security import FORGET_THIS_BROWSER


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
    wait = use_of(throttle.export_key(current_user.id))
    if wait:
        return too_many(
            wait,
            ngettext(
                "You have downloaded your work many times in the last hour. Please wait "
                "%(num)d minute and try again.",
                "You have downloaded your work many times in the last hour. Please wait "
                "%(num)d minutes and try again.",
                minutes(wait),
            ),
        )
    out = tempfile.TemporaryFile(prefix="lms-work-")  # noqa: SIM115  (send_file closes it)
    try:
        offline.write_work_zip(
            get_session(), current_user, out, data_dir=data_dir(), render=render_template
        )
        out.seek(0)
    except BaseException:
        out.close()
        raise
    name = f"my-work-{now_utc():%Y-%m-%d}.zip"
    return send_file(out, mimetype="application/zip", as_attachment=True, download_name=name)


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    is_admin = current_user.role == Role.ADMIN
    if not is_admin and form.validate_on_submit():
        if not credentials.check_password(current_user, form.password.data):
            form.password.errors.append(gettext("That is not your password."))
        else:
            db = get_session()
            user = current_user._get_current_object()
            folder = erasure.erase_account(db, user, data_dir())
            db.commit()
            learner_files.remove_paths([folder])
            logout_user()
            session.clear()
            flash(gettext("Your account and everything in it are deleted. Take care."))
            return redirect(url_for("learner.home")), FORGET_THIS_BROWSER
    return render_template("learner/delete_account.html", form=form, is_admin=is_admin)
