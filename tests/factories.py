"""Rows for tests, built directly with the ORM (no package importer involved).

    module = make_module(db, lessons=3, sequence="linear", prompts=2, attachments=1,
                         data_dir=app.config["LMS_DATA_DIR"])

Attachment and media files are real blobs written through ``lms.storage``, so
downloads and offline zips serve real bytes.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence as Seq
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
    Module,
    Prompt,
    Sequence,
    User,
)
from lms.storage import Storage, write_bytes_atomic
from tests import cohort_data

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
    published: bool = True,
    commit: bool = True,
) -> Module:
    """A module with lessons, each with prompts (count or specs) and attachments.

    ``prompts`` specs are dicts of Prompt fields (``required``, ``accepts_files``,
    ``text``), applied to every lesson. Attachments and media need ``data_dir``.
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
        data = png_bytes()
        sha256 = store_blob(data_dir, data)
        db.add(
            Media(
                module_id=module.id,
                path="media/map.png",
                content_type="image/png",
                size=len(data),
                sha256=sha256,
            )
        )
        media_html = f'<p><img src="{html.media_url(slug, "map.png", sha256)}" alt="A map"></p>'
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
            title=f"Lesson {position} of {module.title}",
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
    *,
    facilitators: Seq[User] = (),
    learners: Seq[User] = (),
    name: str = "Cohort",
    modules: Seq[Module] = (),
) -> Cohort:
    """A cohort with its modules and facilitator and learner memberships (committed)."""
    return cohort_data.make_cohort(
        db, name, modules=modules, facilitators=facilitators, learners=learners
    )
