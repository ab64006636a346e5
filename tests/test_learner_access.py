"""Another learner's answers, files and progress answer 404 on every learner route with an id."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from lms.models import LearnerFile, Prompt, Reflection, ReflectionRevision
from tests.conftest import Auth
from tests.factories import make_enrollment, make_module

# The view modules of the learner's journey; their routes with a URL parameter are below.
JOURNEY_MODULES = {
    "lms.web.learner.views",
    "lms.web.learner.modules",
    "lms.web.learner.lessons",
    "lms.web.learner.reflections",
    "lms.web.learner.attachments",
    "lms.web.learner.files",
    "lms.web.learner.lesson_form",
    "lms.web.learner.my_work",
}
COVERED = {
    "learner.module",
    "learner.enroll",
    "learner.resume",
    "learner.lesson",
    "learner.save_lesson",
    "learner.complete",
    "learner.certificate",
    "learner.download_module",
    "learner.save_reflection",
    "learner.reflection_revisions",
    "learner.upload_files",
    "learner.learner_file",
    "learner.delete_file",
    "learner.attachment",
}


def test_every_journey_route_with_an_id_is_covered_here(app):
    with_ids = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.arguments and app.view_functions[rule.endpoint].__module__ in JOURNEY_MODULES
    }
    assert with_ids == COVERED


@pytest.fixture
def amina_and_ben(app, client, db, make_user):
    """Amina has worked through a module (answers, a file, a download); Ben is signed in."""
    amina, ben = make_user(name="Amina"), make_user(name="Ben")
    module = make_module(
        db,
        lessons=2,
        prompts=[{"accepts_files": True}],
        attachments=1,
        media=True,
        data_dir=app.config["LMS_DATA_DIR"],
        slug="wellness",
    )
    make_enrollment(db, amina, module)
    prompt = db.scalar(select(Prompt).where(Prompt.lesson.has(module_id=module.id, position=1)))
    db.commit()
    amina_client = app.test_client()
    amina_auth = Auth(amina_client)
    amina_auth.login(amina.email)
    amina_client.get("/modules/wellness/lessons/lesson-1")
    amina_auth.post(
        f"/prompts/{prompt.id}/answer",
        {
            f"p{prompt.id}-body": "Amina's private words",
            f"p{prompt.id}-revision": "0",
            f"p{prompt.id}-submit": "y",
        },
    )
    amina_auth.post(
        f"/prompts/{prompt.id}/answer/files",
        {f"u{prompt.id}-files": [(io.BytesIO(b"Amina's file"), "story.txt")]},
        content_type="multipart/form-data",
    )
    amina_auth.post("/modules/wellness/lessons/lesson-1/complete")
    learner_file = db.scalar(select(LearnerFile))
    attachment = module.attachments[0]
    db.commit()
    Auth(client).login(ben.email)
    return amina, ben, module, prompt, learner_file, attachment


def _amina_untouched(db):
    reflection = db.scalar(select(Reflection))
    count = len(db.scalars(select(ReflectionRevision)).all())
    files = len(db.scalars(select(LearnerFile)).all())
    db.commit()
    assert reflection.current_body == "Amina's private words"
    assert (count, files) == (1, 1)


def test_ben_sees_nothing_of_aminas_by_any_id(client, db, amina_and_ben):
    _amina, _ben, module, prompt, learner_file, attachment = amina_and_ben
    auth = Auth(client)
    p = prompt.id
    not_found = [
        ("get", f"/prompts/{p}/answer/revisions", None),
        ("post", f"/prompts/{p}/answer", {f"p{p}-body": "Ben's", f"p{p}-revision": "1"}),
        ("post", f"/prompts/{p}/answer/files", None),
        ("get", f"/files/{learner_file.public_id}", None),
        ("post", f"/files/{learner_file.public_id}/delete", None),
        ("get", f"/attachments/{attachment.id}", None),
        ("get", "/modules/wellness/certificate", None),
    ]
    for method, path, data in not_found:
        response = client.get(path) if method == "get" else auth.post(path, data)
        assert response.status_code == 404, (method, path)
        assert "Amina" not in response.get_data(as_text=True)
    # Not enrolled: the lesson, its download and Continue send Ben to the module page.
    for path in ["/modules/wellness/lessons/lesson-1", "/modules/wellness/download"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/modules/wellness")
    assert auth.post("/modules/wellness/lessons/lesson-1/complete").status_code == 302
    lesson_form = {f"p{p}-body": "Ben's", f"p{p}-revision": "1", f"p{p}-save": "y"}
    assert auth.post("/modules/wellness/lessons/lesson-1", lesson_form).status_code == 302
    # The module page shows Ben's own (empty) progress, not Amina's.
    page = client.get("/modules/wellness").get_data(as_text=True)
    assert "Complete<" not in page
    assert "Enroll" in page
    _amina_untouched(db)


def test_enrolled_ben_still_only_reaches_his_own_answer(client, db, amina_and_ben):
    _amina, ben, module, prompt, learner_file, attachment = amina_and_ben
    auth = Auth(client)
    make_enrollment(db, ben, module)
    page = client.get("/modules/wellness/lessons/lesson-1").get_data(as_text=True)
    assert "Amina&#39;s private words" not in page
    assert "Amina's private words" not in page
    assert learner_file.public_id not in page
    # His save starts his own reflection; Amina's is untouched.
    p = prompt.id
    response = auth.post(
        f"/prompts/{p}/answer", {f"p{p}-body": "Ben's words", f"p{p}-revision": "0"}
    )
    assert response.status_code == 302
    assert client.get(f"/files/{learner_file.public_id}").status_code == 404
    removing = {"remove": learner_file.public_id}
    assert auth.post("/modules/wellness/lessons/lesson-1", removing).status_code == 404
    # Ben has opened lesson 1, so its attachment is his to download now.
    with client.get(f"/attachments/{attachment.id}") as response:
        assert response.status_code == 200
    mine = db.scalars(select(Reflection).where(Reflection.user_id == ben.id)).all()
    db.commit()
    assert [r.current_body for r in mine] == ["Ben's words"]
    work = client.get("/my-work").get_data(as_text=True)
    assert "<p>Ben's words</p>" in work
    assert "Amina" not in work
    reflection = db.scalar(select(Reflection).where(Reflection.user_id != ben.id))
    db.commit()
    assert reflection.current_body == "Amina's private words"


def test_an_attachment_of_a_lesson_not_opened_is_not_served(app, client, db, make_user):
    user = make_user()
    Auth(client).login(user.email)
    module = make_module(
        db, lessons=2, prompts=0, attachments=1, data_dir=app.config["LMS_DATA_DIR"]
    )
    make_enrollment(db, user, module)
    second = [a for a in module.attachments if a.lesson.position == 2][0]
    db.commit()
    assert client.get(f"/attachments/{second.id}").status_code == 404


def test_media_of_an_unpublished_module_needs_an_enrollment(app, client, db, make_user):
    # Served by lms/web/media.py through access.load_media.
    user = make_user()
    Auth(client).login(user.email)
    make_module(db, slug="draft", media=True, published=False, data_dir=app.config["LMS_DATA_DIR"])
    assert client.get("/media/draft/map.png").status_code == 404
    make_module(db, slug="public", media=True, data_dir=app.config["LMS_DATA_DIR"])
    with client.get("/media/public/map.png?v=abc") as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
