"""The benchmark's reference routes do what their ratios assume (docs/performance.md).

bench/baseline.py's write route and bench/frame.py's signed-in write run the same one
UPDATE; the frame's must pay everything a signed-in POST of the product pays, or the
floor it reports would be lower than the autosave's real one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bench import baseline, frame
from lms.models import LessonProgress
from lms.web.database import database
from tests.conftest import PASSWORD, csrf_token
from tests.factories import make_module

EARLIER = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def progress(db, make_user):
    """A learner and one progress row of theirs, last visited long ago."""
    learner = make_user()
    module = make_module(db, lessons=1)
    row = LessonProgress(
        user_id=learner.id, lesson_id=module.lessons[0].id, last_visited_at=EARLIER
    )
    db.add(row)
    db.commit()
    return learner, row.id


def _visited(db, progress_id: int) -> datetime:
    visited = db.scalar(
        select(LessonProgress.last_visited_at).where(LessonProgress.id == progress_id)
    )
    db.rollback()  # the test's session must not keep SQLite's write lock from the app
    return visited


def test_the_write_route_updates_one_progress_row(db, progress, database_url, monkeypatch):
    _learner, progress_id = progress
    monkeypatch.setenv("LMS_DATABASE_URL", database_url)
    app = baseline.create_app()
    client = app.test_client()
    assert client.post(f"/write/{progress_id}").status_code == 200
    assert client.post(f"/write/{progress_id + 1000}").status_code == 404
    app.extensions["bench_engine"].dispose()
    assert _visited(db, progress_id) > EARLIER


@pytest.fixture
def frame_client(environ):
    app = frame.create_app(environ, {"TESTING": True})
    yield app.test_client()
    database(app).engine.dispose()


def test_the_frame_write_pays_for_sign_in_and_csrf_first(db, progress, frame_client):
    learner, progress_id = progress
    path = f"{frame.WRITE_PATH}{progress_id}"
    signed_out = frame_client.post(path, headers={"X-CSRFToken": csrf_token(frame_client)})
    assert signed_out.status_code == 302  # to the sign-in page
    token = csrf_token(frame_client, "/login")
    frame_client.post(
        "/login", data={"email": learner.email, "password": PASSWORD, "csrf_token": token}
    )
    assert frame_client.post(path).status_code == 400  # no CSRF token
    assert _visited(db, progress_id) == EARLIER

    token = csrf_token(frame_client)
    assert frame_client.post(path, headers={"X-CSRFToken": token}).status_code == 200
    assert _visited(db, progress_id) > EARLIER
    missing = f"{frame.WRITE_PATH}{progress_id + 1000}"
    assert frame_client.post(missing, headers={"X-CSRFToken": token}).status_code == 404
