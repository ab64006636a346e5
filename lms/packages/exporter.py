"""Export an installed module as a package that imports again to the same module.

The zip holds module.yaml, one Markdown file per current lesson (its front matter
rebuilt from the rows, its text exactly as imported), the current attachments and
the media of the installed version, streamed from their blobs. Entries carry a fixed
date, so exporting the same module twice gives the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.models import Lesson, Media, Module, ModuleVersion
from lms.packages.reading.manifest import FORMAT
from lms.packages.source import MANIFEST
from lms.storage import CHUNK_BYTES, Storage

FIXED_DATE = (2000, 1, 1, 0, 0, 0)
_TEXT_SUFFIXES = (".md", ".yaml", ".txt", ".csv")


class UnknownModuleError(LookupError):
    """No module has this slug."""


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    # Text compresses; PDFs, images and recordings are compressed already.
    text = name.endswith(_TEXT_SUFFIXES)
    info.compress_type = zipfile.ZIP_DEFLATED if text else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def package_files(session: Session, module: Module) -> dict[str, Any]:
    """What the package of an installed module holds: manifest, lessons, files."""
    lessons = [lesson for lesson in module.lessons if lesson.archived_at is None]
    attachments = sorted(
        (a for a in module.attachments if a.archived_at is None), key=lambda a: a.position
    )
    record = session.scalar(
        select(ModuleVersion).where(
            ModuleVersion.module_id == module.id, ModuleVersion.version == module.version
        )
    )
    media = list(session.scalars(select(Media).where(Media.module_id == module.id)))
    if record is not None and "media" in record.manifest:
        current = set(record.manifest["media"])
        media = [m for m in media if m.path in current]

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "slug": module.slug,
        "title": module.title,
        "version": module.version,
        "summary": module.summary,
        "language": module.language,
        "license": module.license,
        "authors": list(module.authors),
        "estimated_minutes": module.estimated_minutes,
        "sequence": module.sequence.value,
    }
    module_wide = [a for a in attachments if a.lesson_id is None]
    if module_wide:
        manifest["attachments"] = [{"path": a.path, "title": a.title} for a in module_wide]

    width = max(2, len(str(len(lessons))))
    texts = {MANIFEST: _dump(manifest)}
    for number, lesson in enumerate(lessons, start=1):
        front: dict[str, Any] = {"slug": lesson.slug, "title": lesson.title}
        front["minutes"] = lesson.minutes
        own = [a for a in attachments if a.lesson_id == lesson.id]
        if own:
            front["attachments"] = [{"path": a.path, "title": a.title} for a in own]
        prompts = [p for p in lesson.prompts if p.archived_at is None]
        if prompts:
            front["prompts"] = [
                {
                    "id": p.key,
                    "text": p.text,
                    "required": p.required,
                    "accepts_files": p.accepts_files,
                }
                for p in prompts
            ]
        name = f"lessons/{number:0{width}d}-{lesson.slug}.md"
        texts[name] = f"---\n{_dump(front)}---\n{lesson.body_markdown}"
    blobs = {a.path: a.sha256 for a in attachments} | {m.path: m.sha256 for m in media}
    return {"texts": texts, "blobs": dict(sorted(blobs.items()))}


def export_module(session: Session, storage: Storage, slug: str, out: Path) -> Path:
    """Write the module's package to ``out`` (a .zip), atomically; returns the path."""
    module = session.scalar(
        select(Module)
        .where(Module.slug == slug)
        .options(
            selectinload(Module.lessons).selectinload(Lesson.prompts),
            selectinload(Module.attachments),
        )
    )
    if module is None:
        raise UnknownModuleError(slug)
    contents = package_files(session, module)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=".export-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w") as archive:
                for name, text in contents["texts"].items():
                    archive.writestr(_entry(name), text.encode("utf-8"))
                for name, sha256 in contents["blobs"].items():
                    with (
                        storage.open_blob(sha256) as blob,
                        archive.open(_entry(name), "w") as target,
                    ):
                        shutil.copyfileobj(blob, target, CHUNK_BYTES)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return out
