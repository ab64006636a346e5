"""Zips a learner takes away: a module for offline use, and everything they wrote.

Both are written into a file the caller gives (a temporary file, in the views),
entry by entry, with every attachment, media file and learner file copied in
chunks: nothing is held whole in memory, whatever the size of the module.

The HTML pages inside are rendered by a ``render(template, **context)`` callable
the caller passes (Flask's ``render_template`` in the views), so this module needs
no request. Lesson bodies are the stored, sanitised ``Lesson.body_html``; only
their media addresses are rewritten to point into the zip, and their images' choice
of sizes taken out: the zip carries each image once, at its web size (``web_size``),
under the image's own name.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, selectinload

from lms import learner_files, progress, reflections, review
from lms.db import now_utc
from lms.html import MEDIA_URL_PREFIX, without_size_choice
from lms.models import (
    Attachment,
    Enrollment,
    Feedback,
    LearnerFile,
    Lesson,
    LessonProgress,
    Media,
    MediaVariant,
    Module,
    Prompt,
    Reflection,
    ReflectionRevision,
    User,
)
from lms.progress import Outline, OutlineEntry
from lms.storage import CHUNK_BYTES, Storage

Render = Callable[..., str]

# Media addresses as lms.html.media_url writes them: /media/<slug>/<path>?v=<hash>.
_MEDIA_URL = re.compile(
    r'(?P<attr>\b(?:src|href|poster))="'
    + re.escape(MEDIA_URL_PREFIX)
    + r'/(?P<slug>[^/"?#]+)/(?P<path>[^"?#]+)(?:\?[^"#]*)?"'
)
_ALREADY_COMPRESSED = ("image/", "audio/", "video/", "application/zip")
# The widest an image is in the offline zip: the page's column at 1.5x, or a phone's at 2x.
OFFLINE_IMAGE_WIDTH = 960


def _safe_parts(path: str) -> str:
    """A relative zip path from a package path: no empty, "." or ".." segments."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "file"


def media_zip_path(media_path: str) -> str:
    """Where a module's media file goes inside the zip (``media/...``)."""
    return "media/" + _safe_parts(media_path.removeprefix("media/"))


def localise_media(body_html: str, module_slug: str) -> str:
    """The lesson HTML with this module's media addresses pointing into the zip, where
    each image is at its web size under its own name (no choice of sizes left)."""

    def relative(match: re.Match[str]) -> str:
        if match["slug"] != module_slug:
            return match[0]
        return f'{match["attr"]}="media/{match["path"]}"'

    return _MEDIA_URL.sub(relative, without_size_choice(body_html))


def web_size(media: Media) -> Media | MediaVariant:
    """What the offline zip carries of a media file: the widest of the image and its copies
    that is at most OFFLINE_IMAGE_WIDTH pixels wide (the narrowest copy if none is), or
    the file itself."""
    sizes: list[Media | MediaVariant] = [*media.variants]
    if media.width is not None:
        sizes.append(media)
    fitting = [s for s in sizes if s.width is not None and s.width <= OFFLINE_IMAGE_WIDTH]
    if fitting:
        return max(fitting, key=lambda s: s.width or 0)
    return min(media.variants, key=lambda v: v.width) if media.variants else media


def _copy_into(
    archive: zipfile.ZipFile, name: str, source: BinaryIO, size: int, content_type: str = ""
) -> None:
    info = zipfile.ZipInfo(name, date_time=now_utc().timetuple()[:6])
    info.compress_type = (
        zipfile.ZIP_STORED if content_type.startswith(_ALREADY_COMPRESSED) else zipfile.ZIP_DEFLATED
    )
    with archive.open(info, "w", force_zip64=size > zipfile.ZIP64_LIMIT) as target:
        shutil.copyfileobj(source, target, CHUNK_BYTES)


def _write_text(archive: zipfile.ZipFile, name: str, text: str) -> None:
    archive.writestr(name, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{extension}"
    taken.add(candidate)
    return candidate


def attachment_zip_path(attachment: Attachment, taken: set[str]) -> str:
    """Where an attachment goes inside the zip (``attachments/<its file name>``)."""
    return _unique("attachments/" + learner_files.clean_filename(attachment.filename), taken)


def learner_file_zip_path(learner_file: LearnerFile, taken: set[str], folder: str) -> str:
    """Where a learner file goes inside a zip."""
    return _unique(f"{folder}/" + learner_files.clean_filename(learner_file.filename), taken)


# --- The module for offline use ---------------------------------------------


@dataclass
class OfflineLesson:
    """One lesson page of the offline zip, with what it links to."""

    entry: OutlineEntry
    lesson: Lesson
    filename: str
    body_html: str = ""
    attachments: list[tuple[Attachment, str]] = field(default_factory=list)
    prompt_reflections: list[reflections.PromptReflection] = field(default_factory=list)
    file_paths: dict[int, str] = field(default_factory=dict)


def lesson_filename(entry: OutlineEntry) -> str:
    """The file name of a lesson's page inside the offline zip."""
    return f"{entry.position:02d}-{_safe_parts(entry.slug).replace('/', '-')}.html"


def write_module_zip(
    session: Session,
    user: User,
    module: Module,
    outline: Outline,
    out: BinaryIO,
    *,
    storage: Storage,
    render: Render,
) -> None:
    """Write the module as a zip for offline use: the lessons the learner may open, as
    self-contained HTML pages, with the media, the attachments and the learner's own
    reflections and files so far. Locked lessons are left out (they open as the learner goes).
    """
    entries = [e for e in outline.entries if not e.locked]
    lesson_ids = [e.lesson_id for e in entries]
    lessons = {
        lesson.id: lesson
        for lesson in session.scalars(
            select(Lesson)
            .where(Lesson.id.in_(lesson_ids))
            .options(selectinload(Lesson.attachments), selectinload(Lesson.prompts))
        )
    }
    module_attachments = progress.module_attachments(session, module)
    media = list(
        session.scalars(
            select(Media).where(Media.module_id == module.id).options(selectinload(Media.variants))
        )
    )
    prompt_reflections = _reflections_by_lesson(session, user, lesson_ids)
    pages, shared = _offline_pages(module, entries, lessons, prompt_reflections, module_attachments)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _write_module_pages(archive, render, module, outline, pages, shared)
        _copy_module_files(archive, storage, media, pages, shared)


def _offline_pages(
    module: Module,
    entries: list[OutlineEntry],
    lessons: dict[int, Lesson],
    prompt_reflections: dict[int, list[reflections.PromptReflection]],
    module_attachments: Iterable[Attachment],
) -> tuple[list[OfflineLesson], list[tuple[Attachment, str]]]:
    """The lesson pages and the module's shared attachments, each file named in the zip."""
    taken: set[str] = set()
    pages: list[OfflineLesson] = []
    for entry in entries:
        lesson = lessons[entry.lesson_id]
        page = OfflineLesson(entry, lesson, lesson_filename(entry))
        page.body_html = localise_media(lesson.body_html, module.slug)
        page.attachments = [
            (a, attachment_zip_path(a, taken)) for a in lesson.attachments if a.archived_at is None
        ]
        page.prompt_reflections = prompt_reflections.get(lesson.id, [])
        for prompt_reflection in page.prompt_reflections:
            for learner_file in prompt_reflection.files:
                page.file_paths[learner_file.id] = learner_file_zip_path(
                    learner_file, taken, "my-files"
                )
        pages.append(page)
    shared = [(a, attachment_zip_path(a, taken)) for a in module_attachments]
    return pages, shared


def _write_module_pages(
    archive: zipfile.ZipFile,
    render: Render,
    module: Module,
    outline: Outline,
    pages: list[OfflineLesson],
    shared: list[tuple[Attachment, str]],
) -> None:
    """Each lesson's page, linked to the one before and after, and the index."""
    for i, page in enumerate(pages):
        before = pages[i - 1] if i > 0 else None
        after = pages[i + 1] if i + 1 < len(pages) else None
        _write_text(
            archive,
            page.filename,
            render(
                "learner/offline/lesson.html",
                module=module,
                page=page,
                before=before,
                after=after,
            ),
        )
    _write_text(
        archive,
        "index.html",
        render(
            "learner/offline/index.html",
            module=module,
            pages=pages,
            outline=outline,
            left_out=len(outline.entries) - len(pages),
            shared=shared,
            exported_at=now_utc(),
        ),
    )


def _copy_module_files(
    archive: zipfile.ZipFile,
    storage: Storage,
    media: list[Media],
    pages: list[OfflineLesson],
    shared: list[tuple[Attachment, str]],
) -> None:
    """The module's media, the attachments the pages link to and the learner's files."""
    for item in media:
        carried = web_size(item)
        with storage.open_blob(carried.sha256) as source:
            _copy_into(
                archive, media_zip_path(item.path), source, carried.size, carried.content_type
            )
    for attachment, name in [*(a for p in pages for a in p.attachments), *shared]:
        with storage.open_blob(attachment.sha256) as source:
            _copy_into(archive, name, source, attachment.size, attachment.content_type)
    for page in pages:
        for prompt_reflection in page.prompt_reflections:
            for learner_file in prompt_reflection.files:
                _copy_learner_file(archive, learner_file, page.file_paths[learner_file.id], storage)


def _reflections_by_lesson(
    session: Session, user: User, lesson_ids: list[int]
) -> dict[int, list[reflections.PromptReflection]]:
    """The prompts of these lessons with the learner's reflections and files (two queries)."""
    rows = session.execute(
        select(Prompt, Reflection)
        .outerjoin(
            Reflection, (Reflection.prompt_id == Prompt.id) & (Reflection.user_id == user.id)
        )
        .where(Prompt.lesson_id.in_(lesson_ids), Prompt.archived_at.is_(None))
        .order_by(Prompt.lesson_id, Prompt.position, Prompt.id)
    ).all()
    files = _files_by_reflection(session, user, [r.id for _, r in rows if r is not None])
    result: dict[int, list[reflections.PromptReflection]] = {}
    for prompt, reflection in rows:
        prompt_reflection = reflections.PromptReflection(
            prompt, reflection, files.get(reflection.id, []) if reflection else []
        )
        result.setdefault(prompt.lesson_id, []).append(prompt_reflection)
    return result


def _files_by_reflection(
    session: Session, user: User, reflection_ids: Iterable[int]
) -> dict[int, list[LearnerFile]]:
    ids = list(reflection_ids)
    files: dict[int, list[LearnerFile]] = {}
    if not ids:
        return files
    for learner_file in session.scalars(
        select(LearnerFile)
        .where(LearnerFile.user_id == user.id, LearnerFile.reflection_id.in_(ids))
        .order_by(LearnerFile.created_at, LearnerFile.id)
    ):
        files.setdefault(learner_file.reflection_id, []).append(learner_file)
    return files


def _copy_learner_file(
    archive: zipfile.ZipFile, learner_file: LearnerFile, name: str, storage: Storage
) -> None:
    path = storage.learner_file_path(learner_file)
    try:
        source = open(path, "rb")  # noqa: SIM115  (closed below)
    except FileNotFoundError:
        # Listed but gone from disk (restored without its files): say so instead of failing.
        _write_text(archive, name + ".missing.txt", f"{learner_file.filename} is missing.\n")
        return
    with source:
        _copy_into(archive, name, source, learner_file.size, learner_file.content_type)


# --- Everything a learner wrote ------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class _Work:
    """Everything of one learner's that the work zip holds, as loaded from the database."""

    items: list[reflections.WorkItem]
    history: dict[int, list[ReflectionRevision]]
    feedback: dict[int, list[Feedback]]
    files: list[LearnerFile]
    enrollments: Sequence[Row[tuple[Enrollment, Module]]]
    progress_rows: Sequence[Row[tuple[LessonProgress, Lesson, Module]]]


def write_work_zip(
    session: Session, user: User, out: BinaryIO, *, storage: Storage, render: Render
) -> None:
    """Write everything the learner wrote and uploaded as a zip: a readable ``index.html``,
    the same as data in ``work.json`` (every revision of every reflection), and their files.
    """
    work = _load_work(session, user)
    taken: set[str] = set()
    file_names = {f.id: learner_file_zip_path(f, taken, "files") for f in work.files}
    data = _work_data(user, work, file_names)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _write_text(
            archive,
            "index.html",
            render(
                "learner/offline/work.html",
                user=user,
                items=work.items,
                history=work.history,
                feedback=work.feedback,
                file_names=file_names,
                progress_rows=work.progress_rows,
                exported_at=now_utc(),
            ),
        )
        _write_text(archive, "work.json", json.dumps(data, ensure_ascii=False, indent=2))
        for learner_file in work.files:
            _copy_learner_file(archive, learner_file, file_names[learner_file.id], storage)


def _load_work(session: Session, user: User) -> _Work:
    """The learner's reflections with their revisions and feedback, files, enrollments, progress."""
    items = reflections.my_work(session, user)
    history: dict[int, list[ReflectionRevision]] = {}
    if items:
        for revision in session.scalars(
            select(ReflectionRevision)
            .join(Reflection, Reflection.id == ReflectionRevision.reflection_id)
            .where(Reflection.user_id == user.id)
            .order_by(ReflectionRevision.reflection_id, ReflectionRevision.number)
        ):
            history.setdefault(revision.reflection_id, []).append(revision)
    feedback = review.feedback_for_learner(session, user, [i.reflection.id for i in items])
    files = list(
        session.scalars(
            select(LearnerFile)
            .where(LearnerFile.user_id == user.id)
            .order_by(LearnerFile.created_at, LearnerFile.id)
        )
    )
    enrollments = session.execute(
        select(Enrollment, Module)
        .join(Module, Module.id == Enrollment.module_id)
        .where(Enrollment.user_id == user.id)
        .order_by(Module.title, Module.id)
    ).all()
    progress_rows = session.execute(
        select(LessonProgress, Lesson, Module)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .join(Module, Module.id == Lesson.module_id)
        .where(LessonProgress.user_id == user.id)
        .order_by(Module.title, Module.id, Lesson.position, Lesson.id)
    ).all()
    return _Work(items, history, feedback, files, enrollments, progress_rows)


def _work_data(user: User, work: _Work, file_names: dict[int, str]) -> dict[str, Any]:
    """What ``work.json`` holds."""
    return {
        "exported_at": _iso(now_utc()),
        "account": {
            "display_name": user.display_name,
            "email": user.email,
            "created_at": _iso(user.created_at),
            "time_zone": user.time_zone,
        },
        "enrollments": [
            {
                "module": module.slug,
                "title": module.title,
                "enrolled_at": _iso(enrollment.enrolled_at),
                "completed_at": _iso(enrollment.completed_at),
            }
            for enrollment, module in work.enrollments
        ],
        "progress": [
            {
                "module": module.slug,
                "lesson": lesson.slug,
                "title": lesson.title,
                "status": row.status.value,
                "first_opened_at": _iso(row.first_opened_at),
                "last_visited_at": _iso(row.last_visited_at),
                "completed_at": _iso(row.completed_at),
            }
            for row, lesson, module in work.progress_rows
        ],
        "reflections": [_reflection_data(item, work, file_names) for item in work.items],
        "files": [
            {
                "file": file_names[f.id],
                "name": f.filename,
                "type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "uploaded_at": _iso(f.created_at),
            }
            for f in work.files
        ],
    }


def _reflection_data(
    item: reflections.WorkItem, work: _Work, file_names: dict[int, str]
) -> dict[str, Any]:
    """One reflection in ``work.json``: its text, every revision, its files and its feedback."""
    return {
        "module": item.module.slug,
        "lesson": item.lesson.slug,
        "prompt": item.prompt.key,
        "prompt_text": item.prompt.text,
        "state": item.reflection.state.value,
        "submitted_at": _iso(item.reflection.submitted_at),
        "text": item.reflection.current_body,
        "revisions": [
            {
                "number": r.number,
                "text": r.body,
                "submitted": r.submitted,
                "prompt_text": r.prompt_text,
                "saved_at": _iso(r.created_at),
            }
            for r in work.history.get(item.reflection.id, [])
        ],
        "files": [file_names[f.id] for f in item.files],
        "feedback": [
            {
                "from": f.author.display_name if f.author else None,
                "text": f.body_markdown,
                "on_revision": f.revision_number,
                "given_at": _iso(f.created_at),
            }
            for f in work.feedback.get(item.reflection.id, [])
        ],
    }
