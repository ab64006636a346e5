"""The lesson page's one form, read from its HTML and sent back as a browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask.testing import FlaskClient
from sqlalchemy import select

from lms.models import Prompt
from tests.factories import make_enrollment, make_module


@dataclass
class PageForm:
    """A form of a page: where it posts, the values it sends, its buttons and file fields."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    file_fields: list[str] = field(default_factory=list)

    def send(
        self,
        client: FlaskClient,
        button: str | None,
        changes: dict[str, str] | None = None,
        files: dict | None = None,
        **kwargs,
    ):
        """Post the form as a browser does: every field, the pressed button, chosen files.

        ``button`` is the pressed button's name; for buttons that share a name (Remove)
        give "name=value". A file field with no file is sent empty, as browsers do.
        """
        data: dict = {**self.fields, **(changes or {})}
        if button is not None:
            name, _, value = button.partition("=")
            data[name] = value or dict(self.buttons)[name]
        for name in self.file_fields:
            data[name] = (files or {}).get(name) or (b"", "")
        return client.post(self.action, data=data, content_type="multipart/form-data", **kwargs)


class _Reader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.form: PageForm | None = None
        self.inside = False
        self.textarea: str | None = None
        self.first_chunk = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("action") == self.action:
            self.form, self.inside = PageForm(self.action), True
        elif not self.inside:
            return
        elif tag == "input" and a.get("type") == "file":
            self.form.file_fields.append(a["name"])
        elif tag == "input" and a.get("name"):
            self.form.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.form.fields[self.textarea] = ""
            self.first_chunk = True
        elif tag == "button" and a.get("type") == "submit" and a.get("name"):
            self.form.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            if self.first_chunk:
                # A browser drops the one newline that starts a textarea's content.
                if data.startswith("\r\n"):
                    data = data[2:]
                elif data.startswith("\n"):
                    data = data[1:]
                self.first_chunk = False
            self.form.fields[self.textarea] += data


def page_form(page: str, action: str) -> PageForm:
    """The form of the page that posts to ``action``."""
    reader = _Reader(action)
    reader.feed(page)
    assert reader.form is not None, f"no form posts to {action}"
    return reader.form


def on_a_new_lesson(db, make_user, auth, prompts: list[dict], lessons: int = 1):
    """A new learner, signed in and enrolled in a new module: them, lesson 1's prompts, its URL."""
    user = make_user()
    auth.login(user.email)
    module = make_module(db, lessons=lessons, prompts=prompts)
    make_enrollment(db, user, module)
    first_lessons_prompts = list(
        db.scalars(
            select(Prompt)
            .where(Prompt.lesson.has(module_id=module.id, position=1))
            .order_by(Prompt.position)
        )
    )
    db.commit()
    return user, first_lessons_prompts, f"/modules/{module.slug}/lessons/lesson-1"
