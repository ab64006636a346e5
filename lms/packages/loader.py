"""Read an opened package into a ``Package``, reporting every problem at once.

Nothing is written anywhere: the files are read (streamed) to check their types and
hash them, the text is parsed and checked, and the result is either a ``Package`` or
an ``InvalidPackageError`` listing each problem with its file, line and what to do.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable
from typing import Any
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
from lms.packages.reading.base import MAX_SLUG, UNREADABLE, Reader
from lms.packages.reading.keys import (
    ATTACHMENT_EXAMPLES,
    LESSON_EXAMPLES,
    MANIFEST_EXAMPLES,
    PROMPT_EXAMPLES,
)
from lms.packages.reading.manifest import read_manifest
from lms.packages.source import MANIFEST, Limits, PackageSource
from lms.packages.spec import AttachmentSpec, LessonSpec, Package, PackageFile, PromptSpec
from lms.packages.yaml_reader import Located, LocatedList, parse, plain
from lms.storage import hash_stream

PROMPT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_PROMPT_TEXT = 5000

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
        # Every lesson whose front matter could be read, valid or not: its attachments
        # are checked too.
        self.front_matters: dict[str, Located] = {}

    # --- the package ---

    def read(self) -> Package:
        files = self.source.files
        manifest, self.manifest_data = read_manifest(self)
        lesson_paths = self.lesson_paths()
        lessons = [lesson for path in lesson_paths if (lesson := self.lesson(path)) is not None]
        lessons = self.order(self.manifest_data, lessons, lesson_paths)
        self.check_lesson_slugs(lessons)

        claims: dict[str, str] = {}
        module_attachments = self.attachment_entries(MANIFEST, self.manifest_data, claims)
        lesson_attachments = {
            path: self.attachment_entries(path, data, claims)
            for path, data in self.front_matters.items()
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
        lessons: list[dict[str, Any]],
        module_attachments: list[tuple[str, str]],
        lesson_attachments: dict[str, list[tuple[str, str]]],
        stored: dict[str, PackageFile],
    ) -> Package:
        def attachments(entries: list[tuple[str, str]]) -> tuple[AttachmentSpec, ...]:
            return tuple(AttachmentSpec(path, title, stored[path]) for path, title in entries)

        specs = tuple(
            LessonSpec(
                path=lesson["path"],
                slug=lesson["slug"],
                title=lesson["title"],
                minutes=lesson["minutes"],
                body_markdown=lesson["body"],
                prompts=tuple(lesson["prompts"]),
                attachments=attachments(lesson_attachments[lesson["path"]]),
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

    # --- lessons ---

    def lesson_paths(self) -> list[str]:
        paths = []
        for path in sorted(p for p in self.source.files if p.startswith("lessons/")):
            name = path[len("lessons/") :]
            if "/" in name:
                self.error(
                    path,
                    None,
                    N_("lessons are files directly inside lessons/, not in a folder of it."),
                )
            elif not name.lower().endswith(".md"):
                self.error(
                    path,
                    None,
                    N_(
                        "only lessons written in Markdown (.md files) belong in lessons/; put "
                        "files learners download in attachments/ and images in media/."
                    ),
                )
            else:
                paths.append(path)
        if not paths:
            self.error(
                "",
                None,
                N_("the package has no lessons: add Markdown files such as lessons/01-welcome.md."),
            )
        return paths

    def lesson(self, path: str) -> dict[str, Any] | None:
        text = self.read_text(path, self.limits.max_lesson_bytes)
        if text is None:
            return None
        lines = text.split("\n")
        if lines[0].strip() != "---":
            self.error(
                path,
                1,
                N_(
                    "a lesson starts with its front matter: a line with ---, the slug, title, "
                    "minutes and prompts, and another line with ---."
                ),
            )
            return None
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
        if end is None:
            self.error(
                path,
                1,
                N_(
                    "the front matter that starts on line 1 is never closed; add a line with "
                    "--- after it."
                ),
            )
            return None
        data, problem = parse("\n".join(lines[1:end]), path, first_line=2)
        if problem is not None:
            self.problems.append(problem)
            return None
        if data is None:
            data = Located()
        if not isinstance(data, Located):
            self.error(
                path,
                2,
                N_(
                    'the front matter holds keys and values, one per line, such as "title: '
                    'Arriving".'
                ),
            )
            return None
        self.front_matters[path] = data
        self.unknown_keys(path, data, LESSON_EXAMPLES)
        slug = self.slug(path, data, "slug", LESSON_EXAMPLES["slug"])
        title = self.text(path, data, "title", LESSON_EXAMPLES["title"])
        minutes = self.whole_number(path, data, "minutes", LESSON_EXAMPLES["minutes"])
        prompts = self.prompts(path, data)
        body = "\n".join(lines[end + 1 :])
        if not body.strip():
            self.warn(path, end + 2, N_("this lesson has no text after its front matter."))
        if slug is None or title is None or minutes is None or prompts is None:
            return None
        return {
            "path": path,
            "slug": slug,
            "title": title,
            "minutes": minutes,
            "prompts": prompts,
            "body": body,
            "body_line": end + 2,
            "data": data,
        }

    def prompts(self, path: str, data: Located) -> list[PromptSpec] | None:
        items = data.get("prompts")
        if items is None:
            return []
        if not isinstance(items, LocatedList):
            self.error(
                path,
                data.line_of("prompts"),
                N_('"prompts" is a list, each item starting with "- id:", such as: %(example)s'),
                example=LESSON_EXAMPLES["prompts"],
            )
            return None
        prompts: list[PromptSpec] = []
        seen: set[str] = set()
        valid = True
        for index, item in enumerate(items):
            line = items.line_of(index)
            if not isinstance(item, Located):
                self.error(
                    path,
                    line,
                    N_("each prompt has an id and a text, such as: %(example)s"),
                    example='- {id: first-thoughts, text: "What did you notice?"}',
                )
                valid = False
                continue
            self.unknown_keys(path, item, ("id", "text", "required", "accepts_files"))
            key = self.text(path, item, "id", PROMPT_EXAMPLES["id"], max_length=MAX_SLUG)
            text = self.text(
                path, item, "text", PROMPT_EXAMPLES["text"], max_length=MAX_PROMPT_TEXT
            )
            required = self.boolean(path, item, "required", True)
            accepts_files = self.boolean(path, item, "accepts_files", False)
            if key is not None and not PROMPT_ID.match(key):
                self.error(
                    path,
                    item.line_of("id"),
                    N_(
                        'prompt id "%(id)s" may hold only lower-case letters a-z, digits, '
                        "hyphens and underscores."
                    ),
                    id=key,
                )
                key = None
            elif key is not None and key in seen:
                self.error(
                    path,
                    item.line_of("id"),
                    N_(
                        'prompt id "%(id)s" is used twice in this lesson; give each prompt its '
                        "own id."
                    ),
                    id=key,
                )
                key = None
            if key is None or text is None:
                valid = False
                continue
            seen.add(key)
            prompts.append(PromptSpec(key, text, required, accepts_files))
        return prompts if valid else None

    def order(
        self, manifest: Located, lessons: list[dict[str, Any]], paths: list[str]
    ) -> list[dict[str, Any]]:
        if "lessons" not in manifest:
            return lessons
        listed = manifest["lessons"]
        if not isinstance(listed, LocatedList):
            self.error(
                MANIFEST,
                manifest.line_of("lessons"),
                N_('"lessons" is a list of the lesson files in order, such as: %(example)s'),
                example=MANIFEST_EXAMPLES["lessons"],
            )
            return lessons
        by_path = {lesson["path"]: lesson for lesson in lessons}
        by_slug = {lesson["slug"]: lesson for lesson in lessons}
        ordered: list[dict[str, Any]] = []
        placed: set[str] = set()
        for index, entry in enumerate(listed):
            line = listed.line_of(index)
            name = str(entry).strip()
            candidates = [name, f"lessons/{name}", f"{name}.md", f"lessons/{name}.md"]
            path = next((c for c in candidates if c in paths), None)
            if path is None and name in by_slug:
                path = by_slug[name]["path"]
            if path is None:
                self.error(
                    MANIFEST,
                    line,
                    N_(
                        'the lessons list names "%(entry)s", but there is no such file in lessons/.'
                    ),
                    entry=name,
                )
            elif path in placed:
                self.error(
                    MANIFEST, line, N_('"%(entry)s" is in the lessons list twice.'), entry=name
                )
            else:
                placed.add(path)
                if path in by_path:
                    ordered.append(by_path[path])
        for path in paths:
            if path not in placed:
                self.error(
                    path,
                    None,
                    N_(
                        'this lesson is not in the "lessons" list of module.yaml; add it to the '
                        "list, or remove the file."
                    ),
                )
        return ordered

    def check_lesson_slugs(self, lessons: list[dict[str, Any]]) -> None:
        owners: dict[str, str] = {}
        for lesson in lessons:
            other = owners.setdefault(lesson["slug"], lesson["path"])
            if other != lesson["path"]:
                self.error(
                    lesson["path"],
                    lesson["data"].line_of("slug"),
                    N_(
                        'lesson slug "%(slug)s" is also used by %(other)s; each lesson needs '
                        "its own slug."
                    ),
                    slug=lesson["slug"],
                    other=other,
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

    def check_body(self, lesson: dict[str, Any], media: set[str]) -> None:
        path, offset = lesson["path"], lesson["body_line"] - 1
        scan = html.inspect_lesson(lesson["body"])
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
