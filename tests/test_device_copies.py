"""What the browser keeps of a learner's unsaved text belongs to one account only.

The autosave script keeps a copy of each answer not yet saved in the browser's local
storage, under a key with the account's public id (random, never reused), so a copy
can never be restored into another account. Signing out and deleting the account tell
the browser to forget what the site stored there and the pages it cached.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.models import Prompt
from tests.conftest import PASSWORD
from tests.factories import make_enrollment, make_module


def test_the_lesson_page_keys_each_copy_by_the_accounts_public_id(client, db, make_user, auth):
    user = make_user()
    auth.login(user.email)
    module = make_module(db, lessons=1, prompts=1)
    make_enrollment(db, user, module)
    prompt = db.scalar(select(Prompt).where(Prompt.lesson.has(module_id=module.id)))
    db.commit()

    page = client.get(f"/modules/{module.slug}/lessons/lesson-1").get_data(as_text=True)

    assert f'data-key="{user.public_id}:{prompt.id}"' in page
    assert f'data-key="{user.id}:' not in page


def _clears_the_browser(response) -> None:
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_signing_out_clears_what_the_site_kept_in_the_browser(make_user, auth):
    auth.login(make_user().email)

    response = auth.logout()

    assert response.status_code == 302
    _clears_the_browser(response)


def test_deleting_the_account_clears_what_the_site_kept_in_the_browser(make_user, auth):
    auth.login(make_user().email)

    response = auth.post("/account/delete", {"password": PASSWORD, "understood": "y"})

    assert response.status_code == 302
    _clears_the_browser(response)


def test_a_failed_deletion_clears_nothing(make_user, auth):
    auth.login(make_user().email)

    response = auth.post("/account/delete", {"password": "not mine at all", "understood": "y"})

    assert response.status_code == 200
    assert "Clear-Site-Data" not in response.headers
