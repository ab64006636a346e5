"""Every cached fragment's key covers what its block shows (lms.web.fragments).

Two halves. The templates are read: every value a cached block shows is in its key,
or is listed below with the part of the key that changes whenever it does. Then the
pages are used: each such input is changed in turn, and the page served with the
cache warm shows the change, the same page as one rendered with an empty cache.

(The language and the URL prefix are in every key; the language is tested with the
cache itself in tests/test_lesson_page_cache.py, the prefix below.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from jinja2 import nodes
from sqlalchemy import select

from lms import reflections
from lms.db import now_utc
from lms.models import Attachment, Lesson, LessonProgress, Module, ProgressStatus, Prompt, Role
from lms.models import User as UserRow
from lms.web.fragments import FragmentCache
from tests.factories import make_enrollment, make_module

TEMPLATES = Path(__file__).resolve().parents[1] / "lms" / "templates"
IMPORT = "module.updated_at"  # an import changes the module's texts, and this with them
PROCESS = "the process"  # the same for every request a process serves
# Globals of Flask's templates that are a request's data, not functions.
REQUEST_STATE = {"request", "session", "g", "config"}
TOKEN = re.compile(
    r'(name="csrf-token" content|name="[\w-]*csrf_token" type="hidden" value|'
    r'name="csrf_token" value)="[^"]+"'
)

# What each cached block shows beyond its key, and the part of its key that changes
# whenever that does. A loop variable's attributes are its list's.
COVERED_BY = {
    "site-nav": {},
    "lesson-head": {
        "module.slug": IMPORT,
        "module.title": IMPORT,
        "module.language": IMPORT,
        "lesson.title": IMPORT,
        "lesson.minutes": IMPORT,
        "lesson.body_html": IMPORT,
        "outline.index": IMPORT,  # the module's current lessons change with an import
        "outline.total": IMPORT,
        "attachments": IMPORT,
    },
    "autosave-messages": {},
    "reflect-head": {},
    "answer-tail": {"p.text": IMPORT},
    "answer-upload": {"p.text": IMPORT, "accept": PROCESS},
    # `missing` is in its key by its prompts' ids; their texts change with an import.
    "lesson-progress": {"outline.percent": "outline.complete"},  # and outline.total
    # The lessons before and after this one (lesson.id) among the module's (an import's).
    "lesson-ways": {
        "module.slug": IMPORT,
        "before": IMPORT,
        "after": IMPORT,
        "before.slug": IMPORT,
        "before.title": IMPORT,
        "after.slug": IMPORT,
        "after.title": IMPORT,
        "after.locked": "outline.states",
        "outline.finished": "outline.states",
        "outline.entries": "outline.states",  # the lessons' states; their titles an import's
    },
}


# --- The templates: what each cached block reads --------------------------------------


def _chain(node: nodes.Node) -> str | None:
    """``module.title`` for Getattr(Name('module'), 'title'); None for other shapes."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _chain(node.node)
        return f"{base}.{node.attr}" if base else None
    return None


def _reads(node: nodes.Node) -> Iterator[str]:
    """Every name or attribute chain an expression or a block reads."""
    chain = _chain(node)
    if chain is not None:
        yield chain
        return
    for child in node.iter_child_nodes():
        yield from _reads(child)


def _assigned(body: list[nodes.Node]) -> set[str]:
    """The names a block sets for itself ({% set %}, {% for %} targets)."""
    names = {"loop", "caller"}
    for top in body:
        for node in [top, *top.find_all((nodes.Assign, nodes.For))]:
            if isinstance(node, (nodes.Assign, nodes.For)):
                target = node.target
                names |= {n.name for n in target.find_all(nodes.Name)}
                if isinstance(target, nodes.Name):
                    names.add(target.name)
    return names


def _fragments(app) -> dict[str, tuple[set[str], set[str]]]:
    """Each cached block of the templates: (the chains in its key, the chains it shows)."""
    found = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        tree = app.jinja_env.parse(path.read_text())
        imported = {
            name if isinstance(name, str) else name[1]
            for node in tree.find_all(nodes.FromImport)
            for name in node.names
        }
        functions = set(app.jinja_env.globals) - REQUEST_STATE
        not_data = functions | set(app.jinja_env.filters) | imported
        for block in tree.find_all(nodes.CallBlock):
            if _chain(block.call.node) != "fragment":
                continue
            name = block.call.args[0].value
            key = {c for arg in block.call.args[1:] for c in _reads(arg)}
            local = _assigned(block.body)
            shown = {
                c
                for node in block.body
                for c in _reads(node)
                if c.split(".")[0] not in local | not_data
            }
            found[name] = (key, shown)
    return found


def test_every_cached_block_shows_only_what_its_key_covers(app):
    fragments = _fragments(app)
    assert set(fragments) == set(COVERED_BY), "a cached block was added or removed"
    for name, (key, shown) in fragments.items():
        beyond_the_key = {c: COVERED_BY[name].get(c) for c in shown - key}
        assert beyond_the_key == COVERED_BY[name], f"{name}: {sorted(key)}"
        for cover in COVERED_BY[name].values():
            assert cover in key | {PROCESS}, f"{name}: {cover} is not in its key"


def test_the_reading_of_templates_sees_what_a_block_shows(app):
    """A block that shows the viewer's name without it in its key is seen."""
    tree = app.jinja_env.parse(
        '{% call fragment("x", lesson.id) %}{{ current_user.display_name }}'
        "{% for e in outline.entries %}{{ e.title }}{% endfor %}{% endcall %}"
    )
    (block,) = tree.find_all(nodes.CallBlock)
    local = _assigned(block.body)
    shown = {c for n in block.body for c in _reads(n) if c.split(".")[0] not in local}
    assert shown == {"current_user.display_name", "outline.entries"}


# --- The pages: each input changed, the warm page shows it ----------------------------


@pytest.fixture
def world(app, client, db, make_user, auth):
    """Amina on lesson 1 of a linear module of three lessons, each with a required
    prompt that takes files, an optional one and a worksheet."""
    amina = make_user(name="Amina")
    auth.login(amina.email)
    module = make_module(
        db,
        lessons=3,
        prompts=[{"accepts_files": True}, {"required": False}],
        attachments=1,
        data_dir=app.config["LMS_DATA_DIR"],
    )
    make_enrollment(db, amina, module)
    ids = {"user": amina.id, "module": module.id}
    db.commit()
    url = f"/modules/{module.slug}/lessons/lesson-1"
    assert client.get(url).status_code == 200  # opened: in progress from now on
    return ids, url


def _without_tokens(page: str) -> str:
    return TOKEN.sub(r"\1=TOKEN", page)


def _page(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return _without_tokens(response.get_data(as_text=True))


def _fresh(app, client, url: str, **kwargs) -> str:
    """The page rendered with an empty cache; the warm cache is kept for the next request."""
    warm = app.extensions["lms_fragments"]
    app.extensions["lms_fragments"] = FragmentCache()
    try:
        return _page(client, url, **kwargs)
    finally:
        app.extensions["lms_fragments"] = warm


def _prompts(db, ids, position: int = 1) -> list[Prompt]:
    prompts = list(
        db.scalars(
            select(Prompt)
            .join(Prompt.lesson)
            .where(Lesson.module_id == ids["module"], Lesson.position == position)
            .order_by(Prompt.position)
        )
    )
    db.commit()
    return prompts


def _submit_required(db, ids) -> None:
    required = _prompts(db, ids)[0]
    reflections.submit(db, db.get(UserRow, ids["user"]), required, "Tea, mostly.", based_on=0)
    db.commit()


def _complete_lesson_1(db, ids, auth, url) -> None:
    _submit_required(db, ids)
    assert auth.post(url + "/complete").status_code == 302
    auth.client.get("/learning")  # shows, and so forgets, what completing flashed


def _two_revisions(db, ids, _auth, _url) -> None:
    user, optional = db.get(UserRow, ids["user"]), _prompts(db, ids)[1]
    reflections.save_draft(db, user, optional, "A first thought", based_on=0)
    reflections.save_draft(db, user, optional, "A second thought", based_on=1)
    db.commit()


def _import_again(db, ids, _auth, _url) -> None:
    """What an import of a new version changes on this page (lms.packages.importer)."""
    module = db.get(Module, ids["module"])
    module.title = "Listening, again"
    lesson = db.scalar(select(Lesson).where(Lesson.module_id == module.id, Lesson.position == 1))
    lesson.title, lesson.minutes = "Why we listen first", 25
    lesson.body_html = "<p>What listening changes.</p>"
    _prompts(db, ids)[0].text = "What did you hear today?"
    db.scalar(select(Attachment).where(Attachment.lesson_id == lesson.id)).title = "Handout"
    db.scalar(
        select(Lesson).where(Lesson.module_id == module.id, Lesson.position == 3)
    ).title = "Listening in groups"
    module.updated_at = now_utc() + timedelta(seconds=1)
    db.commit()


def _complete_lesson_3(db, ids, _auth, _url) -> None:
    lesson = db.scalar(
        select(Lesson).where(Lesson.module_id == ids["module"], Lesson.position == 3)
    )
    db.add(LessonProgress(user_id=ids["user"], lesson_id=lesson.id, status=ProgressStatus.COMPLETE))
    db.commit()


def _make_facilitator(db, ids, _auth, _url) -> None:
    db.get(UserRow, ids["user"]).role = Role.FACILITATOR
    db.commit()


def _nothing(*_args) -> None:
    pass


SCENARIOS: dict[str, tuple[Callable, dict, list[str], list[str]]] = {
    # name: (the change, the request's arguments, shown before only, shown after only)
    "the lesson is completed (its state, progress and the way on)": (
        _complete_lesson_1,
        {},
        ["· In progress", "submit your answer to:", "(opens when you complete this lesson)"],
        ["· Complete", "You completed this lesson.", 'rel="next" href="/modules/'],
    ),
    "a required answer is submitted (what is missing)": (
        lambda db, ids, _a, _u: _submit_required(db, ids),
        {},
        ["To mark this lesson complete, submit your answer to:"],
        [],
    ),
    "an answer has an earlier version": (_two_revisions, {}, [], ["Earlier versions"]),
    "the module is imported again": (
        _import_again,
        {},
        ["Lesson 1 of Module", "Worksheet 1", "Question 1 of lesson 1?", "about 15 minutes"],
        [
            "Listening, again",
            "Why we listen first",
            "<p>What listening changes.</p>",
            "What did you hear today?",
            "Handout",
            "Listening in groups",
            "about 25 minutes",
        ],
    ),
    "another lesson is completed (the progress bar, the outline)": (
        _complete_lesson_3,
        {},
        ["0 of 3 lessons complete"],
        ["1 of 3 lessons complete"],
    ),
    "the upload limit changes": (
        lambda *_args: None,  # set on the app below
        {},
        ["up to 10 MB each"],
        ["up to 2 MB each"],
    ),
    "the site is served under another URL prefix": (
        _nothing,
        {"base_url": "http://localhost/lms"},
        ['href="/modules/'],
        ['href="/lms/modules/'],
    ),
    "the learner becomes a facilitator (the site's navigation)": (
        _make_facilitator,
        {},
        [],
        [">Facilitate</a>"],
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_change_shows_on_the_page_served_from_the_warm_cache(
    app, client, db, auth, world, scenario
):
    ids, url = world
    change, request, before_only, after_only = SCENARIOS[scenario]
    if scenario == "the upload limit changes":
        app.config["LMS_MAX_UPLOAD_BYTES"] = 10 * 1024 * 1024
    before = _page(client, url)
    assert len(app.extensions["lms_fragments"]) >= 6  # every block of the page is kept
    if scenario == "the upload limit changes":
        app.config["LMS_MAX_UPLOAD_BYTES"] = 2 * 1024 * 1024
    change(db, ids, auth, url)

    after = _page(client, url, **request)

    assert after == _fresh(app, client, url, **request)
    for text in before_only:
        assert text in before, text
        assert text not in after, text
    for text in after_only:
        assert text not in before, text
        assert text in after, text


def test_the_navigation_marks_the_page_it_is_on(client, world):
    """The site's navigation is cached per endpoint: each page marks its own link."""
    learning = _page(client, "/learning")
    catalog = _page(client, "/modules")
    assert 'href="/learning" aria-current="page"' in learning
    assert 'href="/modules" aria-current="page"' in catalog
    assert 'href="/learning" aria-current="page"' not in catalog
