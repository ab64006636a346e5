"""Images, sound and video shown inside lessons, served from their content-addressed blobs.

Only raster images, audio and video are ever shown inline; anything else is sent as
a download. Every answer says ``nosniff`` and carries a sandboxing CSP, so a file
can never become a page of this site. The lesson HTML links each file with
``?v=<hash>``: such a URL always names the same bytes and may be cached for a year.
An image's web-sized copies are the same URL with ``&w=<width>`` (and their own hash):
whoever may see the image may see its copies, and nobody else.
"""

from __future__ import annotations

import posixpath

from flask import Blueprint, abort, request, send_file
from flask_login import current_user

from lms import filetypes
from lms.html import MEDIA_URL_PREFIX
from lms.models import Media, MediaVariant, Role
from lms.web import access
from lms.web.database import get_session
from lms.web.storage import storage

bp = Blueprint("media", __name__, url_prefix=MEDIA_URL_PREFIX)
access.guard_blueprint(bp, Role.LEARNER, Role.FACILITATOR, Role.ADMIN)

A_YEAR = 365 * 24 * 3600
MEDIA_CSP = "default-src 'none'; sandbox"


@bp.get("/<module_slug>/<path:path>")
def media_file(module_slug: str, path: str):
    media = access.load_media(get_session(), current_user, module_slug, path)
    served: Media | MediaVariant = media
    if "w" in request.args:
        served = _variant(media, request.args["w"])
    blob = storage().blob_path(served.sha256)
    if not blob.is_file():
        abort(404)
    known = filetypes.type_for_name(media.path)
    inline = known is not None and known.inline and known.content_type == served.content_type
    # A path, not a stream: its size lets players seek and slow connections resume.
    response = send_file(
        blob,
        mimetype=served.content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=posixpath.basename(media.path),
        conditional=True,
        etag=served.sha256,
        max_age=None,
    )
    if request.args.get("v") == served.sha256[:16]:
        response.headers["Cache-Control"] = f"private, max-age={A_YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _variant(media: Media, width: str) -> MediaVariant:
    """The image's copy this many pixels wide, else 404."""
    found = next((v for v in media.variants if str(v.width) == width), None)
    if found is None:
        abort(404)
    return found
