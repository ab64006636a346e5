"""The lesson page writes its answer fields out by hand, for speed (lms/templates/learner/
_macros.html, ``reflection_fields``): element for element, what ReflectionForm renders through the
app's one field macro, whatever the answer, the prompt or its hint."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import render_template_string

from lms import reflections
from lms.models import User
from lms.web.learner.forms import ReflectionForm
from tests.lesson_page import on_a_new_lesson

# What answer.html (the page of answers not saved) renders from the same form.
WTFORMS = (
    '{% from "_forms.html" import field %}{{ form.revision() }}{{ field(form.body, hint=hint) }}'
)
HINTS = {True: "Required to complete the lesson.", False: "Optional."}


class Elements(HTMLParser):
    """A page as a list of elements with their attributes, and the texts between them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple] = []
        self.in_textarea = False

    def handle_starttag(self, tag, attrs):
        self.items.append(("start", tag, sorted(attrs)))
        self.in_textarea = tag == "textarea"

    def handle_endtag(self, tag):
        self.items.append(("end", tag))
        self.in_textarea = False

    def handle_data(self, data):
        # A box's text exactly (its leading line break too); elsewhere, words without
        # the indentation around them.
        if self.in_textarea:
            self.items.append(("text", data))
        elif data.strip():
            self.items.append(("text", data.strip()))


def _elements(html: str) -> list[tuple]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.items


def _reflection_fields(page: str, prompt_id: int) -> list[tuple]:
    """The revision input of the prompt and the field that follows it, as the page has them."""
    items = _elements(page)
    start = next(
        i
        for i, item in enumerate(items)
        if item[:2] == ("start", "input") and ("id", f"p{prompt_id}-revision") in item[2]
    )
    depth, end = 0, start + 1
    for end in range(start + 1, len(items)):
        if items[end][:2] == ("start", "div"):
            depth += 1
        elif items[end][:2] == ("end", "div"):
            depth -= 1
            if depth == 0:
                break
    return items[start : end + 1]


@pytest.fixture
def lesson(client, db, make_user, auth):
    """A learner on a lesson with a required prompt and an optional one."""
    prompts = [
        {"text": 'What helps you "rest" & <wind down>?', "required": True},
        {"text": "Anything else?", "required": False},
    ]
    return on_a_new_lesson(db, make_user, auth, prompts)


@pytest.mark.parametrize(
    "body",
    ["", "Tea & <quiet> \"mornings\" 'too'", "  two\n\nparagraphs, then spaces  ", "\n\nleading"],
    ids=["no answer yet", "markup characters", "lines and spaces", "leading newlines"],
)
def test_the_lesson_page_fields_are_what_answer_form_renders(app, client, db, lesson, body):
    user, prompts, url = lesson
    required, optional = prompts
    revision = 0
    if body:
        reflections.save_draft(db, db.get(User, user.id), required, body, based_on=0)
        db.commit()
        revision = 1
    page = client.get(url).get_data(as_text=True)

    for prompt, text, number in [(required, body, revision), (optional, "", 0)]:
        with app.test_request_context():
            form = ReflectionForm.for_prompt(
                prompt, formdata=None, data={"body": text, "revision": number}
            )
            expected = render_template_string(WTFORMS, form=form, hint=HINTS[prompt.required])
        assert _reflection_fields(page, prompt.id) == _elements(expected), prompt.text


def test_the_comparison_sees_a_difference():
    """The two sides are compared element by element: one attribute more is a difference."""
    plain = '<input id="p1-revision" name="p1-revision" type="hidden" value="0"><div></div>'
    extra = '<input id="p1-revision" name="p1-revision" type="hidden" value="0" required>'
    assert _reflection_fields(plain, 1) != _reflection_fields(extra + "<div></div>", 1)
    assert _reflection_fields(plain, 1) == _elements(plain)
