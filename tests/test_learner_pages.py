"""The learner's journey through the pages: catalog, enrollment, lessons, completion."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.models import Attachment, Enrollment, Lesson, LessonProgress, ProgressStatus, Prompt
from tests.factories import make_enrollment, make_module, store_blob


@pytest.fixture
def learner(make_user, auth):
    user = make_user()
    auth.login(user.email)
    return user


def _lessons(db, module):
    lessons = list(
        db.scalars(select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position))
    )
    db.commit()  # the test's session must not hold SQLite's write lock while the app writes
    return lessons


def _prompts(db, lesson):
    prompts = list(
        db.scalars(select(Prompt).where(Prompt.lesson_id == lesson.id).order_by(Prompt.position))
    )
    db.commit()
    return prompts


def _lesson_url(module, n):
    return f"/modules/{module.slug}/lessons/lesson-{n}"


def test_catalog_lists_published_modules_with_their_facts(client, db):
    make_module(db, title="Holistic wellness", lessons=4)
    make_module(db, title="Hidden draft", published=False)
    page = client.get("/modules").get_data(as_text=True)
    assert "Holistic wellness" in page
    assert "Hidden draft" not in page
    assert "CC-BY-4.0" in page
    assert "Amina Author, Ben Writer" in page
    assert "about 80 minutes" in page
    assert "Sign in to enroll" in page


def test_one_click_enrollment_opens_the_first_lesson(client, auth, db, learner):
    module = make_module(db, title="Holistic wellness")
    response = auth.post(f"/modules/{module.slug}/enroll")
    assert response.headers["Location"].endswith(f"/modules/{module.slug}/continue")
    response = client.get(response.headers["Location"])
    assert response.headers["Location"].endswith(_lesson_url(module, 1))
    assert db.scalar(select(Enrollment.user_id)) == learner.id
    db.commit()
    # Enrolling twice changes nothing.
    assert auth.post(f"/modules/{module.slug}/enroll").status_code == 302
    assert len(db.scalars(select(Enrollment)).all()) == 1


def test_an_unpublished_module_cannot_be_enrolled_in(auth, db, learner):
    module = make_module(db, published=False)
    assert auth.post(f"/modules/{module.slug}/enroll").status_code == 404


def test_opening_a_lesson_shows_it_and_records_progress(client, db, learner):
    module = make_module(db, lessons=3, prompts=[{"text": "What helps you rest?"}])
    make_enrollment(db, learner, module)
    page = client.get(_lesson_url(module, 1)).get_data(as_text=True)
    assert "<p>Lesson 1 text.</p>" in page
    assert "What helps you rest?" in page
    assert "Lesson 1 of 3" in page
    assert f'href="/modules/{module.slug}/lessons/lesson-2"' not in page
    row = db.scalar(select(LessonProgress))
    assert (row.user_id, row.status) == (learner.id, ProgressStatus.IN_PROGRESS)


def test_a_lesson_needs_an_enrollment(client, db, learner):
    module = make_module(db)
    response = client.get(_lesson_url(module, 1))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/modules/{module.slug}")
    assert db.scalar(select(LessonProgress)) is None


def test_a_locked_lesson_is_refused_by_the_server(client, auth, db, learner):
    module = make_module(db, lessons=3, prompts=0)
    make_enrollment(db, learner, module)
    response = client.get(_lesson_url(module, 2))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "This lesson is locked" in page
    assert "Go to Lesson 1" in page
    # Two lessons ahead: still sent to the first lesson not complete, the one open now.
    assert "Go to Lesson 1" in client.get(_lesson_url(module, 3)).get_data(as_text=True)
    # Neither can it be completed, nor its prompts answered.
    assert auth.post(_lesson_url(module, 2) + "/complete").status_code == 403
    assert db.scalar(select(LessonProgress)) is None


def test_in_an_open_module_nothing_is_locked(client, db, learner):
    module = make_module(db, lessons=3, sequence="open", prompts=0)
    make_enrollment(db, learner, module)
    assert client.get(_lesson_url(module, 3)).status_code == 200


def test_mark_complete_names_the_missing_answers_then_unlocks_the_next_lesson(
    client, auth, db, learner
):
    module = make_module(
        db,
        lessons=2,
        prompts=[{"text": "What did you notice?"}, {"text": "An optional note", "required": False}],
    )
    make_enrollment(db, learner, module)
    first, _second = _lessons(db, module)
    client.get(_lesson_url(module, 1))
    noticed, _optional = _prompts(db, first)

    response = auth.post(_lesson_url(module, 1) + "/complete", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "submit your answer to: “What did you notice?”" in page
    assert "An optional note”" not in page.split("submit your answer to:")[1].split("</p>")[0]
    assert client.get(_lesson_url(module, 2)).status_code == 403

    auth.post(
        f"/prompts/{noticed.id}/answer",
        {
            f"p{noticed.id}-body": "I noticed calm",
            f"p{noticed.id}-revision": "0",
            f"p{noticed.id}-submit": "y",
        },
    )
    page = auth.post(_lesson_url(module, 1) + "/complete", follow_redirects=True).get_data(
        as_text=True
    )
    assert "Lesson complete." in page
    assert "1 of 2 lessons complete (50%)" in page
    assert client.get(_lesson_url(module, 2)).status_code == 200


def test_finishing_the_module_gives_a_printable_certificate(client, auth, db, make_user, learner):
    module = make_module(db, lessons=1, prompts=0, title="Holistic wellness")
    make_enrollment(db, learner, module)
    assert client.get(f"/modules/{module.slug}/certificate").status_code == 404
    client.get(_lesson_url(module, 1))
    response = auth.post(_lesson_url(module, 1) + "/complete", follow_redirects=True)
    assert "You completed the whole module" in response.get_data(as_text=True)
    page = client.get(f"/modules/{module.slug}/certificate").get_data(as_text=True)
    assert "Certificate of completion" in page
    assert learner.display_name in page
    assert "Holistic wellness" in page
    assert re.search(r'src="/static/js/print\.[0-9a-f]{12}\.js"', page)


def test_my_learning_shows_percent_and_continue(client, auth, db, learner):
    wellness = make_module(db, lessons=4, prompts=0, title="Holistic wellness")
    stories = make_module(db, lessons=2, prompts=0, title="Storytelling")
    make_enrollment(db, learner, wellness)
    make_enrollment(db, learner, stories)
    client.get(_lesson_url(wellness, 1))
    auth.post(_lesson_url(wellness, 1) + "/complete")
    client.get(_lesson_url(wellness, 2))

    page = client.get("/learning").get_data(as_text=True)
    assert "My learning" in page
    assert "1 of 4 lessons complete (25%)" in page
    assert "0 of 2 lessons complete (0%)" in page
    continue_links = re.findall(r'href="(/modules/[^"]+/continue)"', page)
    assert f"/modules/{wellness.slug}/continue" in continue_links
    response = client.get(f"/modules/{wellness.slug}/continue")
    assert response.headers["Location"].endswith(_lesson_url(wellness, 2))


def test_the_lesson_page_is_the_stored_html_not_a_new_rendering(client, db, learner):
    module = make_module(db, lessons=1, prompts=0)
    lesson = _lessons(db, module)[0]
    lesson.body_markdown = "# Something else entirely"
    lesson.body_html = (
        '<p>Stored <em>at import</em>.</p><iframe src="https://player.vimeo.com/video/1"></iframe>'
    )
    db.commit()
    make_enrollment(db, learner, module)
    page = client.get(_lesson_url(module, 1)).get_data(as_text=True)
    assert lesson.body_html in page
    assert "Something else entirely" not in page


def test_archived_lessons_are_gone_from_the_outline_and_the_url(client, db, learner):
    from lms.db import now_utc

    module = make_module(db, lessons=3, prompts=0, sequence="open")
    _first, second, _third = _lessons(db, module)
    second.archived_at = now_utc()
    module.lesson_count = 2
    db.commit()
    make_enrollment(db, learner, module)
    page = client.get(_lesson_url(module, 1)).get_data(as_text=True)
    assert "Lesson 1 of 2" in page
    assert second.title not in page
    assert client.get(_lesson_url(module, 2)).status_code == 404


def test_learner_pages_need_a_sign_in(client, db):
    module = make_module(db)
    for path in [_lesson_url(module, 1), f"/modules/{module.slug}", "/my-work", "/learning"]:
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_a_text_attachment_is_sent_with_one_charset(app, client, auth, db, make_user):
    learner = make_user()
    auth.login(learner.email)
    module = make_module(db, lessons=1)
    data = "Steps for the circle — one per line\n".encode()
    attachment = Attachment(
        module_id=module.id,
        path="attachments/steps.txt",
        title="Steps",
        filename="steps.txt",
        content_type="text/plain; charset=utf-8",
        size=len(data),
        sha256=store_blob(app.config["LMS_DATA_DIR"], data),
    )
    db.add(attachment)
    make_enrollment(db, learner, module)
    db.commit()
    with client.get(f"/attachments/{attachment.id}") as response:
        assert response.status_code == 200
        assert response.get_data() == data
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
