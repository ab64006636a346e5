"""A module's attachments, downloaded by its learners (each download recorded in their progress)."""

from __future__ import annotations

from flask import abort, send_file
from flask_login import current_user, login_required

from lms import filetypes, progress
from lms.web import access
from lms.web.database import get_session, writing
from lms.web.learner.views import bp
from lms.web.storage import storage


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
