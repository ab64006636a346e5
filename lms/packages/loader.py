"""Read an opened package into a ``Package``, reporting every problem at once.

Nothing is written anywhere: the files are read (streamed) to check their types and
hash them, the text is parsed and checked, and the result is either a ``Package`` or
an ``InvalidPackageError`` listing each problem with its file, line and what to do.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from lms import html
from lms.filetypes import (
    ATTACHMENT_TYPES,
    MEDIA_TYPES,
    UnsupportedFileError,
    check_not_program,
    detect,
)
from lms.packages.problems import N_, InvalidPackageError, Problem
from lms.packages.reading.base import UNREADABLE, Reader
from lms.packages.reading.keys import (
    ATTACHMENT_EXAMPLES,
    LESSON_EXAMPLES,
    MANIFEST_EXAMPLES,
)
from lms.packages.reading.lessons import (
    ReadLesson,
    check_lesson_slugs,
    lesson_paths,
    order_lessons,
    read_lessons,
)
from lms.packages.reading.manifest import read_manifest
from lms.packages.source import MANIFEST, Limits, PackageSource
from lms.packages.spec import AttachmentSpec, LessonSpec, Package, PackageFile
from lms.packages.yaml_reader import Located, LocatedList, plain
from lms.storage import hash_stream

_FINDING_MESSAGES = {
    "tag": N_(
        "<%(tag)s> is not allowed in a lesson; remove it (lessons cannot hold scripts, "
        "styles, forms or embedded pages)."
    ),
    "event_handler": N_('the "%(value)s" attribute on <%(tag)s> would run a script; remove it.'),
    "attribute": N_('the "%(value)s" attribute on <%(tag)s> is removed when the lesson is shown.'),
    "scheme": N_(
        'the address "%(value)s" is not allowed: links start with https://, http:// or mailto:.'
    ),
    "embed_host": N_(
        "videos can be embedded only from youtube-nocookie.com or player.vimeo.com (over "
        'https), not "%(value)s".'
    ),
    "external_media": N_(
        '"%(value)s" is on another site; images and sound are shown only from the '
        "package's media/ folder."
    ),
    "incomplete_url": N_('write web addresses in full, starting with https:// (not "%(value)s").'),
    "site_path": N_(
        '"%(value)s" points into this site; link to web addresses in full, or to files in media/.'
    ),
}


def resolve_reference(lesson_path: str, url: str) -> str | None:
    """The package path a relative URL in a lesson points to (``media/map.png``), if any.

    ``../media/map.png`` (relative to the lesson, as editors preview it) and
    ``media/map.png`` (relative to the package) both work.
    """
    target = unquote(urlsplit(url).path)
    if not target:
        return None
    for base in (posixpath.dirname(lesson_path), ""):
        candidate = posixpath.normpath(posixpath.join(base, target))
        if candidate.startswith(("media/", "attachments/")):
            return candidate
    return None


class _Reader(Reader):
    def __init__(self, source: PackageSource, limits: Limits) -> None:
        super().__init__(source, limits)
        # module.yaml as read, even when some of its values are wrong: its lists of
        # lessons and attachments are still checked, so every problem shows at once.
        self.manifest_data = Located()

    # --- the package ---

    def read(self) -> Package:
        files = self.source.files
        manifest, self.manifest_data = read_manifest(self)
        paths = lesson_paths(self)
        lessons, front_matters = read_lessons(self, paths)
        lessons = order_lessons(self, self.manifest_data, lessons, paths)
        check_lesson_slugs(self, lessons)

        claims: dict[str, str] = {}
        module_attachments = self.attachment_entries(MANIFEST, self.manifest_data, claims)
        lesson_attachments = {
            path: self.attachment_entries(path, data, claims)
            for path, data in front_matters.items()
        }
        media_paths = sorted(p for p in files if p.startswith("media/"))
        for lesson in lessons:
            self.check_body(lesson, set(media_paths))

        stored = self.check_files([*claims, *media_paths])
        for path in sorted(files):
            if path == MANIFEST or path.startswith(("lessons/", "media/")) or path in claims:
                continue
            if path.startswith("attachments/"):
                self.warn(
                    path,
                    None,
                    N_(
                        "this file is not listed in module.yaml or in any lesson; it is not "
                        "imported."
                    ),
                )
            else:
                self.warn(path, None, N_("this file is not part of a package; it is ignored."))
            self.check_not_program(path)

        errors = [p for p in self.problems if not p.warning]
        if errors or manifest is None:
            raise InvalidPackageError(self.problems)
        return self.package(manifest, lessons, module_attachments, lesson_attachments, stored)

    def package(
        self,
        manifest: Located,
        lessons: list[ReadLesson],
        module_attachments: list[tuple[str, str]],
        lesson_attachments: dict[str, list[tuple[str, str]]],
        stored: dict[str, PackageFile],
    ) -> Package:
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
        digest = hashlib.sha256()
        for path in sorted(self.hashes):
            digest.update(f"{path}\0{self.hashes[path]}\n".encode())
        authors = manifest["authors"]
        return Package(
            slug=manifest["slug"],
            title=str(manifest["title"]).strip(),
            version=str(manifest["version"]).strip(),
            summary=str(manifest["summary"] or "").strip(),
            language=str(manifest["language"]).strip(),
            license=str(manifest["license"]).strip(),
            authors=tuple(
                str(a).strip() for a in ([authors] if isinstance(authors, str) else authors)
            ),
            estimated_minutes=manifest["estimated_minutes"],
            sequence=manifest["sequence"],
            lessons=specs,
            attachments=attachments(module_attachments),
            media=tuple(stored[p] for p in sorted(stored) if p.startswith("media/")),
            sha256=digest.hexdigest(),
            manifest=plain(manifest),
            warnings=tuple(p for p in self.problems if p.warning),
        )

    # --- attachments, media and links ---

    def attachment_entries(
        self, path: str, data: Located, claims: dict[str, str]
    ) -> list[tuple[str, str]]:
        items = data.get("attachments")
        if items is None:
            return []
        examples = MANIFEST_EXAMPLES if path == MANIFEST else LESSON_EXAMPLES
        if not isinstance(items, LocatedList):
            self.error(
                path,
                data.line_of("attachments"),
                N_('"attachments" is a list of files in attachments/, such as: %(example)s'),
                example=examples["attachments"],
            )
            return []
        entries = []
        for index, item in enumerate(items):
            line = items.line_of(index)
            title: str | None = None
            if isinstance(item, str):
                target = item.strip()
            elif isinstance(item, Located):
                self.unknown_keys(path, item, ATTACHMENT_EXAMPLES)
                target = self.text(path, item, "path", ATTACHMENT_EXAMPLES["path"], max_length=255)
                title = self.text(path, item, "title", ATTACHMENT_EXAMPLES["title"], required=False)
                if target is None or title is None:
                    continue
            else:
                self.error(
                    path,
                    line,
                    N_(
                        "each attachment is a file path, or a path and a title, such as: "
                        "%(example)s"
                    ),
                    example="- {path: attachments/plan.pdf, title: Wellness plan}",
                )
                continue
            resolved = _attachment_path(target)
            if resolved is None:
                self.error(
                    path,
                    line,
                    N_(
                        'attachment "%(path)s" is not inside attachments/; write it as '
                        "attachments/%(name)s and put the file there."
                    ),
                    path=target,
                    name=target.rsplit("/", 1)[-1],
                )
                continue
            if resolved not in self.source.files:
                self.error(
                    path,
                    line,
                    N_(
                        'attachment "%(path)s" is not in the package; add the file to '
                        "attachments/ or correct the name (names are case-sensitive)."
                    ),
                    path=resolved,
                )
                continue
            owner = claims.setdefault(resolved, path)
            if owner != path:
                self.error(
                    path,
                    line,
                    N_(
                        '"%(path)s" is already attached by %(other)s; attach a file once (list '
                        "it in module.yaml to offer it with the whole module)."
                    ),
                    path=resolved,
                    other=owner,
                )
                continue
            if any(resolved == existing for existing, _ in entries):
                continue
            entries.append((resolved, title or resolved.rsplit("/", 1)[-1]))
        return entries

    def check_body(self, lesson: ReadLesson, media: set[str]) -> None:
        path, offset = lesson.path, lesson.body_line - 1
        scan = html.inspect_lesson(lesson.body)
        for finding in scan.findings:
            problem = Problem(
                path,
                finding.line + offset,
                _FINDING_MESSAGES[finding.kind],
                {"value": finding.value, "tag": finding.tag},
                warning=not finding.error,
            )
            self.problems.append(problem)
        for line, url, _embedded in scan.local_references:
            target = resolve_reference(path, url)
            if target is None:
                self.error(
                    path,
                    line + offset,
                    N_(
                        '"%(url)s" is not a web address nor a file in media/; link to '
                        "https:// addresses, to images and sound in media/, and list files to "
                        "download under attachments in the front matter."
                    ),
                    url=url,
                )
            elif target.startswith("attachments/"):
                self.error(
                    path,
                    line + offset,
                    N_(
                        '"%(url)s" links to an attachment; list it under "attachments" in the '
                        "front matter instead, and it is offered with the lesson."
                    ),
                    url=url,
                )
            elif target not in media:
                self.error(
                    path,
                    line + offset,
                    N_(
                        '"%(path)s" is not in the package; add it to media/ or correct the '
                        "link (names are case-sensitive)."
                    ),
                    path=target,
                )

    def check_files(self, paths: Iterable[str]) -> dict[str, PackageFile]:
        stored: dict[str, PackageFile] = {}
        for path in sorted(set(paths)):
            allowed = MEDIA_TYPES if path.startswith("media/") else ATTACHMENT_TYPES
            try:
                with self.source.open(path) as stream:
                    file_type = detect(stream, path, allowed)
                    sha256, size = hash_stream(stream)
            except UnsupportedFileError as error:
                self.problems.append(Problem.from_file_error(path, error))
                continue
            except UNREADABLE as error:
                self.damaged(path, error)
                continue
            self.hashes[path] = sha256
            stored[path] = PackageFile(path, size, sha256, file_type.content_type, file_type.name)
        return stored

    def check_not_program(self, path: str) -> None:
        try:
            with self.source.open(path) as stream:
                check_not_program(stream, path)
        except UnsupportedFileError as error:
            self.problems.append(Problem.from_file_error(path, error))
        except UNREADABLE as error:
            self.damaged(path, error)


def _attachment_path(target: str) -> str | None:
    target = target.removeprefix("./")
    if "/" not in target:
        target = f"attachments/{target}"
    normalised = posixpath.normpath(target)
    if not normalised.startswith("attachments/") or "\\" in target:
        return None
    return normalised


def read_package(source: PackageSource, limits: Limits | None = None) -> Package:
    """Validate an opened package into a Package; raises InvalidPackageError with every problem."""
    return _Reader(source, limits or Limits()).read()
