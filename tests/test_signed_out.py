"""A learner whose session ends while they write loses nothing.

Signed out on another device (or the password changed there), the page they write on
is no longer signed in: the autosave script gets a 401 it can put into words, and the
lesson's form, sent without JavaScript, shows their text with a way to sign in and
have it saved, into the account the page belonged to and no other.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.models import Prompt, Reflection
from tests.conftest import PASSWORD, Auth, csrf_token
from tests.factories import make_enrollment, make_module
from tests.lesson_page import page_form


@pytest.fixture
def writing(app, client, db, make_user, auth):
    """A learner on lesson 1, and a way to sign them out from another device."""
    user = make_user(email="amina@example.org")
    auth.login(user.email)
    module = make_module(db, lessons=2, prompts=[{"text": "What helps you rest?"}, {}])
    make_enrollment(db, user, module)
    prompts = list(
        db.scalars(
            select(Prompt)
            .join(Prompt.lesson)
            .where(Prompt.lesson.has(module_id=module.id, position=1))
            .order_by(Prompt.position)
        )
    )
    db.commit()
    url = f"/modules/{module.slug}/lessons/lesson-1"
    page = client.get(url).get_data(as_text=True)

    def sign_out_elsewhere() -> None:
        phone = app.test_client()
        Auth(phone).login(user.email)
        assert Auth(phone).logout().status_code == 302

    return user, prompts, url, page, sign_out_elsewhere


def test_an_autosave_after_the_session_ended_gets_401_json_not_a_redirect(client, writing):
    _user, [prompt, _other], _url, _page, sign_out_elsewhere = writing
    token = csrf_token(client)
    sign_out_elsewhere()

    response = client.post(
        f"/prompts/{prompt.id}/answer",
        data={f"p{prompt.id}-body": "Typed after", f"p{prompt.id}-revision": "0"},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )

    assert response.status_code == 401
    assert response.json["error"]
    assert "Location" not in response.headers


def _drafts(db, user):
    rows = db.scalars(select(Reflection).where(Reflection.user_id == user.id))
    drafts = {r.prompt_id: r.current_body for r in rows}
    db.commit()
    return drafts


def test_a_form_sent_after_the_session_ended_shows_the_text_and_signing_in_saves_it(
    client, db, writing
):
    """Without JavaScript: Submit after being signed out elsewhere keeps the text on screen."""
    user, [first, second], url, page, sign_out_elsewhere = writing
    typed = {f"p{first.id}-body": "Walking by the river", f"p{second.id}-body": "Tea"}
    sign_out_elsewhere()

    shown = page_form(page, url).send(client, f"p{first.id}-submit", typed)

    assert shown.status_code == 401
    html = shown.get_data(as_text=True)
    assert "Walking by the river</textarea>" in html
    assert "Tea</textarea>" in html
    assert _drafts(db, user) == {}
    sign_in = page_form(html, url)
    saved = sign_in.send(
        client, "sign_in", {"email": user.email, "password": PASSWORD}, follow_redirects=True
    )
    assert saved.status_code == 200
    assert saved.request.path == url
    assert "You are signed in again." in saved.get_data(as_text=True)
    assert _drafts(db, user) == {first.id: "Walking by the river", second.id: "Tea"}


def test_signing_in_there_as_another_account_saves_nothing_into_it(client, db, make_user, writing):
    user, [first, _second], url, page, sign_out_elsewhere = writing
    other = make_user(email="ben@example.org")
    sign_out_elsewhere()
    shown = page_form(page, url).send(client, f"p{first.id}-save", {f"p{first.id}-body": "Mine"})

    refused = page_form(shown.get_data(as_text=True), url).send(
        client, "sign_in", {"email": other.email, "password": PASSWORD}
    )

    assert refused.status_code == 401
    html = refused.get_data(as_text=True)
    assert "written in another account" in html
    assert "Mine</textarea>" in html
    assert _drafts(db, user) == {}
    assert _drafts(db, other) == {}
    assert client.get("/my-work").status_code == 302  # nobody was signed in


def test_an_answer_form_sent_to_the_answer_url_after_sign_out_keeps_the_text(client, db, writing):
    """A page older than the lesson's one form posts each answer to its own URL."""
    user, [first, _second], url, _page, sign_out_elsewhere = writing
    token = csrf_token(client)
    sign_out_elsewhere()
    fields = {f"p{first.id}-body": "Old page", f"p{first.id}-revision": "0"}

    shown = client.post(
        f"/prompts/{first.id}/answer",
        data={**fields, f"p{first.id}-save": "y", "csrf_token": token},
    )

    assert shown.status_code == 401
    assert "Old page</textarea>" in shown.get_data(as_text=True)
    assert _drafts(db, user) == {}
