"""Hostile text: a corpus of XSS shapes, and a reading of pages that says whether any got through.

Every payload that could run calls a recorder, ``__xss(n)`` (``n`` names the payload) or
``alert(n)``, so that a browser can tell which one ran. ``assert_inert`` reads an HTML page
as a browser would (tags, attributes, URLs after entity decoding) and lists what could run.
``World`` sends the corpus through the app's real forms and lists the pages to read.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urlencode, urlsplit

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from lms.html import EMBED_HOSTS, inspect_lesson
from lms.mail import outbox_dir
from lms.models import (
    Cohort,
    LearnerFile,
    Lesson,
    LiveSession,
    Module,
    PeerReply,
    Prompt,
    Reflection,
    Role,
    User,
)
from lms.packages import jobs
from lms.people import credentials
from tests.cohort_data import quick_users
from tests.conftest import PASSWORD


@dataclass(frozen=True)
class Payload:
    """One hostile text; ``name`` is its id in test output."""

    name: str
    text: str


def _corpus() -> list[Payload]:
    shapes = [
        ("script", "<script>__xss({n})</script>"),
        ("script-src-data", '<script src="data:text/javascript,__xss({n})"></script>'),
        ("script-split", "<scr<script>ipt>__xss({n})</scr</script>ipt>"),
        ("img-onerror", "<img src=x onerror=__xss({n})>"),
        ("img-onerror-quoted", '<img src="x" onerror="__xss({n})">'),
        ("img-eval-src", "<img src=x:alert({n}) onerror=eval(src) alt=0>"),
        ("svg-onload", "<svg onload=__xss({n})>"),
        ("svg-script", "<svg><script>__xss({n})</script></svg>"),
        (
            "svg-xlink",
            '<svg><a xlink:href="javascript:__xss({n})"><text y="20">go</text></a></svg>',
        ),
        ("svg-animate", "<svg><animate onbegin=__xss({n}) attributeName=x dur=1s>"),
        ("details-ontoggle", "<details open ontoggle=__xss({n})><summary>s</summary></details>"),
        ("body-onload", "<body onload=__xss({n})>"),
        ("input-autofocus", "<input autofocus onfocus=__xss({n})>"),
        ("video-source", "<video><source onerror=__xss({n})></video>"),
        ("audio-onerror", "<audio src=x onerror=__xss({n})></audio>"),
        ("hover", "<p onmouseover=__xss({n}) onpointerenter=__xss({n})>hover me</p>"),
        ("iframe-js", '<iframe src="javascript:parent.__xss({n})"></iframe>'),
        ("iframe-srcdoc", '<iframe srcdoc="<script>parent.__xss({n})</script>"></iframe>'),
        ("iframe-embed-onload", f'<iframe src="https://{min(EMBED_HOSTS)}/x" onload=__xss({{n}})>'),
        ("object-js", '<object data="javascript:__xss({n})"></object>'),
        ("embed-js", '<embed src="javascript:__xss({n})">'),
        ("form-action", '<form action="javascript:__xss({n})"><button>go</button></form>'),
        ("formaction", '<button formaction="javascript:__xss({n})">go</button>'),
        ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:__xss({n})">'),
        ("base-href", '<base href="javascript:__xss({n})//">'),
        ("a-js", '<a href="javascript:__xss({n})">link</a>'),
        ("a-js-case", '<A HREF="JaVaScRiPt:__xss({n})">link</A>'),
        ("a-js-space", '<a href=" javascript:__xss({n})">link</a>'),
        ("a-js-tab-entity", '<a href="java&#x09;script:__xss({n})">link</a>'),
        ("a-js-newline-entity", '<a href="jav&#x0A;ascript:__xss({n})">link</a>'),
        (
            "a-js-decimal",
            '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;__xss({n})">'
            "l</a>",
        ),
        ("a-js-zero-width", '<a href="java\u200bscript:__xss({n})">link</a>'),
        ("a-data", '<a href="data:text/html,<script>__xss({n})</script>">link</a>'),
        ("a-vbscript", '<a href="vbscript:msgbox({n})">link</a>'),
        ("md-link-js", "[link](javascript:__xss({n}))"),
        ("md-link-js-tab", "[link](java&#x09;script:__xss({n}))"),
        ("md-link-js-zero-width", "[link](java\u200bscript:__xss({n}))"),
        ("md-link-js-entity", "[link](&#106;avascript:__xss({n}))"),
        ("md-link-data", "[link](data:text/html;base64,PHNjcmlwdD5fX3hzcygxKTwvc2NyaXB0Pg==)"),
        ("md-image-js", "![pic](javascript:__xss({n}))"),
        ("md-image-data", "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9X194c3MoMSk+)"),
        ("md-autolink-js", "<javascript:__xss({n})>"),
        ("md-reference-js", "[link][r{n}]\n\n[r{n}]: javascript:__xss({n})"),
        ("md-title-breakout", '[link](https://example.org "t\\" onmouseover=__xss({n}) x=\\"")'),
        ("md-code", "`<script>__xss({n})</script>`"),
        ("md-html-block", "<div>\n<img src=x onerror=__xss({n})>\n</div>"),
        ("mxss-noscript", '<noscript><p title="</noscript><img src=x onerror=__xss({n})>">'),
        ("mxss-math", "<math><mtext><table><mglyph><style><img src=x onerror=__xss({n})>"),
        ("mxss-svg-style", '<svg></p><style><a id="</style><img src=1 onerror=__xss({n})>">'),
        ("mxss-comment", '<!--<img src="--><img src=x onerror=__xss({n})//">'),
        ("mxss-textarea", "</textarea><script>__xss({n})</script>"),
        ("mxss-title", "</title><script>__xss({n})</script>"),
        ("broken-tag", "<<img src=x onerror=__xss({n})//"),
        ("broken-attribute", '<a href="https://example.org" title="x><script>__xss({n})</script>'),
        ("style-attribute", '<div style="background:url(javascript:__xss({n}))">styled</div>'),
        ("css-expression", '<span style="width:expression(__xss({n}))">styled</span>'),
        ("style-tag", "<style>@import 'javascript:__xss({n})';body{{display:none}}</style>"),
        ("fullwidth", "\uff1cscript\uff1e__xss({n})\uff1c/script\uff1e"),
        ("rtl-override", "\u202e<script>__xss({n})</script>\u202c"),
        ("zero-width-tag", "<scr\u200bipt>__xss({n})</scr\u200bipt>"),
        ("entity-script", "&lt;script&gt;__xss({n})&lt;/script&gt;"),
        ("double-entity-script", "&amp;lt;script&amp;gt;__xss({n})&amp;lt;/script&amp;gt;"),
        ("template-jinja", "tpl{{{{7*7}}}}tpl"),
        ("template-raw", "tpl{{% raw %}}{{{{7*7}}}}{{% endraw %}}tpl"),
        ("template-dollar", "tpl${{7*7}}tpl #{{7*7}} <%= 7*7 %>"),
        ("breakout-double", '"><img src=x onerror=__xss({n})>'),
        ("breakout-single", "' autofocus onfocus=__xss({n}) x='"),
        ("breakout-double-autofocus", '" autofocus onfocus="__xss({n})" x="'),
        ("breakout-backtick", "`><img src=x onerror=__xss({n})>"),
        ("crlf", "line one\r\nBcc: victim@example.org\r\n\r\n<script>__xss({n})</script>"),
    ]
    return [Payload(name, text.format(n=n)) for n, (name, text) in enumerate(shapes, start=1)]


PAYLOADS: list[Payload] = _corpus()


def bundles(payloads: list[Payload], limit: int) -> list[list[Payload]]:
    """The payloads in groups whose texts, a blank line apart, take at most ``limit`` characters.

    A field then carries several payloads at once, so that a site needs a few dozen rows,
    not one per payload per field; the blank line keeps Markdown blocks apart.
    """
    groups: list[list[Payload]] = []
    for payload in payloads:
        assert len(payload.text) <= limit, payload.name
        if groups and len(joined(groups[-1])) + 2 + len(payload.text) <= limit:
            groups[-1].append(payload)
        else:
            groups.append([payload])
    return groups


def joined(payloads: list[Payload]) -> str:
    """The texts of payloads, a blank line apart."""
    return "\n\n".join(p.text for p in payloads)


# What a template engine would make of the template payloads if it evaluated them.
EVALUATED = ("tpl49tpl",)

# Join links for live sessions: each is refused, or kept as an inert https address.
JOIN_LINKS = [
    "javascript:__xss(1)",
    "JaVaScRiPt:__xss(2)",
    " javascript:__xss(3)",
    "java\tscript:__xss(4)",
    "javascript://example.org/%0a__xss(5)",
    "data:text/html,<script>__xss(6)</script>",
    "vbscript:msgbox(7)",
    'https://meet.example.org/" onmouseover="__xss(8)" x="',
    "https://meet.example.org/<script>__xss(9)</script>",
    "https://meet.example.org/?'><img src=x onerror=__xss(10)>",
    "https://meet.example.org/x\r\nATTACH:https://evil.example/x\r\nX-INJECTED:1",
]


# --- Reading a page as a browser would ------------------------------------------------

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "background"}
    | {"cite", "srcset", "ping", "codebase", "dynsrc", "lowsrc", "manifest", "icon"}
)
FORBIDDEN_TAGS = frozenset(
    {"style", "svg", "math", "object", "embed", "base", "applet", "frame", "frameset"}
    | {"noscript", "template", "xmp", "plaintext", "listing", "isindex", "portal"}
)
# Browsers drop tabs and newlines inside a URL and controls and spaces around it; all
# of them are dropped here, wherever they are (stricter). A zero-width character is not
# dropped by browsers: "java\u200bscript:" is a relative address, not a scheme.
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")
# A browser reads what an iframe holds as plain text, up to "</iframe" (as nh3 does):
# markup in there never becomes elements.
RAW_TEXT_TAGS = frozenset({"iframe"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_:.-]*$")


def url_scheme(url: str) -> str | None:
    """The scheme a browser would read in an attribute's (entity-decoded) URL, or None."""
    match = _SCHEME.match(_INVISIBLE.sub("", url))
    return match.group(1).lower() if match else None


@dataclass
class PageReading:
    """What a page holds: what could run (``problems``) and the text a reader sees."""

    problems: list[str] = field(default_factory=list)
    text: str = ""
    attribute_values: list[str] = field(default_factory=list)

    def shows(self, needle: str) -> bool:
        """True if the page holds the needle as text or in an attribute (a form field's value)."""
        return needle in self.text or any(needle in value for value in self.attribute_values)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.reading = PageReading()
        self._text: list[str] = []
        self._in_script = False

    def _problem(self, what: str) -> None:
        self.reading.problems.append(f"{what}: {self.get_starttag_text() or ''}"[:300])

    def handle_starttag(self, tag, attrs):
        self._check(tag, dict(attrs), attrs)
        self._in_script = tag == "script"
        if tag in RAW_TEXT_TAGS:
            self.set_cdata_mode(tag)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, dict(attrs), attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.reading.problems.append(f"inline script: {data[:200]}")
        elif not self._in_script:
            self._text.append(data)

    def _check(self, tag: str, values: dict, attrs: list) -> None:
        if tag in FORBIDDEN_TAGS:
            self._problem(f"<{tag}>")
        elif tag == "script" and not (values.get("src") or "").startswith("/static/js/"):
            self._problem("a script that is not the app's own")
        elif tag == "link" and not (values.get("href") or "").startswith("/static/"):
            self._problem("a link element that is not the app's stylesheet")
        elif tag == "meta" and values.get("http-equiv") is not None:
            if not (values.get("content") or "").isdigit():
                self._problem("a meta refresh to an address")
        elif tag == "iframe":
            # Without src the frame is an empty about:blank; with one, only a video host.
            parts = urlsplit(values.get("src") or "https://" + min(EMBED_HOSTS))
            if parts.scheme != "https" or parts.hostname not in EMBED_HOSTS:
                self._problem("an iframe not on an allowlisted video host")
            if "sandbox" not in values:
                self._problem("an iframe without sandbox")
        self.reading.attribute_values += [value for _name, value in attrs if value]
        for name, value in attrs:
            if not _ATTRIBUTE_NAME.match(name):
                self._problem(f"an attribute named {name!r} (markup broke out)")
            elif name.startswith("on"):
                self._problem(f"an event handler {name}")
            elif name in ("style", "srcdoc"):
                self._problem(f"a {name} attribute")
            elif name in URL_ATTRIBUTES and value:
                scheme = url_scheme(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self._problem(f"a {scheme}: URL in {name}")
                if tag == "form" and name == "action" and not value.startswith("/"):
                    self._problem("a form posting elsewhere")

    def close(self) -> None:
        super().close()
        self.reading.text = "".join(self._text)


def read_page(html: str) -> PageReading:
    """Read an HTML page; its problems are what a browser could run."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reading = reader.reading
    for evaluated in EVALUATED:
        if evaluated in reading.text:
            reading.problems.append(f"template syntax was evaluated: {evaluated}")
    return reading


def assert_inert(html: str, where: str) -> PageReading:
    """Fail, naming the page, if anything on it could run; returns the reading."""
    reading = read_page(html)
    assert not reading.problems, f"{where}:\n  " + "\n  ".join(reading.problems)
    return reading


# --- Sending the corpus through the app's forms -----------------------------------------


class Actor:
    """A test client, signed in through the login form, posting forms with its CSRF token."""

    def __init__(self, app: Flask, email: str | None = None) -> None:
        self.client = app.test_client()
        self._token: str | None = None
        self._token_page = "/login"
        if email is not None:
            response = self.post("/login", {"email": email, "password": PASSWORD})
            assert response.status_code == 302, f"{email} could not sign in"
            self._token, self._token_page = None, "/account/password"  # a new session

    def get(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict, **kw):
        """POST a form with the session's CSRF token, read from a page once as a browser would."""
        if self._token is None:
            page = self.get(self._token_page)
            self._token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        return self.client.post(path, data={**data, "csrf_token": self._token}, **kw)

    def read(self, path: str) -> list[tuple[str, str]]:
        """The page and the pages after it (a pager's "next" links), as (path, html)."""
        pages = []
        while path:
            html = self.get(path)
            pages.append((path, html))
            following = re.search(r'<a rel="next" href="([^"]+page=[^"]+)">', html)
            path = unescape(following.group(1)) if following else ""
        return pages


MODULE_SLUG = "hostile-text"
NAME_LIMIT = 120  # a display name
TEXT_LIMIT = 200  # titles and cohort names
LONG_TEXT_LIMIT = 1000  # prompts, answers, replies, feedback (each takes at least this)


def _quoted(text: str) -> str:
    # JSON strings are YAML double-quoted strings (every payload is in the BMP).
    return json.dumps(text)


def _validator_accepts(payload: Payload) -> bool:
    scan = inspect_lesson(payload.text)
    return not any(f.error for f in scan.findings) and not scan.local_references


def write_package(
    folder: Path, groups: list[list[Payload]], prompts: list[str], bodies: str = "accepted"
) -> Path:
    """A module package whose every text is hostile.

    A lesson per group (title, body) and a module-wide attachment per group (title); the
    first lessons ask the ``prompts``. ``bodies="accepted"`` writes into lesson bodies only
    what the package validator lets through, so that the package imports; ``"all"`` writes
    every payload, and is refused.
    """
    (folder / "lessons").mkdir(parents=True)
    (folder / "attachments").mkdir()
    everything = [p for group in groups for p in group]
    sheets = []
    for n, group in enumerate(groups, start=1):
        (folder / "attachments" / f"sheet-{n:02d}.txt").write_text(f"Sheet {n}\n")
        sheets.append(f"{{path: attachments/sheet-{n:02d}.txt, title: {_quoted(joined(group))}}}")
    (folder / "module.yaml").write_text(
        "format: 1\n"
        f"slug: {MODULE_SLUG}\n"
        f"title: {_quoted(joined(groups[0]))}\n"
        'version: "1.0.0"\n'
        f"summary: {_quoted(joined(everything))}\n"
        "language: en\n"
        "license: CC-BY-4.0\n"
        f"authors: [{', '.join(_quoted(p.text) for p in everything[:3])}]\n"
        "estimated_minutes: 30\n"
        "sequence: open\n"
        f"attachments: [{', '.join(sheets)}]\n",
        encoding="utf-8",
    )
    for n, group in enumerate(groups, start=1):
        body = joined([p for p in group if bodies == "all" or _validator_accepts(p)])
        prompt = (
            f"prompts: [{{id: q{n}, text: {_quoted(prompts[n - 1])}, accepts_files: true}}]\n"
            if n <= len(prompts)
            else ""
        )
        (folder / "lessons" / f"{n:02d}-lesson.md").write_text(
            "---\n"
            f"slug: lesson-{n:02d}\n"
            f"title: {_quoted(joined(group))}\n"
            f"minutes: 5\n{prompt}"
            f"---\n\nLesson {n}.\n\n{body}\n",
            encoding="utf-8",
        )
    return folder


def _zip(folder: Path, out: Path) -> bytes:
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return out.read_bytes()


def as_sent_by_a_browser(file_name: str) -> str:
    """A file name as chromium writes it in a multipart form (quotes and line breaks encoded)."""
    return file_name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _quick_hash(password: str) -> str:
    # A few dozen accounts are registered: scrypt's cost is not what these tests are about.
    return generate_password_hash(password, method="pbkdf2:sha256:1")


class World:
    """A site where every text a user or a package can supply carries the corpus.

    Built through the real forms and routes: people register with hostile names, the admin
    makes one a facilitator, imports a hostile package (after one that is refused) and opens
    hostile cohorts; the facilitator adds everyone and schedules hostile live sessions; a
    learner (the author) answers, submits, shares and uploads files with hostile names;
    another (the replier) replies; the facilitator gives feedback and hides an answer and a
    reply. ``pages`` lists what each person then reads; ``seen`` holds pages read on the way
    (previews, forms shown back with hostile input).
    """

    def __init__(self, app: Flask, db: Session, tmp_path: Path, payloads: list[Payload]):
        self.app, self.db, self.tmp_path, self.payloads = app, db, tmp_path, payloads
        self.texts = [joined(group) for group in bundles(payloads, TEXT_LIMIT)]
        self.long_texts = [joined(group) for group in bundles(payloads, LONG_TEXT_LIMIT)]
        self.pages: list[tuple[Actor, str]] = []
        self.seen: list[tuple[str, str]] = []
        [admin] = quick_users(db, Role.ADMIN)
        self.admin_email = admin.email
        self.admin = Actor(app, admin.email)

    def build(self) -> World:
        """Every step, in the order a site fills up."""
        self.register_people()
        self.import_package()
        self.open_cohorts()
        self.schedule_live_sessions()
        self.answer_and_share()
        self.upload_files()
        self.reply_and_give_feedback()
        self.echo_back()
        return self

    # --- people ---

    def register_people(self) -> None:
        """People register with hostile names; the first three become F, A and B."""
        self.emails = []
        # Dozens of people register from this one test address: not an attack here.
        self.app.config["LMS_REGISTRATIONS_PER_ADDRESS"] = 10**6
        with patch.object(credentials, "hash_password", _quick_hash):
            for n, group in enumerate(bundles(self.payloads, NAME_LIMIT), start=1):
                email = f"person{n}@example.org"
                newcomer = Actor(self.app)
                response = newcomer.post(
                    "/register",
                    {
                        "display_name": joined(group),
                        "email": email,
                        "password": PASSWORD,
                        "confirm": PASSWORD,
                    },
                )
                assert response.status_code == 302, ([p.name for p in group], response.status_code)
                welcome = response.headers["Location"]  # "Welcome, <name>!"
                self.seen.append((f"{welcome} after registering", newcomer.get(welcome)))
                self.emails.append(email)
        ids = dict(self._read(select(User.email, User.id)))
        self.user_ids = [ids[email] for email in self.emails]
        response = self.admin.post(f"/admin/people/{self.user_ids[0]}", {"role": "facilitator"})
        assert response.status_code == 302
        self.facilitator = Actor(self.app, self.emails[0])
        self.author = Actor(self.app, self.emails[1])
        self.replier = Actor(self.app, self.emails[2])
        self.pages_of(self.admin, "/admin/people", *(f"/admin/people/{i}" for i in self.user_ids))

    # --- a module package ---

    def import_package(self) -> None:
        """The admin uploads a package that is refused, then one that imports, and imports it."""
        groups = bundles(self.payloads, TEXT_LIMIT)
        for bodies in ("all", "accepted"):
            folder = write_package(
                self.tmp_path / f"package-{bodies}", groups, self.long_texts, bodies
            )
            data = _zip(folder, self.tmp_path / f"package-{bodies}.zip")
            response = self.admin.post(
                "/admin/modules/import",
                # The name as a browser sends it (quotes would arrive percent-encoded).
                {"package": (io.BytesIO(data), "<img src=x onerror=__xss(0)>.zip")},
                content_type="multipart/form-data",
            )
            assert response.status_code == 302, response.status_code
            preview = response.headers["Location"]
            self.seen.append((f"the preview of the package ({bodies})", self.admin.get(preview)))
        response = self.admin.post(preview, {})
        assert response.status_code == 302
        jobs.wait_for_imports()
        [module_id] = self._read(select(Module.id).where(Module.slug == MODULE_SLUG))
        self.module_id = module_id
        self.lesson_slugs = self._read(
            select(Lesson.slug).where(Lesson.module_id == module_id).order_by(Lesson.position)
        )
        self.prompt_ids = self._read(
            select(Prompt.id)
            .join(Prompt.lesson)
            .where(Lesson.module_id == module_id)
            .order_by(Lesson.position)
        )
        self.pages_of(self.admin, response.headers["Location"], "/admin/modules")

    # --- cohorts and live sessions ---

    def open_cohorts(self) -> None:
        """A cohort per text (name and description); everyone is in the first."""
        self.cohort_ids = []
        for text in self.texts:
            response = self.admin.post(
                "/admin/cohorts/new",
                {
                    "name": text,
                    "description": text,
                    "modules": [self.module_id],
                    "facilitators": [self.user_ids[0]],
                },
            )
            assert response.status_code == 302, (text, response.status_code)
            self.cohort_ids.append(int(response.headers["Location"].rsplit("/", 1)[1]))
        self.cohort_id = self.cohort_ids[0]
        # Everyone is invited to the first, and someone without an account; all accept.
        response = self.facilitator.post(
            f"/facilitate/cohorts/{self.cohort_id}/members/add",
            {"emails": "\n".join([*self.emails[1:], "invited@example.org"])},
        )
        assert response.status_code == 302, response.status_code
        tokens = {}
        for mail in outbox_dir(self.app.config).glob("*.eml"):
            text = mail.read_text()
            to = re.search(r"^To: (\S+)$", text, re.M).group(1)
            tokens[to] = re.search(r"/invitations/(\S+)", text).group(1)
        invitation = f"/invitations/{tokens[self.emails[2]]}"
        for path in ("/cohorts", invitation):  # the replier's, waiting for her answer
            self.seen.append((f"{path} before accepting", self.replier.get(path)))
        actors = {self.emails[1]: self.author, self.emails[2]: self.replier}
        for email in self.emails[1:]:
            invited = actors.get(email) or Actor(self.app, email)
            response = invited.post(f"/invitations/{tokens[email]}", {})
            assert response.status_code == 302, (email, response.status_code)
        self.pages_of(self.facilitator, f"/facilitate/cohorts/{self.cohort_id}/invitations")
        # The author joins the second by its code: "Welcome to <name>!"
        [code] = self._read(select(Cohort.join_code).where(Cohort.id == self.cohort_ids[1]))
        response = self.author.post("/cohorts/join", {"code": code})
        assert response.status_code == 302, response.status_code
        welcome = response.headers["Location"]
        self.seen.append((f"{welcome} after joining by code", self.author.get(welcome)))
        self.pages_of(self.admin, "/admin/cohorts", f"/admin/cohorts/{self.cohort_id}/edit")
        self.pages_of(self.facilitator, "/facilitate/")

    def schedule_live_sessions(self) -> None:
        """A live session per text (title, notes), and the hostile join links."""
        path = f"/facilitate/cohorts/{self.cohort_id}/sessions/new"
        sessions = [(text, "https://meet.example.org/circle", text) for text in self.texts]
        sessions += [("A join link", link, "") for link in JOIN_LINKS]
        for title, join_url, notes in sessions:
            response = self.facilitator.post(
                path,
                {
                    "title": title,
                    "day": "2026-03-10",
                    "start": "18:30",
                    "time_zone": "Europe/Berlin",
                    "duration_minutes": "60",
                    "join_url": join_url,
                    "notes": notes,
                },
            )
            if response.status_code != 302:  # refused: the form comes back with the link
                self.seen.append((f"{path} with {join_url!r}", response.get_data(as_text=True)))
        [first] = self._read(select(func.min(LiveSession.id)))
        cohort = f"/facilitate/cohorts/{self.cohort_id}"
        self.pages_of(self.facilitator, cohort, f"{cohort}/sessions/{first}/edit")

    # --- answers, files, replies, feedback ---

    def answer_and_share(self) -> None:
        """The author answers every prompt with a text, submits, completes and shares."""
        author, lessons = self.author, f"/modules/{MODULE_SLUG}/lessons"
        author.post(f"/modules/{MODULE_SLUG}/enroll", {})
        answered = zip(self.long_texts, self.lesson_slugs, self.prompt_ids, strict=False)
        for text, slug, prompt_id in answered:
            author.get(f"{lessons}/{slug}")  # a prompt is answered once its lesson is open
            response = author.post(
                f"/prompts/{prompt_id}/answer",
                {
                    f"p{prompt_id}-body": text,
                    f"p{prompt_id}-revision": "0",
                    f"p{prompt_id}-submit": "y",
                },
            )
            assert response.status_code == 302, (text, response.status_code)
        for slug in self.lesson_slugs:  # all complete: the certificate shows the names
            if slug not in self.lesson_slugs[: len(self.prompt_ids)]:
                author.get(f"{lessons}/{slug}")
            author.post(f"{lessons}/{slug}/complete", {})
        mine = Reflection.user_id == self.user_ids[1]
        reflections = dict(self._read(select(Reflection.prompt_id, Reflection.id).where(mine)))
        self.reflection_ids = [reflections[p] for p in self.prompt_ids]
        for reflection_id in self.reflection_ids:
            assert author.post(f"/reflections/{reflection_id}/share", {}).status_code == 302
        # A save based on an old revision: the conflict page shows both texts.
        prompt_id = self.prompt_ids[0]
        response = author.post(
            f"/prompts/{prompt_id}/answer",
            {f"p{prompt_id}-body": self.long_texts[-1], f"p{prompt_id}-revision": "0"},
        )
        assert response.status_code == 409, response.status_code
        self.seen.append(("the conflict page", response.get_data(as_text=True)))
        self.pages_of(
            author,
            "/learning",
            "/modules",
            f"/modules/{MODULE_SLUG}",
            f"/modules/{MODULE_SLUG}/certificate",
            "/my-work",
            "/cohorts",
            f"/cohorts/{self.cohort_id}",
            # Each shows every lesson title in its outline; these show the prompts too.
            *(f"{lessons}/{slug}" for slug in self.lesson_slugs[: len(self.prompt_ids)]),
        )

    def upload_files(self) -> None:
        """The author attaches a file per payload to the first answer, named by the payload."""
        prompt_id = self.prompt_ids[0]
        self.file_names = [as_sent_by_a_browser(f"{p.text}.txt") for p in self.payloads]
        files = [(io.BytesIO(f"file {n}".encode()), name) for n, name in enumerate(self.file_names)]
        response = self.author.post(
            f"/prompts/{prompt_id}/answer/files",
            {f"u{prompt_id}-files": files},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.status_code
        # Removing one: "Removed “<name>”." on the next page.
        [public_id] = self._read(select(func.min(LearnerFile.public_id)))
        self.author.post(f"/files/{public_id}/delete", {})
        self.seen.append(("/my-work after removing a file", self.author.get("/my-work")))

    def reply_and_give_feedback(self) -> None:
        """The replier replies to every shared answer; the facilitator gives feedback on each."""
        gallery = f"/cohorts/{self.cohort_id}/gallery"
        for text, reflection_id in zip(self.long_texts, self.reflection_ids, strict=True):
            response = self.replier.post(f"{gallery}/{reflection_id}/replies", {"body": text})
            assert response.status_code == 302, (text, response.status_code)
            response = self.facilitator.post(
                f"/facilitate/reflections/{reflection_id}/feedback", {"body": text}
            )
            assert response.status_code == 302, (text, response.status_code)
        # Moderation: an answer and a reply hidden, then listed on the hidden pages.
        cohort = f"/facilitate/cohorts/{self.cohort_id}"
        self.facilitator.post(f"{cohort}/gallery/{self.reflection_ids[-1]}/hide", {})
        [reply_id] = self._read(select(func.min(PeerReply.id)))
        self.facilitator.post(f"{cohort}/replies/{reply_id}/hide", {})
        self.pages_of(self.replier, gallery)
        self.pages_of(self.author, gallery)
        self.pages_of(
            self.facilitator,
            gallery,
            "/facilitate/reflections",
            f"{cohort}/hidden/answers",
            f"{cohort}/hidden/replies",
            f"{cohort}/modules/{self.module_id}/progress",
            *(f"/facilitate/reflections/{r}" for r in self.reflection_ids),
        )
        self.pages_of(self.admin, "/admin/audit")

    # --- what a page says back ---

    def echo_back(self) -> None:
        """Hostile text typed into filters and forms that show it back (refused or not)."""
        cohort, text = f"/facilitate/cohorts/{self.cohort_id}", joined(self.payloads)
        self.pages_of(
            self.admin,
            "/admin/people?" + urlencode({"q": text}),
            "/admin/audit?" + urlencode({"action": text, "actor": text}),
        )
        self.pages_of(self.facilitator, "/facilitate/reflections?" + urlencode({"learner": text}))
        echoes = [
            (self.facilitator, f"{cohort}/members/add", {"emails": text}),
            (self.author, "/cohorts/join", {"code": text}),
            (Actor(self.app), "/login", {"email": text, "password": text}),
            (
                Actor(self.app),
                "/register",
                {"display_name": text, "email": text, "password": "x", "confirm": "y"},
            ),
        ]
        for actor, path, data in echoes:
            response = actor.post(path, data)
            self.seen.append((f"{path}, sent every payload", response.get_data(as_text=True)))
        # A second version of an answer: the earlier versions page lists both.
        prompt_id = self.prompt_ids[1]
        self.author.post(
            f"/prompts/{prompt_id}/answer",
            {
                f"p{prompt_id}-body": self.long_texts[0],
                f"p{prompt_id}-revision": "1",
                f"p{prompt_id}-submit": "y",
            },
        )
        self.pages_of(self.author, f"/prompts/{prompt_id}/answer/revisions")
        self.downloads = [
            (self.author, f"/modules/{MODULE_SLUG}/download"),
            (self.author, "/my-work/export"),
        ]

    # --- reading ---

    def pages_of(self, actor: Actor, *paths: str) -> None:
        """Pages to read as this person once the site is full."""
        self.pages.extend((actor, path) for path in paths)

    def _read(self, statement) -> list:
        """Rows from the database, the transaction ended at once (SQLite locks while it lasts)."""
        rows = [row[0] if len(row) == 1 else tuple(row) for row in self.db.execute(statement)]
        self.db.commit()
        return rows
