"""Without JavaScript no button of the lesson page loses what was typed in another box.

The page is one form: each test reads it from the page and sends it back as a browser
would, with some boxes typed in and one button pressed.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from lms import reflections
from lms.models import LearnerFile, LessonProgress, Prompt, Reflection, User
from lms.people import erasure
from lms.web.database import database
from lms.web.learner import lesson_form
from lms.web.storage import storage
from tests.lesson_page import on_a_new_lesson, page_form


@pytest.fixture
def lesson(client, db, make_user, auth):
    """A learner on a lesson with two prompts (the second takes files); its page's form."""
    user, (first, second), url = on_a_new_lesson(
        db,
        make_user,
        auth,
        [{"text": "What helps you rest?"}, {"text": "Show us", "accepts_files": True}],
        lessons=2,
    )

    def form():
        return page_form(client.get(url).get_data(as_text=True), url)

    form()  # opens the lesson
    return user, url, first, second, form


def _reflections(db, user):
    rows = db.scalars(select(Reflection).where(Reflection.user_id == user.id))
    answers = {r.prompt_id: (r.current_body, r.state.value) for r in rows}
    db.commit()
    return answers


def _typed(first, second):
    return {f"p{first.id}-body": "Rivers and tea", f"p{second.id}-body": "A photo of the sea"}


def test_submitting_one_answer_keeps_what_was_typed_in_the_other(client, db, lesson):
    user, url, first, second, form = lesson

    response = form().send(client, f"p{first.id}-submit", _typed(first, second))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}#prompt-{first.id}")
    assert _reflections(db, user) == {
        first.id: ("Rivers and tea", "submitted"),
        second.id: ("A photo of the sea", "draft"),
    }


@pytest.fixture
def with_a_file(client, auth, lesson):
    """The second answer has a file attached already."""
    _user, _url, _first, second, _form = lesson
    response = auth.post(
        f"/prompts/{second.id}/answer/files",
        {f"u{second.id}-files": (io.BytesIO(b"Waves\n"), "sea.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return lesson


@pytest.mark.parametrize(
    "button",
    ["p{first}-save", "p{second}-submit", "u{second}-submit", "remove", "complete"],
)
def test_every_button_of_the_page_keeps_every_box(client, db, with_a_file, button):
    user, _url, first, second, form = with_a_file
    page = form()
    name = button.format(first=first.id, second=second.id)
    if name == "remove":
        [(_, public_id)] = [b for b in page.buttons if b[0] == "remove"]
        name = f"remove={public_id}"

    response = page.send(client, name, _typed(first, second))

    assert response.status_code == 302
    assert {p: body for p, (body, _state) in _reflections(db, user).items()} == {
        first.id: "Rivers and tea",
        second.id: "A photo of the sea",
    }


def test_files_chosen_are_attached_whichever_button_is_pressed(client, db, lesson):
    user, _url, first, second, form = lesson
    chosen = {f"u{second.id}-files": (io.BytesIO(b"Waves\n"), "sea.txt")}

    response = form().send(client, f"p{first.id}-submit", _typed(first, second), chosen)

    assert response.status_code == 302
    assert [f.filename for f in db.scalars(select(LearnerFile))] == ["sea.txt"]
    assert _reflections(db, user)[first.id] == ("Rivers and tea", "submitted")


def test_remove_removes_that_file_and_mark_complete_completes(client, db, with_a_file):
    user, url, first, second, form = with_a_file
    page = form()
    [(_, public_id)] = [b for b in page.buttons if b[0] == "remove"]
    assert page.send(client, f"remove={public_id}").status_code == 302
    assert db.scalar(select(LearnerFile)) is None
    db.commit()

    typed = {f"p{first.id}-body": "Rivers", f"p{second.id}-body": "Sea"}
    form().send(client, f"p{first.id}-submit", typed)
    form().send(client, f"p{second.id}-submit", typed)
    response = form().send(client, "complete", typed)

    assert response.status_code == 302
    assert "Lesson complete." in client.get(url).get_data(as_text=True)
    progress = db.scalar(select(LessonProgress).where(LessonProgress.user_id == user.id))
    assert progress.completed_at is not None


def _another_device_saves(app, user, prompt, text, based_on=0):
    other = database(app).new_session(write=True)
    with other.begin():
        reflections.save_draft(
            other, other.get(User, user.id), other.get(Prompt, prompt.id), text, based_on=based_on
        )
    other.close()


def test_a_conflict_on_one_box_shows_both_texts_and_keeps_the_other_box(app, client, db, lesson):
    user, _url, first, second, form = lesson
    page = form()
    _another_device_saves(app, user, first, "Written on my phone")

    response = page.send(client, f"p{second.id}-save", _typed(first, second))

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Written on my phone</textarea>" in html
    assert "Rivers and tea</textarea>" in html
    assert _reflections(db, user) == {
        first.id: ("Written on my phone", "draft"),
        second.id: ("A photo of the sea", "draft"),
    }
    # Keeping both texts from the conflict page.
    conflict = page_form(html, page.action)
    assert conflict.send(client, f"p{first.id}-combine").status_code == 302
    assert _reflections(db, user)[first.id] == ("Written on my phone\n\nRivers and tea", "draft")


def test_choosing_for_one_of_two_conflicts_keeps_the_other_in_conflict(app, client, db, lesson):
    user, _url, first, second, form = lesson
    page = form()
    _another_device_saves(app, user, first, "Phone, first")
    _another_device_saves(app, user, second, "Phone, second")
    conflict = page.send(client, f"p{first.id}-save", _typed(first, second))
    assert conflict.status_code == 409

    again = page_form(conflict.get_data(as_text=True), page.action).send(
        client, f"p{first.id}-save"
    )

    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "Phone, second</textarea>" in html
    assert "A photo of the sea</textarea>" in html
    assert "Phone, first</textarea>" not in html
    assert _reflections(db, user) == {
        first.id: ("Rivers and tea", "draft"),
        second.id: ("Phone, second", "draft"),
    }


def test_the_page_does_not_promise_saving_by_itself_without_the_script(client, lesson):
    _user, url, _first, _second, _form = lesson
    page = client.get(url).get_data(as_text=True)

    assert "<span data-autosave-hint hidden>Your answers save themselves as you type." in page


def test_an_account_deleted_while_the_page_is_sent_shows_its_text_and_stores_nothing(
    app, client, db, lesson, monkeypatch
):
    user, _url, first, second, form = lesson
    page = form()
    real_writing = lesson_form.writing

    @contextmanager
    def the_account_is_deleted_first(session):
        other = database(app).new_session(write=True)
        with other.begin():
            erasure.erase_account(other, other.get(User, user.id), storage(app))
        other.close()
        with real_writing(session):
            yield session

    monkeypatch.setattr(lesson_form, "writing", the_account_is_deleted_first)

    response = page.send(client, f"p{first.id}-save", _typed(first, second))

    assert response.status_code == 410
    assert "Rivers and tea</textarea>" in response.get_data(as_text=True)
    assert db.scalar(select(Reflection)) is None


def test_a_box_out_of_date_and_a_box_in_conflict_both_stay_on_screen(app, client, db, lesson):
    user, _url, first, second, form = lesson
    page = form()
    _another_device_saves(app, user, second, "Phone")
    page.fields[f"p{first.id}-revision"] = "7"  # a revision this answer never had

    response = page.send(client, f"p{first.id}-save", _typed(first, second))

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Rivers and tea</textarea>" in html
    assert "A photo of the sea</textarea>" in html
    assert _reflections(db, user) == {second.id: ("Phone", "draft")}


def test_a_box_with_u0000_comes_back_without_it_one_button_from_saved(client, db, lesson):
    """Without the script to take it out, a pasted U+0000 must not cost the other boxes."""
    user, url, first, second, form = lesson
    typed = {f"p{first.id}-body": "Pasted\x00 notes", f"p{second.id}-body": "The sea"}

    refused = form().send(client, f"p{first.id}-save", typed)

    assert refused.status_code == 400
    assert _reflections(db, user) == {}
    shown = page_form(refused.get_data(as_text=True), url)
    assert "(U+0000)" in refused.get_data(as_text=True)
    assert shown.fields[f"p{first.id}-body"] == "Pasted notes"
    assert shown.fields[f"p{second.id}-body"] == "The sea"
    assert shown.send(client, None).status_code == 302
    assert _reflections(db, user) == {
        first.id: ("Pasted notes", "draft"),
        second.id: ("The sea", "draft"),
    }
