"""A learner whose session ends while they write loses nothing.

Signed out on another device (or the password changed there), the page they write on
is no longer signed in: the autosave script gets a 401 it can put into words, and the
lesson's form, sent without JavaScript, shows their text with a way to sign in and
have it saved, into the account the page belonged to and no other.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.models import Prompt
from tests.conftest import Auth, csrf_token
from tests.factories import make_enrollment, make_module


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
