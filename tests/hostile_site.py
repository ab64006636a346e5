"""A site filled through its own forms with every payload at once, as a ``World``.

People register with hostile names, the admin imports a hostile package and opens hostile
cohorts, the facilitator schedules hostile live sessions, a learner answers and uploads
files with hostile names, another replies: then ``World.pages`` lists what each reads.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

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
from tests.conftest import PASSWORD
from tests.factories import make_users
from tests.hostile_package import MODULE_SLUG, write_package, zipped
from tests.hostile_payloads import JOIN_LINKS, Payload, bundles, joined, texts
from tests.world import Browser, World

NAME_LIMIT = 120  # a display name
TEXT_LIMIT = 200  # titles and cohort names
LONG_TEXT_LIMIT = 1000  # prompts, answers, replies, feedback (each takes at least this)


def as_sent_by_a_browser(file_name: str) -> str:
    """A file name as chromium writes it in a multipart form (quotes and line breaks encoded)."""
    return file_name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _quick_hash(password: str) -> str:
    # A few dozen accounts are registered: scrypt's cost is not what these tests are about.
    return generate_password_hash(password, method="pbkdf2:sha256:1")


class HostileSite:
    """Fills a site so that every text a user or a package can supply carries the corpus.

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
        self.texts = texts(payloads, TEXT_LIMIT)
        self.long_texts = texts(payloads, LONG_TEXT_LIMIT)
        self.pages: list[tuple[Browser, str]] = []
        self.seen: list[tuple[str, str]] = []
        [admin] = make_users(db, Role.ADMIN)
        self.admin_id, self.admin_email = admin.id, admin.email
        self.admin = Browser(app, admin.email)

    def build(self) -> World:
        """Every step, in the order a site fills up; then who is who and what to read."""
        self.register_people()
        self.import_package()
        self.open_cohorts()
        self.schedule_live_sessions()
        self.reflect_and_share()
        self.upload_files()
        self.reply_and_give_feedback()
        self.echo_back()
        # The first three who registered: the facilitator, the author and the replier.
        people = ("admin", "facilitator", "author", "replier")
        return World(
            users=dict(zip(people, [self.admin_id, *self.user_ids[:3]], strict=True)),
            ids={
                "slug": MODULE_SLUG,
                "module_id": self.module_id,
                "lesson_slug": self.lesson_slugs[0],
                "cohort_id": self.cohort_id,
                "reflection_id": self.reflection_ids[0],
            },
            emails=dict(zip(people, [self.admin_email, *self.emails[:3]], strict=True)),
            browsers={
                "admin": self.admin,
                "facilitator": self.facilitator,
                "author": self.author,
                "replier": self.replier,
            },
            pages=self.pages,
            seen=self.seen,
            downloads=self.downloads,
        )

    # --- people ---

    def register_people(self) -> None:
        """People register with hostile names; the first three become F, A and B."""
        self.emails = []
        # Dozens of people register from this one test address: not an attack here.
        self.app.config["LMS_REGISTRATIONS_PER_ADDRESS"] = 10**6
        with patch.object(credentials, "hash_password", _quick_hash):
            for n, group in enumerate(bundles(self.payloads, NAME_LIMIT), start=1):
                email = f"person{n}@example.org"
                newcomer = Browser(self.app)
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
        self.facilitator = Browser(self.app, self.emails[0])
        self.author = Browser(self.app, self.emails[1])
        self.replier = Browser(self.app, self.emails[2])
        self.pages_of(self.admin, "/admin/people", *(f"/admin/people/{i}" for i in self.user_ids))

    # --- a module package ---

    def import_package(self) -> None:
        """The admin uploads a package that is refused, then one that imports, and imports it."""
        groups = bundles(self.payloads, TEXT_LIMIT)
        for bodies in ("all", "accepted"):
            folder = write_package(
                self.tmp_path / f"package-{bodies}", groups, self.long_texts, bodies
            )
            data = zipped(folder, self.tmp_path / f"package-{bodies}.zip")
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
            invited = actors.get(email) or Browser(self.app, email)
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

    def reflect_and_share(self) -> None:
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
            (Browser(self.app), "/login", {"email": text, "password": text}),
            (
                Browser(self.app),
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

    def pages_of(self, actor: Browser, *paths: str) -> None:
        """Pages to read as this person once the site is full."""
        self.pages.extend((actor, path) for path in paths)

    def _read(self, statement) -> list:
        """Rows from the database, the transaction ended at once (SQLite locks while it lasts)."""
        rows = [row[0] if len(row) == 1 else tuple(row) for row in self.db.execute(statement)]
        self.db.commit()
        return rows


def build_hostile_world(app: Flask, db: Session, tmp_path: Path, payloads: list[Payload]) -> World:
    """A site filled through its forms with the payloads (see HostileSite)."""
    return HostileSite(app, db, tmp_path, payloads).build()
