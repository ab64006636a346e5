"""Zips to take away (the module offline, everything I wrote) and deleting my account."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import review
from lms.models import (
    AuditEvent,
    Enrollment,
    LearnerFile,
    LessonProgress,
    Prompt,
    Reflection,
    ReflectionRevision,
    Role,
    Throttle,
    User,
)
from lms.offline import localise_media
from lms.people import throttle
from lms.web.storage import storage
from tests.conftest import PASSWORD
from tests.factories import PDF_BYTES, make_enrollment, make_module, png_bytes


@pytest.fixture
def worked(app, client, db, make_user, auth):
    """A learner who answered lesson 1 (twice, with a file) and completed it."""
    user = make_user(name="Amina")
    auth.login(user.email)
    module = make_module(
        db,
        lessons=3,
        prompts=[{"text": "What keeps you going?", "accepts_files": True}],
        attachments=1,
        module_attachments=1,
        media=True,
        data_dir=app.config["LMS_DATA_DIR"],
        slug="wellness",
        title="Holistic wellness",
    )
    make_enrollment(db, user, module)
    prompt = db.scalar(select(Prompt).where(Prompt.lesson.has(module_id=module.id, position=1)))
    db.commit()
    p = prompt.id
    client.get("/modules/wellness/lessons/lesson-1")
    auth.post(f"/prompts/{p}/answer", {f"p{p}-body": "My *first* try", f"p{p}-revision": "0"})
    auth.post(
        f"/prompts/{p}/answer",
        {f"p{p}-body": "My **final** answer", f"p{p}-revision": "1", f"p{p}-submit": "y"},
    )
    auth.post(
        f"/prompts/{p}/answer/files",
        {f"u{p}-files": [(io.BytesIO(png_bytes()), "drawing.png")]},
        content_type="multipart/form-data",
    )
    auth.post("/modules/wellness/lessons/lesson-1/complete")
    return user, module


def _zip(response) -> zipfile.ZipFile:
    with response:
        data = response.get_data()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(data))


def test_media_addresses_point_into_the_zip():
    html = (
        '<img src="/media/wellness/maps/a%20map.png?v=0123abcd" alt="x">'
        '<a href="/media/other/b.png">'
    )
    assert localise_media(html, "wellness") == (
        '<img src="media/maps/a%20map.png" alt="x"><a href="/media/other/b.png">'
    )


def test_download_this_module_for_offline_use(client, worked):
    _user, _module = worked
    archive = _zip(client.get("/modules/wellness/download"))
    names = set(archive.namelist())
    # Lessons 1 and 2 are open to the learner; lesson 3 opens later.
    assert {"index.html", "01-lesson-1.html", "02-lesson-2.html"} <= names
    assert "03-lesson-3.html" not in names
    assert "media/map.png" in names
    # 600 pixels wide, the image is its own web size (its 480-pixel copy stays behind).
    assert archive.read("media/map.png") == png_bytes(600, 400)
    attachments = sorted(n for n in names if n.startswith("attachments/"))
    assert len(attachments) == 3  # lessons 1 and 2, and the module's own
    assert all(archive.read(n).startswith(PDF_BYTES) for n in attachments)
    assert "my-files/drawing.png" in names

    lesson = archive.read("01-lesson-1.html").decode()
    assert 'src="media/map.png"' in lesson
    assert "/media/" not in lesson
    assert "srcset" not in lesson
    assert 'width="600" height="400"' in lesson
    assert "<strong>final</strong>" in lesson
    assert "What keeps you going?" in lesson
    assert 'href="my-files/drawing.png"' in lesson
    assert 'href="02-lesson-2.html"' in lesson
    assert "<script" not in lesson
    index = archive.read("index.html").decode()
    assert "1 more lesson opens" in index


def test_export_my_work_has_every_revision_and_file(client, worked):
    user, _module = worked
    archive = _zip(client.get("/my-work/export"))
    data = json.loads(archive.read("work.json"))
    assert data["account"]["email"] == user.email
    [answer] = data["reflections"]
    assert answer["text"] == "My **final** answer"
    assert [(r["number"], r["text"], r["submitted"]) for r in answer["revisions"]] == [
        (1, "My *first* try", False),
        (2, "My **final** answer", True),
    ]
    assert answer["files"] == ["files/drawing.png"]
    assert archive.read("files/drawing.png") == png_bytes()
    assert [p["status"] for p in data["progress"]] == ["complete"]
    assert data["enrollments"][0]["module"] == "wellness"
    page = archive.read("index.html").decode()
    assert "<strong>final</strong>" in page
    assert "<em>first</em>" in page


def test_my_work_lists_answers_and_files(client, worked):
    page = client.get("/my-work").get_data(as_text=True)
    assert "What keeps you going?" in page
    assert "<strong>final</strong>" in page
    assert "drawing.png" in page
    assert "2 versions" in page


def _count(db, model) -> int:
    n = db.scalar(select(func.count()).select_from(model))
    db.commit()
    return n


def test_deleting_my_account_removes_my_data_and_says_what_is_kept(app, client, auth, db, worked):
    user, _module = worked
    db.add(
        Throttle(
            key=throttle.account_key(user.email), attempts=1, window_started_at=user.created_at
        )
    )
    db.commit()
    folder = storage(app).learner_folder(user.id)
    assert any(folder.iterdir())

    page = client.get("/account/delete").get_data(as_text=True)
    assert "What is kept" in page
    assert "audit log" in page

    wrong = auth.post("/account/delete", {"password": "not my password", "understood": "y"})
    assert "That is not your password." in wrong.get_data(as_text=True)
    assert _count(db, User) == 1

    response = auth.post("/account/delete", {"password": PASSWORD, "understood": "y"})
    assert response.status_code == 302
    for model in (
        User,
        Enrollment,
        LessonProgress,
        Reflection,
        ReflectionRevision,
        LearnerFile,
        Throttle,
    ):
        assert _count(db, model) == 0, model.__name__
    assert not folder.exists()
    event = db.scalar(select(AuditEvent))
    db.commit()
    assert (event.action, event.target_id, event.actor_id) == ("account.deleted", user.id, None)
    assert user.email not in json.dumps(event.details)
    # Signed out, and the account cannot sign in again.
    assert client.get("/my-work").status_code == 302
    assert "do not match" in auth.login(user.email).get_data(as_text=True)


def test_an_admin_cannot_delete_their_own_account_here(client, auth, db, make_user):
    admin = make_user(Role.ADMIN)
    auth.login(admin.email)
    response = auth.post("/account/delete", {"password": PASSWORD, "understood": "y"})
    assert response.status_code == 200
    assert "Ask another admin" in response.get_data(as_text=True)
    assert _count(db, User) == 1


def test_files_stay_outside_the_static_folder(app, worked):
    static = Path(app.static_folder).resolve()
    data_dir = Path(app.config["LMS_DATA_DIR"]).resolve()
    assert static not in data_dir.parents
    assert any(storage(app).learner_files_dir.rglob("*"))


def test_feedback_on_my_answers_shows_in_my_work_and_the_export(client, db, make_user, worked):
    user, _module = worked
    facilitator = make_user(Role.FACILITATOR, name="Fatima")
    reflection = db.scalar(select(Reflection))
    review.give_feedback(db, facilitator, reflection, "Thank you, *beautifully* put.")
    db.commit()

    page = client.get("/learning").get_data(as_text=True)
    assert "You have 1 new piece of feedback on your answers." in page
    page = client.get("/my-work").get_data(as_text=True)
    assert "Feedback from Fatima" in page
    assert "<em>beautifully</em>" in page
    assert ">new</strong>" in page
    # Seen once: no longer new.
    assert ">new</strong>" not in client.get("/my-work").get_data(as_text=True)
    assert "new piece of feedback" not in client.get("/learning").get_data(as_text=True)

    archive = _zip(client.get("/my-work/export"))
    [answer] = json.loads(archive.read("work.json"))["reflections"]
    assert answer["feedback"][0]["from"] == "Fatima"
    assert answer["feedback"][0]["text"] == "Thank you, *beautifully* put."
