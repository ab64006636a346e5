"""What a learner downloads: attachments (recorded in their progress) and the offline zip."""

from __future__ import annotations

import tempfile

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from lms import filetypes, offline, progress
from lms.people import throttle
from lms.web import access
from lms.web.database import get_session, writing
from lms.web.errors import too_many
from lms.web.learner.views import bp, data_dir, storage
from lms.web.request_limits import minutes, use_of


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    session = get_session()
    attachment = access.load_attachment(session, current_user, attachment_id)
    path = storage().blob_path(attachment.sha256)
    if not path.is_file():
        abort(404)
    with writing(session):
        progress.record_download(session, current_user, attachment)
    # A path, not a stream: sizes and ranges let a slow connection resume a download.
    return send_file(
        path,
        mimetype=filetypes.media_type(attachment.content_type),
        as_attachment=True,
        download_name=attachment.filename,
        etag=attachment.sha256,
        max_age=0,
    )


@bp.get("/modules/<slug>/download")
@login_required
def download_module(slug: str):
    session = get_session()
    module, enrollment = access.load_module(session, current_user, slug)
    if enrollment is None:
        flash(gettext("Enroll in this module to download it."))
        return redirect(url_for("learner.module", slug=module.slug))
    wait = use_of(throttle.download_key(current_user.id))
    if wait:
        return too_many(
            wait,
            ngettext(
                "You have downloaded modules many times in the last hour. Please wait "
                "%(num)d minute and try again.",
                "You have downloaded modules many times in the last hour. Please wait "
                "%(num)d minutes and try again.",
                minutes(wait),
            ),
        )
    outline = progress.outline(session, current_user, module)
    # Written to a temporary file (gone when closed), never built in memory.
    out = tempfile.TemporaryFile(prefix="lms-module-")  # noqa: SIM115  (send_file closes it)
    try:
        offline.write_module_zip(
            session,
            current_user,
            module,
            outline,
            out,
            storage=storage(),
            data_dir=data_dir(),
            render=render_template,
        )
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return send_file(
        out, mimetype="application/zip", as_attachment=True, download_name=f"{module.slug}.zip"
    )
