"""Saves the answer endpoint must refuse with a clear 4xx, storing nothing.

A save that names no text, a revision the answer never had, or an account deleted
while the save was on its way must never become a blank revision or a 500.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from lms import reflections
from lms.models import Prompt, Reflection, ReflectionRevision, User
from lms.people import erasure
from lms.web.database import database
from lms.web.learner import reflections as reflection_views
from lms.web.storage import storage
from tests.conftest import csrf_token
from tests.factories import make_enrollment, make_module


@pytest.fixture
def setup(client, db, make_user, auth):
    """A learner in lesson 1 of a module, with the prompt of that lesson."""
    user = make_user()
    auth.login(user.email)
    module = make_module(db, lessons=1, prompts=[{"text": "What helps you rest?"}])
    make_enrollment(db, user, module)
    prompt = db.scalar(
        select(Prompt).join(Prompt.lesson).where(Prompt.lesson.has(module_id=module.id))
    )
    db.commit()
    client.get(f"/modules/{module.slug}/lessons/lesson-1")
    return user, prompt


def _post(client, prompt, *, form=None, json=None):
    headers = {"X-CSRFToken": csrf_token(client), "Accept": "application/json"}
    return client.post(f"/prompts/{prompt.id}/answer", data=form, json=json, headers=headers)


def _stored(db):
    rows = [(r.number, r.body) for r in db.scalars(select(ReflectionRevision).order_by("id"))]
    db.commit()
    return rows


def _save(client, prompt, body, revision):
    fields = {f"p{prompt.id}-body": body, f"p{prompt.id}-revision": str(revision)}
    return _post(client, prompt, form=fields)


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda p: {"form": {f"p{p.id}-revision": "1"}}, id="form without the body"),
        pytest.param(lambda p: {"json": {f"p{p.id}-revision": 1}}, id="json without the body"),
        pytest.param(
            lambda p: {"json": {f"p{p.id}-body": None, f"p{p.id}-revision": 1}}, id="null"
        ),
        pytest.param(lambda p: {"json": {f"p{p.id}-body": 7, f"p{p.id}-revision": 1}}, id="number"),
        pytest.param(
            lambda p: {"json": {f"p{p.id}-body": "x", f"p{p.id}-revision": None}},
            id="null revision",
        ),
    ],
)
def test_a_save_without_its_text_is_refused_and_the_answer_kept(client, db, setup, send):
    _user, prompt = setup
    assert _save(client, prompt, "Walking by the river", 0).status_code == 200

    response = _post(client, prompt, **send(prompt))

    assert response.status_code == 400
    assert response.json["error"]
    assert _stored(db) == [(1, "Walking by the river")]


def test_a_json_save_names_its_revision_as_a_number(client, db, setup):
    """What autosave.js sends: JSON, revision 0 for a first save."""
    _user, prompt = setup

    response = _post(
        client, prompt, json={f"p{prompt.id}-body": "Tea", f"p{prompt.id}-revision": 0}
    )

    assert response.status_code == 200
    assert _stored(db) == [(1, "Tea")]


def test_an_empty_text_that_is_sent_is_a_save(client, db, setup):
    """The learner cleared the box: that is a revision like any other."""
    _user, prompt = setup
    _save(client, prompt, "Walking by the river", 0)

    response = _post(client, prompt, json={f"p{prompt.id}-body": "", f"p{prompt.id}-revision": 1})

    assert response.status_code == 200
    assert _stored(db) == [(1, "Walking by the river"), (2, "")]


@pytest.mark.parametrize(("saved_first", "based_on"), [(False, 3), (True, 5)])
def test_a_save_based_on_a_revision_the_answer_never_had_is_refused(
    client, db, setup, saved_first, based_on
):
    _user, prompt = setup
    expected = []
    if saved_first:
        _save(client, prompt, "First", 0)
        expected = [(1, "First")]

    response = _save(client, prompt, "Out of nowhere", based_on)

    assert response.status_code == 400
    assert response.json["error"]
    assert _stored(db) == expected


@pytest.mark.parametrize("saved_first", [False, True], ids=["first save", "later save"])
def test_an_account_deleted_while_its_save_is_on_its_way_stores_nothing(
    app, client, db, setup, monkeypatch, saved_first
):
    """The account goes between the save's read and its write (another tab deleted it)."""
    user, prompt = setup
    revision = 0
    if saved_first:
        assert _save(client, prompt, "First", 0).status_code == 200
        revision = 1
    real_writing = reflection_views.writing

    @contextmanager
    def the_account_is_deleted_first(session):
        other = database(app).new_session(write=True)
        with other.begin():
            erasure.erase_account(other, other.get(User, user.id), storage(app))
        other.close()
        with real_writing(session):
            yield session

    monkeypatch.setattr(reflection_views, "writing", the_account_is_deleted_first)

    response = _save(client, prompt, "Typed as the account went", revision)

    assert response.status_code == 410
    assert response.json["error"]
    assert _stored(db) == []
    assert db.scalar(select(Reflection)) is None


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_an_answer_with_a_nul_character_is_refused_and_nothing_stored(client, db, setup, encoding):
    """PostgreSQL cannot store U+0000 in text: the request is refused before it is tried."""
    _user, prompt = setup
    _save(client, prompt, "Before", 0)
    fields = {f"p{prompt.id}-body": "Tea\x00time", f"p{prompt.id}-revision": "1"}

    response = _post(client, prompt, **{encoding: fields})

    assert response.status_code == 400
    assert _stored(db) == [(1, "Before")]


def test_the_domain_refuses_a_first_save_based_on_a_later_revision(db, make_user, setup):
    _user, prompt = setup
    learner = make_user()
    with pytest.raises(reflections.UnknownRevisionError):
        reflections.save_draft(db, learner, prompt, "Out of nowhere", based_on=2)
    db.rollback()


@pytest.mark.parametrize("revision", ["9223372036854775808", str(10**30)])
def test_a_revision_no_database_can_hold_is_refused(client, db, setup, revision):
    _user, prompt = setup
    fields = {f"p{prompt.id}-body": "Tea", f"p{prompt.id}-revision": revision}
    assert _post(client, prompt, form=fields).status_code == 400
    assert _stored(db) == []
