"""Answers through the web: autosave (JSON, CSRF header), the no-JS form, conflicts, history."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from lms import reflections
from lms.models import Prompt, Reflection, ReflectionRevision, User
from lms.web.database import database
from lms.web.learner import reflections as reflection_views
from lms.web.learner.forms import ReflectionForm
from tests.conftest import csrf_token
from tests.factories import make_enrollment, make_module
from tests.lesson_page import page_form


@pytest.fixture
def setup(client, db, make_user, auth):
    """A learner in lesson 1 of a module, and the prompt of that lesson."""
    user = make_user()
    auth.login(user.email)
    module = make_module(db, lessons=2, prompts=[{"text": "What helps you rest?"}])
    make_enrollment(db, user, module)
    prompt = db.scalar(
        select(Prompt).join(Prompt.lesson).where(Prompt.lesson.has(module_id=module.id, position=1))
    )
    db.commit()
    lesson_url = f"/modules/{module.slug}/lessons/lesson-1"
    client.get(lesson_url)
    return user, module, prompt, lesson_url


def _fields(prompt, body, revision, action=None):
    data = {f"p{prompt.id}-body": body, f"p{prompt.id}-revision": str(revision)}
    if action:
        data[f"p{prompt.id}-{action}"] = "y"
    return data


def autosave(client, prompt, body, revision, token=None):
    """What autosave.js sends: the form's fields, the token in a header, JSON wanted."""
    return client.post(
        f"/prompts/{prompt.id}/answer",
        data=_fields(prompt, body, revision),
        headers={
            "X-CSRFToken": token or csrf_token(client),
            "Accept": "application/json",
        },
    )


def _bodies(db):
    bodies = [
        r.body for r in db.scalars(select(ReflectionRevision).order_by(ReflectionRevision.id))
    ]
    db.commit()
    return bodies


def test_autosave_answers_with_the_new_revision(client, db, setup):
    _user, _module, prompt, _url = setup
    token = csrf_token(client)
    response = autosave(client, prompt, "Walking by the river", 0, token)
    assert response.status_code == 200
    assert response.json["revision"] == 1
    assert response.json["state"] == "draft"
    assert response.json["message"].startswith("Saved ")

    response = autosave(client, prompt, "Walking by the river at dawn", 1, token)
    assert response.json["revision"] == 2
    assert _bodies(db) == ["Walking by the river", "Walking by the river at dawn"]


def test_autosave_without_the_csrf_header_changes_nothing(client, db, setup):
    _user, _module, prompt, _url = setup
    response = client.post(
        f"/prompts/{prompt.id}/answer",
        data=_fields(prompt, "Sneaky", 0),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "reload the page" in response.json["error"]  # words the script can show
    assert _bodies(db) == []


def test_the_form_works_without_javascript(client, auth, db, setup):
    _user, _module, prompt, url = setup
    response = auth.post(f"/prompts/{prompt.id}/answer", _fields(prompt, "By hand", 0, "save"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}#prompt-{prompt.id}")
    page = client.get(url).get_data(as_text=True)
    assert "By hand</textarea>" in page
    assert "Draft saved" in page

    auth.post(f"/prompts/{prompt.id}/answer", _fields(prompt, "By hand, final", 1, "submit"))
    page = client.get(url).get_data(as_text=True)
    assert "Submitted" in page
    reflection = db.scalar(select(Reflection))
    assert reflection.state == "submitted"


def test_submitting_an_empty_answer_says_what_to_do_and_stores_nothing(client, auth, db, setup):
    _user, _module, prompt, url = setup
    response = auth.post(f"/prompts/{prompt.id}/answer", _fields(prompt, "  ", 0, "submit"))
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Write your answer before you submit it." in page
    assert _bodies(db) == []


def test_a_stale_autosave_is_refused_with_409_and_the_newer_text(client, db, setup):
    _user, _module, prompt, _url = setup
    token = csrf_token(client)
    autosave(client, prompt, "Tab one", 0, token)
    autosave(client, prompt, "Tab one, more", 1, token)

    response = autosave(client, prompt, "Tab two", 1, token)

    assert response.status_code == 409
    assert response.json["conflict"] is True
    assert response.json["revision"] == 2
    assert response.json["body"] == "Tab one, more"
    assert _bodies(db) == ["Tab one", "Tab one, more"]


def test_the_conflict_page_shows_both_texts_and_keeps_both(client, auth, db, setup):
    _user, _module, prompt, _url = setup
    autosave(client, prompt, "The newer text from my phone", 0)

    response = auth.post(
        f"/prompts/{prompt.id}/answer", _fields(prompt, "What I wrote on the laptop", 0, "save")
    )

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Two versions of your answer" in page
    assert "The newer text from my phone</textarea>" in page
    assert "What I wrote on the laptop</textarea>" in page
    assert f'name="p{prompt.id}-revision" type="hidden" value="1"' in page

    response = auth.post(
        f"/prompts/{prompt.id}/answer",
        _fields(prompt, "What I wrote on the laptop", 1, "combine"),
    )
    assert response.status_code == 302
    assert _bodies(db) == [
        "The newer text from my phone",
        "The newer text from my phone\n\nWhat I wrote on the laptop",
    ]


def test_earlier_versions_are_listed_and_rendered_safely(client, db, setup):
    _user, _module, prompt, _url = setup
    token = csrf_token(client)
    autosave(client, prompt, "First *idea*", 0, token)
    autosave(client, prompt, "Second <script>alert(1)</script> idea", 1, token)
    page = client.get(f"/prompts/{prompt.id}/answer/revisions").get_data(as_text=True)
    assert "Version 1" in page
    assert "Version 2" in page
    assert "<em>idea</em>" in page
    assert "<script>alert(1)</script>" not in page


def test_prompts_of_a_lesson_not_opened_take_no_answer(client, db, setup):
    _user, module, _prompt, _url = setup
    locked = db.scalar(
        select(Prompt).join(Prompt.lesson).where(Prompt.lesson.has(module_id=module.id, position=2))
    )
    db.commit()
    response = autosave(client, locked, "Ahead of time", 0)
    assert response.status_code == 404
    assert _bodies(db) == []


def test_an_autosave_reads_then_writes_in_one_short_transaction(app, client, setup):
    """Two reads without the write lock, then the UPDATE and the INSERT (one statement on
    PostgreSQL)."""
    _user, _module, prompt, _url = setup
    token = csrf_token(client)
    autosave(client, prompt, "First", 0, token)
    transactions: list[list[str]] = []

    def began(connection):
        transactions.append([])

    def executed(_conn, _cursor, statement, *_args):
        verb = statement.split()[0].upper()
        if verb != "BEGIN":  # SQLite's own BEGIN IMMEDIATE, sent as the transaction begins
            transactions[-1].append(verb)

    engine = database(app).engine
    event.listen(engine, "begin", began)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        response = autosave(client, prompt, "Second", 1, token)
    finally:
        event.remove(engine, "begin", began)
        event.remove(engine, "before_cursor_execute", executed)
    assert response.status_code == 200
    # The user and the prompt with the answer are read; the write transaction (BEGIN
    # IMMEDIATE on SQLite, whose one write lock it holds) runs the conditional UPDATE
    # and the INSERT of the revision, nothing else. On PostgreSQL the reads run without
    # a transaction (lms.db.Database), and the two writes are one statement (WITH … UPDATE
    # … INSERT) in a transaction of its own.
    if engine.dialect.name == "sqlite":
        assert transactions == [["SELECT", "SELECT"], ["UPDATE", "INSERT"]]
    else:
        assert transactions == [["SELECT", "SELECT"], ["WITH"]]


def test_the_lesson_page_writes_out_what_answer_form_renders(app, client, db, setup):
    """The page writes the answer form out by hand (for speed): the same markup as WTForms'."""
    _user, _module, prompt, url = setup
    autosave(client, prompt, 'Tea & <quiet> "mornings"', 0)
    page = client.get(url).get_data(as_text=True)
    with app.test_request_context():
        form = ReflectionForm.for_prompt(
            prompt, formdata=None, data={"body": 'Tea & <quiet> "mornings"', "revision": 1}
        )
        expected = [
            str(form.revision),
            str(form.body.label),
            str(form.body(**{"aria-describedby": f"{form.body.id}-hint", "aria-invalid": "false"})),
            f'name="{form.save.name}" value="y">{form.save.label.text}<',
            f'name="{form.submit.name}" value="y">{form.submit.label.text}<',
        ]
    for markup in expected:
        assert markup in page


def test_the_lesson_page_form_as_sent_saves_the_answer(client, db, setup):
    """Every field the page's form holds, posted back as a browser would, saves."""
    _user, _module, prompt, url = setup
    form = page_form(client.get(url).get_data(as_text=True), url)
    response = form.send(
        client, f"p{prompt.id}-save", {f"p{prompt.id}-body": "Reading on the train"}
    )
    assert response.status_code == 302
    assert _bodies(db) == ["Reading on the train"]


def test_a_save_landing_between_the_read_and_the_write_is_a_conflict(
    app, client, db, setup, monkeypatch
):
    """Reading without the write lock leaves a window; the conditional UPDATE closes it."""
    user, _module, prompt, _url = setup
    token = csrf_token(client)
    assert autosave(client, prompt, "From this phone", 0, token).status_code == 200
    real_writing = reflection_views.writing

    @contextmanager
    def another_device_saves_first(session):
        other = database(app).new_session(write=True)
        with other.begin():
            reflections.save_draft(
                other,
                other.get(User, user.id),
                other.get(Prompt, prompt.id),
                "From the laptop",
                based_on=1,
            )
        other.close()
        with real_writing(session):
            yield session

    monkeypatch.setattr(reflection_views, "writing", another_device_saves_first)

    response = autosave(client, prompt, "From this phone, more", 1, token)

    assert response.status_code == 409
    assert response.json["body"] == "From the laptop"
    assert _bodies(db) == ["From this phone", "From the laptop"]


@pytest.mark.parametrize("where", ["form", "header"])
def test_an_answer_without_this_sessions_token_saves_nothing(app, client, db, setup, where):
    """The answer form has no CSRF check of its own: the app's protection covers it."""
    _user, _module, prompt, _url = setup
    another = csrf_token(app.test_client())
    data = _fields(prompt, "Forged", 0) | {f"p{prompt.id}-save": "y"}
    if where == "form":
        response = client.post(
            f"/prompts/{prompt.id}/answer", data=data | {f"p{prompt.id}-csrf_token": another}
        )
    else:
        response = client.post(
            f"/prompts/{prompt.id}/answer",
            data=data,
            headers={"X-CSRFToken": another, "Accept": "application/json"},
        )
    assert response.status_code == 400
    assert _bodies(db) == []
    # The same post with the page's own token saves.
    assert autosave(client, prompt, "Mine", 0).status_code == 200
    assert _bodies(db) == ["Mine"]
