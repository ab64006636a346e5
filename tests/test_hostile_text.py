"""Hostile text everywhere: every payload of the corpus, through every form, comes back inert.

One site is filled through the real forms with every payload at once (tests/hostile_site.py),
then every page that shows the text is read as a browser would read it.
"""

from __future__ import annotations

import io
import re
import zipfile
from email import message_from_bytes, policy
from html import unescape

import icalendar
import pytest
from sqlalchemy import func, select

from lms.mail import outbox_dir
from lms.models import LearnerFile, LiveSession, Role
from lms.web.storage import storage
from tests.factories import make_cohort, make_enrollment, make_module, make_users
from tests.hostile_payloads import JOIN_LINKS, PAYLOADS, texts
from tests.hostile_reading import assert_inert
from tests.hostile_site import TEXT_LIMIT, as_sent_by_a_browser, build_hostile_world
from tests.world import World


@pytest.fixture
def world(app, db, tmp_path) -> World:
    return build_hostile_world(app, db, tmp_path, PAYLOADS)


def _offline_pages(zipped: bytes) -> list[tuple[str, str]]:
    """The HTML pages of an offline zip, without the style block the app puts in each head."""
    pages = []
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        for name in archive.namelist():
            # Entry names come from ids and slugs: nothing a learner named leaves the folder.
            assert ".." not in name, name
            assert not name.startswith("/"), name
            assert "\\" not in name, name
            assert not re.search(r"[\x00-\x1f]", name), name
            if name.endswith(".html"):
                html = archive.read(name).decode()
                head, style, rest = html.partition("</style>")
                assert "<style>" in head, name
                assert "</head>" in rest, name
                pages.append((name, head.split("<style>")[0] + rest))
    assert pages
    return pages


ICS_PROPERTIES = {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "URL"}
ICS_PROPERTIES |= {"LOCATION"}


def _payload(name: str) -> str:
    [text] = [p.text for p in PAYLOADS if p.name == name]
    return text


def test_every_page_shows_hostile_text_as_text(world):
    problems, readings = [], {}
    for actor, path in world.pages:
        for page_path, html in actor.read(path):
            try:
                readings[page_path] = assert_inert(html, page_path)
            except AssertionError as error:
                problems.append(str(error))
    for where, html in world.seen:
        try:
            assert_inert(html, where)
        except AssertionError as error:
            problems.append(str(error))
    assert not problems, "\n".join(problems)
    for actor, path in world.downloads:
        with actor.client.get(path) as response:
            zipped = response.get_data()
        for name, html in _offline_pages(zipped):
            try:
                assert_inert(html, f"{path}: {name}")
            except AssertionError as error:
                problems.append(str(error))
    assert not problems, "\n".join(problems)
    # Calendars: a line break in a title or a note never starts a property of its own.
    author, cohort_id = world.browsers["author"], world.ids["cohort_id"]
    with author.client.get(f"/cohorts/{cohort_id}/calendar.ics") as response:
        calendar = icalendar.Calendar.from_ical(response.get_data())
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    # iCalendar has one line break, \n.
    # The live sessions were given the texts of the short fields as titles and notes.
    titles = tuple(text.replace("\r\n", "\n") for text in texts(PAYLOADS, TEXT_LIMIT))
    links = tuple(link.replace("\r\n", "\n") for link in JOIN_LINKS)
    assert {str(e["SUMMARY"]) for e in events} <= {*titles, "A join link"}
    for event in events:  # the notes, then the join link
        description = str(event.get("DESCRIPTION", ""))
        assert description.startswith((*titles, *links)), description
        assert set(event) <= ICS_PROPERTIES, set(event) - ICS_PROPERTIES
    assert [c.name for c in calendar.subcomponents if c.name != "VEVENT"] == []
    # Every page read shows hostile text (a page that showed none would prove nothing).
    assert [page for page, reading in readings.items() if not reading.shows("__xss(")] == []
    # Shown as written: template syntax is not evaluated, encoded script is not decoded
    # into a tag (a Markdown answer shows it as the characters it encodes, as text).
    for page in ("/my-work", "/admin/people", "/admin/cohorts"):
        for name in ("template-jinja", "template-raw", "template-dollar"):
            assert _payload(name) in readings[page].text, (page, name)
    entity = _payload("entity-script")
    assert unescape(entity) in readings["/my-work"].text  # the answer, as Markdown
    assert entity in readings["/admin/people"].text  # a name, as plain text


def test_file_names_never_reach_paths_or_headers(app, db, auth, make_user):
    learner = make_user()
    auth.login(learner.email)
    module = make_module(db, lessons=1, prompts=[{"accepts_files": True}])
    make_enrollment(db, learner, module)
    [prompt_id] = [p.id for p in module.lessons[0].prompts]
    db.commit()
    auth.client.get(f"/modules/{module.slug}/lessons/lesson-1")
    # The test client cuts a name at a quote; a browser sends it percent-encoded.
    names = [as_sent_by_a_browser(f"{p.text}.txt") for p in PAYLOADS]
    files = [(io.BytesIO(f"file {n}".encode()), name) for n, name in enumerate(names)]
    response = auth.post(
        f"/prompts/{prompt_id}/answer/files",
        {f"u{prompt_id}-files": files},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    lesson = auth.client.get(f"/modules/{module.slug}/lessons/lesson-1").get_data(as_text=True)
    assert_inert(lesson, "the lesson page listing the files and the refusals")
    stored = list(db.scalars(select(LearnerFile).order_by(LearnerFile.id)))
    db.commit()
    refused = lesson.count('class="flash flash-error"')  # names that clean to nothing usable
    assert len(stored) + refused == len(names)
    assert len(stored) > len(names) * 0.9
    data_dir = app.config["LMS_DATA_DIR"]
    for learner_file in stored:
        path = storage(app).learner_file_path(learner_file)
        assert path.relative_to(data_dir).parts[-2:] == (str(learner.id), learner_file.public_id)
        with auth.client.get(f"/files/{learner_file.public_id}") as download:
            disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;"), disposition
        assert disposition.isascii(), disposition  # anything else goes in filename*
        assert not re.search(r"[\x00-\x1f\x7f]", disposition), disposition
        # One parameter per name: a quote in the name cannot end the filename early.
        plain = re.fullmatch(
            r'attachment; filename="((?:[^"\\]|\\.)*)"(; filename\*=\S+)?', disposition
        )
        assert plain, disposition


def test_a_name_with_line_breaks_stays_out_of_mail_headers(app, db, auth):
    admin, facilitator, learner = make_users(db, Role.ADMIN, Role.FACILITATOR, Role.LEARNER)
    auth.login(admin.email)
    response = auth.post(
        "/admin/cohorts/new",
        {"name": "Spring\r\nBcc: everyone@example.org", "facilitators": [facilitator.id]},
    )
    cohort_id = response.headers["Location"].rsplit("/", 1)[1]
    response = auth.post(f"/facilitate/cohorts/{cohort_id}/members/add", {"emails": learner.email})
    assert response.status_code == 302
    [mail] = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in outbox_dir(app.config).glob("*.eml")
    ]
    assert mail["Subject"] == "You are invited to the cohort Spring Bcc: everyone@example.org"
    assert mail["Bcc"] is None


@pytest.mark.parametrize(
    "link",
    [
        "https://meet.example.org/x\r\nATTACH:https://evil.example/x",
        "https://meet.example.org/x\nBEGIN:VALARM",
        "https://meet.example.org/a b",
        "https://meet.example.org/\tx",
    ],
)
def test_a_join_link_with_a_line_break_or_space_is_refused(app, db, auth, link):
    facilitator, learner = make_users(db, Role.FACILITATOR, Role.LEARNER)
    cohort = make_cohort(db, facilitators=[facilitator], learners=[learner])
    auth.login(facilitator.email)
    response = auth.post(
        f"/facilitate/cohorts/{cohort.id}/sessions/new",
        {
            "title": "Opening circle",
            "day": "2026-03-10",
            "start": "18:30",
            "time_zone": "Europe/Berlin",
            "duration_minutes": "60",
            "join_url": link,
        },
    )
    assert response.status_code == 200
    assert "A link has no spaces or line breaks." in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(LiveSession)) == 0
