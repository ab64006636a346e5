"""The ceiling to compare with: bare Flask routes on the product's database and server settings.

    gunicorn ... "bench.baseline:create_app()"

- ``GET /page/<id>``: one primary-key SELECT (a lesson row), then a template rendered
  to the byte size of a real lesson page (``BENCH_PAGE_BYTES``);
- ``POST /write/<id>``: one single-row UPDATE (a progress row's visit time) and a commit,
  in a write transaction begun the way the product begins one.

The engine comes from ``lms.db.make_engine``, so SQLite runs with the product's pragmas
(WAL, synchronous=NORMAL, busy timeout) and PostgreSQL with its pool.
"""

from __future__ import annotations

import os

from flask import Flask, abort, render_template
from sqlalchemy import Update, select, update

from lms.db import make_engine, now_utc
from lms.models import Lesson, LessonProgress

TEMPLATE_FRAME_BYTES = 400  # what bench/templates/baseline.html adds around the padding


def create_app() -> Flask:
    """The baseline app on LMS_DATABASE_URL, rendering pages of BENCH_PAGE_BYTES."""
    app = Flask(__name__)
    engine = make_engine(os.environ["LMS_DATABASE_URL"])
    app.extensions["bench_engine"] = engine  # for whoever stops the app to dispose of
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    target = int(os.environ.get("BENCH_PAGE_BYTES", "9000"))
    lesson_table = Lesson.__table__

    @app.get("/page/<int:lesson_id>")
    def page(lesson_id: int):
        with engine.connect() as conn:
            row = conn.execute(
                select(lesson_table.c.id, lesson_table.c.title, lesson_table.c.body_html).where(
                    lesson_table.c.id == lesson_id
                )
            ).first()
        if row is None:
            abort(404)
        # Pad the page to the lesson page's size: the same bytes to render and to send.
        fill = max(0, target - TEMPLATE_FRAME_BYTES - len(row.body_html) - 2 * len(row.title))
        return render_template("baseline.html", row=row, padding="x" * fill)

    @app.post("/write/<int:progress_id>")
    def write(progress_id: int):
        with writer.begin() as conn:
            result = conn.execute(touch_progress(progress_id))
        if result.rowcount != 1:
            abort(404)
        return "ok"

    return app


def touch_progress(progress_id: int) -> Update:
    """The write route's one statement: a progress row's visit time, set to now."""
    table = LessonProgress.__table__
    return update(table).where(table.c.id == progress_id).values(last_visited_at=now_utc())
