"""Read an opened package into a ``Package``, reporting every problem at once.

Nothing is written anywhere: the files are read (streamed) to check their types and
hash them, the text is parsed and checked, and the result is either a ``Package`` or
an ``InvalidPackageError`` listing each problem with its file, line and what to do.
Each part of a package is read by a module of ``lms.packages.reading``; this one
reads them in order and puts the package together.
"""

from __future__ import annotations

import hashlib

from lms.packages.problems import InvalidPackageError
from lms.packages.reading.attachments import attachment_entries
from lms.packages.reading.base import Reader
from lms.packages.reading.files import check_files, check_unimported
from lms.packages.reading.lessons import (
    ReadLesson,
    check_lesson_slugs,
    lesson_paths,
    order_lessons,
    read_lessons,
)
from lms.packages.reading.manifest import read_manifest
from lms.packages.reading.media import check_body
from lms.packages.source import MANIFEST, Limits, PackageSource
from lms.packages.spec import AttachmentSpec, LessonSpec, Package, PackageFile
from lms.packages.yaml_reader import Located, plain


def read_package(source: PackageSource, limits: Limits | None = None) -> Package:
    """Validate an opened package into a Package; raises InvalidPackageError with every problem."""
    reader = Reader(source, limits or Limits())
    manifest, manifest_data = read_manifest(reader)
    paths = lesson_paths(reader)
    lessons, front_matters = read_lessons(reader, paths)
    lessons = order_lessons(reader, manifest_data, lessons, paths)
    check_lesson_slugs(reader, lessons)

    claims: dict[str, str] = {}
    module_attachments = attachment_entries(reader, MANIFEST, manifest_data, claims)
    lesson_attachments = {
        path: attachment_entries(reader, path, data, claims) for path, data in front_matters.items()
    }
    media_paths = sorted(p for p in source.files if p.startswith("media/"))
    for lesson in lessons:
        check_body(reader, lesson, set(media_paths))

    stored = check_files(reader, [*claims, *media_paths])
    check_unimported(reader, claims)
    if reader.has_errors or manifest is None:
        raise InvalidPackageError(reader.problems)
    return _package(reader, manifest, lessons, module_attachments, lesson_attachments, stored)


def _package(
    reader: Reader,
    manifest: Located,
    lessons: list[ReadLesson],
    module_attachments: list[tuple[str, str]],
    lesson_attachments: dict[str, list[tuple[str, str]]],
    stored: dict[str, PackageFile],
) -> Package:
    """The Package of what was read, when nothing in it was wrong."""

    def attachments(entries: list[tuple[str, str]]) -> tuple[AttachmentSpec, ...]:
        return tuple(AttachmentSpec(path, title, stored[path]) for path, title in entries)

    specs = tuple(
        LessonSpec(
            path=lesson.path,
            slug=lesson.slug,
            title=lesson.title,
            minutes=lesson.minutes,
            body_markdown=lesson.body,
            prompts=tuple(lesson.prompts),
            attachments=attachments(lesson_attachments[lesson.path]),
        )
        for lesson in lessons
    )
    authors = manifest["authors"]
    return Package(
        slug=manifest["slug"],
        title=str(manifest["title"]).strip(),
        version=str(manifest["version"]).strip(),
        summary=str(manifest["summary"] or "").strip(),
        language=str(manifest["language"]).strip(),
        license=str(manifest["license"]).strip(),
        authors=tuple(str(a).strip() for a in ([authors] if isinstance(authors, str) else authors)),
        estimated_minutes=manifest["estimated_minutes"],
        sequence=manifest["sequence"],
        lessons=specs,
        attachments=attachments(module_attachments),
        media=tuple(stored[p] for p in sorted(stored) if p.startswith("media/")),
        sha256=_digest(reader.hashes),
        manifest=plain(manifest),
        warnings=tuple(p for p in reader.problems if p.warning),
    )


def _digest(hashes: dict[str, str]) -> str:
    """The package's hash: of every file read, by path, so equal packages hash equal."""
    digest = hashlib.sha256()
    for path in sorted(hashes):
        digest.update(f"{path}\0{hashes[path]}\n".encode())
    return digest.hexdigest()
