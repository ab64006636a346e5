"""The product's own floor for writes: its signed-in frame around the baseline's write.

    gunicorn ... "bench.frame:create_app()"

The product app with one more route, added here and never in the product:
``POST /frame/write/<id>`` runs the write route's statement (bench/baseline.py: one
UPDATE of a progress row, and a commit) behind what every signed-in POST of the product
pays first: the session cookie, the CSRF check, the signed-in user, and a write
transaction begun after the reads, as the autosave's is. The autosave does all of that
and its own work besides (the prompt and the answer it checks, the revision it keeps),
so it cannot be faster than this route: the benchmark reports it next to the write
route, as it reports the signed-in home page next to the template route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, abort
from flask_login import login_required

from bench.baseline import touch_progress
from lms import create_app as create_product_app
from lms.web.database import get_session, reads_first, writing

WRITE_PATH = "/frame/write/"


def create_app(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """The product app (from LMS_* variables, as lms.create_app) with the frame's write."""
    app = create_product_app(environ, overrides)

    @reads_first
    @login_required
    def write(progress_id: int):
        session = get_session()
        with writing(session):
            if session.connection().execute(touch_progress(progress_id)).rowcount != 1:
                abort(404)
        return "ok"

    app.add_url_rule(f"{WRITE_PATH}<int:progress_id>", "bench_frame_write", write, methods=["POST"])
    return app
