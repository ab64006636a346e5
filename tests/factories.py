"""Rows for tests, built directly with the ORM (no package importer involved).

    learner, facilitator = make_users(db, Role.LEARNER, Role.FACILITATOR)
    module = make_module(db, lessons=3, sequence="linear", prompts=2, attachments=1,
                         data_dir=app.config["LMS_DATA_DIR"])
    cohort = make_cohort(db, "Spring cohort", [module], [facilitator], [learner])
    reflection = make_reflection(db, learner, module.lessons[0].prompts[0], "My answer")

Attachment and media files are real blobs written through ``lms.storage``, so
downloads and offline zips serve real bytes. Every factory commits unless told not to.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence as Seq
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lms import html
from lms.models import (
    Attachment,
    Cohort,
    Enrollment,
    Lesson,
    Media,
    MediaVariant,
    Membership,
    MembershipRole,
    Module,
    Prompt,
    Reflection,
    ReflectionRevision,
    ReflectionState,
    Role,
    Sequence,
    User,
)
from lms.people.credentials import hash_password, normalise_email
from lms.storage import Storage, write_bytes_atomic

# Every account the factories make signs in with this, unless given another.
PASSWORD = "a long test passphrase"
# When make_reflection's answers are submitted (plus their ``minutes``).
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

_numbers = count(1)

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A tiny valid PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def store_blob(data_dir: str | Path, data: bytes) -> str:
    """Write bytes as a blob in the data dir; returns its SHA-256."""
    sha256 = hashlib.sha256(data).hexdigest()
    write_bytes_atomic(Storage(Path(data_dir)).blob_path(sha256), data)
    return sha256


@cache
def _password_hash(password: str) -> str:
    return hash_password(password)


def make_user(
    db: Session,
    role: Role = Role.LEARNER,
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    commit: bool = True,
) -> User:
    """An account that signs in with the password; its email is stored as sign-up would.

    The hash is made once per password and process: scrypt is slow by design, and what
    a test checks of a hash does not depend on its salt.
    """
    n = next(_numbers)
    user = User(
        email=normalise_email(email or f"{role.value}-{n}@example.org"),
        display_name=(name or f"{role.value.title()} {n}").strip(),
        password_hash=_password_hash(password),
        role=role,
    )
    db.add(user)
    db.flush()
    if commit:
        db.commit()
    return user


def make_users(db: Session, *roles: Role) -> list[User]:
    """One account per role, named by its place ("Learner 1", "Facilitator 2"), committed."""
    users = [
        make_user(db, role, name=f"{role.value.title()} {n}", commit=False)
        for n, role in enumerate(roles, start=1)
    ]
    db.commit()
    return users


def _prompt_specs(prompts: int | Seq[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(prompts, int):
        return [{} for _ in range(prompts)]
    return [dict(spec) for spec in prompts]


def make_module(
    db: Session,
    *,
    lessons: int = 3,
    sequence: Sequence | str = Sequence.LINEAR,
    prompts: int | Seq[dict[str, Any]] = 1,
    attachments: int = 0,
    module_attachments: int = 0,
    media: bool = False,
    data_dir: str | Path | None = None,
    slug: str | None = None,
    title: str | None = None,
    lesson_title: str = "Lesson {n} of {module}",
    published: bool = True,
    commit: bool = True,
) -> Module:
    """A module with lessons, each with prompts (count or specs) and attachments.

    ``prompts`` specs are dicts of Prompt fields (``required``, ``accepts_files``,
    ``text``), applied to every lesson. Attachments and media need ``data_dir``; the
    media is a 600 x 400 image with a copy 480 pixels wide, as an import makes them.
    ``lesson_title`` names each lesson: ``{n}`` is its position, ``{module}`` the title.
    """
    n = next(_numbers)
    slug = slug or f"module-{n}"
    module = Module(
        slug=slug,
        title=title or f"Module {n}",
        summary=f"What module {n} is about.",
        language="en",
        license="CC-BY-4.0",
        authors=["Amina Author", "Ben Writer"],
        estimated_minutes=20 * lessons,
        sequence=Sequence(sequence),
        version="1.0.0",
        lesson_count=lessons,
        published=published,
    )
    db.add(module)
    db.flush()
    media_html = ""
    if media:
        assert data_dir is not None, "media needs data_dir"
        data, copy = png_bytes(600, 400), png_bytes(480, 320)
        sha256, copy_sha256 = store_blob(data_dir, data), store_blob(data_dir, copy)
        variant = MediaVariant(
            width=480,
            height=320,
            content_type="image/png",
            size=len(copy),
            sha256=copy_sha256,
        )
        db.add(
            Media(
                module_id=module.id,
                path="media/map.png",
                content_type="image/png",
                size=len(data),
                sha256=sha256,
                width=600,
                height=400,
                variants=[variant],
            )
        )
        url = html.media_url(slug, "map.png", sha256)
        image = html.LessonImage(
            600, 400, ((html.media_url(slug, "map.png", copy_sha256, 480), 480), (url, 600))
        )
        media_html = html.render_lesson("![A map](map.png)", lambda _: url, {url: image})
    attachment_number = count(1)

    def add_attachment(lesson: Lesson | None) -> None:
        assert data_dir is not None, "attachments need data_dir"
        number = next(attachment_number)
        data = PDF_BYTES + f"% attachment {number}\n".encode()
        db.add(
            Attachment(
                module_id=module.id,
                lesson_id=lesson.id if lesson else None,
                path=f"attachments/worksheet-{number}.pdf",
                title=f"Worksheet {number}",
                filename=f"worksheet-{number}.pdf",
                content_type="application/pdf",
                size=len(data),
                sha256=store_blob(data_dir, data),
                position=number,
            )
        )

    for position in range(1, lessons + 1):
        lesson = Lesson(
            module_id=module.id,
            slug=f"lesson-{position}",
            position=position,
            title=lesson_title.format(n=position, module=module.title),
            minutes=15,
            body_markdown=f"Lesson {position} text.",
            body_html=f"<p>Lesson {position} text.</p>" + (media_html if position == 1 else ""),
        )
        db.add(lesson)
        db.flush()
        for i, spec in enumerate(_prompt_specs(prompts), start=1):
            db.add(
                Prompt(
                    lesson_id=lesson.id,
                    key=spec.get("key", f"q{i}"),
                    position=i,
                    text=spec.get("text", f"Question {i} of lesson {position}?"),
                    required=spec.get("required", True),
                    accepts_files=spec.get("accepts_files", False),
                )
            )
        for _ in range(attachments):
            add_attachment(lesson)
    for _ in range(module_attachments):
        add_attachment(None)
    db.flush()
    if commit:
        db.commit()
    return module


def make_enrollment(db: Session, user: User, module: Module) -> Enrollment:
    """Enroll the user in the module (committed)."""
    enrollment = Enrollment(user_id=user.id, module_id=module.id)
    db.add(enrollment)
    db.commit()
    return enrollment


def make_cohort(
    db: Session,
    name: str = "Spring cohort",
    modules: Seq[Module] = (),
    facilitators: Seq[User] = (),
    learners: Seq[User] = (),
) -> Cohort:
    """A cohort with its modules and facilitator and learner memberships (committed)."""
    cohort = Cohort(name=name)
    cohort.modules = list(modules)
    db.add(cohort)
    db.flush()
    for user in facilitators:
        db.add(Membership(cohort_id=cohort.id, user_id=user.id, role=MembershipRole.FACILITATOR))
    for user in learners:
        db.add(Membership(cohort_id=cohort.id, user_id=user.id, role=MembershipRole.LEARNER))
    db.commit()
    return cohort


def make_reflection(
    db: Session, user: User, prompt: Prompt, body: str, minutes: int = 0
) -> Reflection:
    """A submitted reflection with one revision, submitted ``minutes`` after T0 (committed)."""
    at = T0 + timedelta(minutes=minutes)
    reflection = Reflection(
        user_id=user.id,
        prompt_id=prompt.id,
        state=ReflectionState.SUBMITTED,
        revision_count=1,
        current_body=body,
        submitted_at=at,
        submitted_revision=1,
        submitted_body=body,
        updated_at=at,
    )
    db.add(reflection)
    db.flush()
    db.add(
        ReflectionRevision(
            reflection_id=reflection.id,
            number=1,
            body=body,
            submitted=True,
            prompt_text=prompt.text,
        )
    )
    db.commit()
    return reflection
