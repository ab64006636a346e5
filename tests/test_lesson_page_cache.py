"""The lesson page's speed-ups must never show a learner stale or someone else's page.

The page keeps rendered fragments per process (lms.web.fragments), keyed by the module's
import and the learner's lesson states, and writes a visit only when it records
something new (lms.progress.visit_is_recorded).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import packages
from lms.db import now_utc
from lms.models import Enrollment, Lesson, LessonProgress
from lms.storage import Storage
from lms.web.fragments import FragmentCache, fragment
from tests.factories import make_enrollment, make_module
from tests.fixtures.packages.kit import MINIMAL, copy_package, replace

LESSON_1 = "lessons/01-why-listen.md"
TOKEN = re.compile(
    r'(name="csrf-token" content|name="[\w-]*csrf_token" type="hidden" value|'
    r'name="csrf_token" value)="[^"]+"'
)


@pytest.fixture
def learner(make_user, auth):
    user = make_user()
    auth.login(user.email)
    return user


def _url(module_slug: str, lesson_slug: str) -> str:
    return f"/modules/{module_slug}/lessons/{lesson_slug}"


def _without_tokens(page: str) -> str:
    return TOKEN.sub(r"\1=TOKEN", page)


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]


def test_a_page_from_the_cache_is_the_page_rendered_afresh(client, app, db, learner):
    module = make_module(db, lessons=3, prompts=[{}, {"accepts_files": True}], sequence="open")
    make_enrollment(db, learner, module)
    url = _url(module.slug, "lesson-2")
    first = client.get(url).get_data(as_text=True)
    cached = len(app.extensions["lms_fragments"])
    second = client.get(url).get_data(as_text=True)
    assert cached >= 3  # the navigation, the lesson and the ways on
    assert len(app.extensions["lms_fragments"]) == cached  # served, not rendered again
    assert _without_tokens(second) == _without_tokens(first)
    app.extensions["lms_fragments"] = FragmentCache()
    assert _without_tokens(client.get(url).get_data(as_text=True)) == _without_tokens(first)


def test_reopening_a_lesson_within_a_minute_writes_nothing(client, count_queries, db, learner):
    module = make_module(db, lessons=2, prompts=0, sequence="open")
    make_enrollment(db, learner, module)
    first_url, second_url = _url(module.slug, "lesson-1"), _url(module.slug, "lesson-2")
    with count_queries as opening:
        assert client.get(first_url).status_code == 200
    assert _writes(opening.statements)
    with count_queries as again:
        assert client.get(first_url).status_code == 200
    assert _writes(again.statements) == []
    assert again.count < opening.count

    # A minute later the visit is recorded again, for "last activity".
    progress = db.scalar(select(LessonProgress).where(LessonProgress.user_id == learner.id))
    an_hour_ago = now_utc() - timedelta(hours=1)
    progress.last_visited_at = an_hour_ago
    db.commit()
    with count_queries as later:
        assert client.get(first_url).status_code == 200
    assert _writes(later.statements)
    db.expire_all()
    assert db.get(LessonProgress, progress.id).last_visited_at > an_hour_ago
    db.commit()  # the test's session writes: it must not hold SQLite's lock while the app does

    # Moving to another lesson and back moves "Continue" each time, however soon.
    assert client.get(second_url).status_code == 200
    with count_queries as back:
        assert client.get(first_url).status_code == 200
    assert _writes(back.statements)
    db.expire_all()
    enrollment = db.scalar(select(Enrollment).where(Enrollment.user_id == learner.id))
    first = db.scalar(
        select(Lesson).where(Lesson.module_id == module.id, Lesson.slug == "lesson-1")
    )
    assert enrollment.last_lesson_id == first.id


def test_each_learner_sees_their_own_outline(client, auth, db, learner, make_user):
    module = make_module(db, lessons=3, prompts=0)
    make_enrollment(db, learner, module)
    url = _url(module.slug, "lesson-1")
    assert client.get(url).status_code == 200
    assert auth.post(url + "/complete").status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert f'rel="next" href="{_url(module.slug, "lesson-2")}"' in page
    assert "You completed this lesson." in page

    other = make_user()
    auth.logout()
    auth.login(other.email)
    make_enrollment(db, other, module)
    page = client.get(url).get_data(as_text=True)
    assert f'rel="next" href="{_url(module.slug, "lesson-2")}"' not in page
    assert "opens when you complete this lesson" in page
    assert "You completed this lesson." not in page


def test_a_new_import_shows_on_the_next_page(app, client, db, learner, tmp_path):
    storage = Storage(Path(app.config["LMS_DATA_DIR"]))
    packages.import_path(db, storage, MINIMAL)
    db.commit()
    module_slug = "listening-circles"
    module = db.scalar(select(Lesson).where(Lesson.slug == "why-listen")).module
    make_enrollment(db, learner, module)
    url = _url(module_slug, "why-listen")
    page = client.get(url).get_data(as_text=True)
    assert "Why listening comes first" in page

    new = copy_package(tmp_path, name="v2")
    replace(new / "module.yaml", '"1.0.0"', '"1.1.0"')
    replace(new / LESSON_1, "title: Why listening comes first", "title: Why we listen first")
    replace(new / LESSON_1, "**why listening comes first**", "**what listening changes**")
    packages.import_path(db, storage, new)
    db.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Why we listen first" in page
    assert "<strong>what listening changes</strong>" in page
    assert "Why listening comes first" not in page


def test_fragments_are_kept_per_language(app):
    app.config["LMS_LANGUAGES"] = ["en", "fr"]
    seen = []

    def render() -> str:
        seen.append(1)
        return f"<p>{len(seen)}</p>"

    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = fragment("piece", 1, caller=render)
        assert fragment("piece", 1, caller=render) == english
        assert fragment("piece", 2, caller=render) != english  # another key
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert fragment("piece", 1, caller=render) != english
    assert len(seen) == 3


def test_the_fragment_cache_is_bounded_by_the_markup_it_keeps():
    cache = FragmentCache(max_chars=20)
    for n in range(3):
        cache.get_or_render(("piece", n), lambda n=n: f"<p>{n}{'x' * 4}</p>")  # 12 chars
    assert (len(cache), cache.chars) == (1, 12)  # the least recently used went first
    assert cache.get_or_render(("piece", 0), lambda: "<p>again</p>") == "<p>again</p>"
    # A fragment larger than the whole cache is served, never kept.
    assert cache.get_or_render(("huge",), lambda: "x" * 50) == "x" * 50
    assert cache.chars <= 20
