"""The lessons: Markdown files in lessons/, each with front matter, in module.yaml's order."""

from __future__ import annotations

from dataclasses import dataclass

from lms.packages.problems import N_
from lms.packages.reading import values
from lms.packages.reading.base import Reader
from lms.packages.reading.keys import LESSON_EXAMPLES, MANIFEST_EXAMPLES
from lms.packages.reading.prompts import read_prompts
from lms.packages.source import MANIFEST
from lms.packages.spec import PromptSpec
from lms.packages.yaml_reader import Located, parse


@dataclass
class ReadLesson:
    """A lesson whose front matter is valid; its attachments are read after all lessons."""

    path: str
    slug: str
    title: str
    minutes: int
    prompts: list[PromptSpec]
    body: str
    body_line: int  # the file's line the body starts on
    front_matter: Located


def lesson_paths(reader: Reader) -> list[str]:
    """The Markdown files directly inside lessons/, by name."""
    paths = []
    for path in sorted(p for p in reader.source.files if p.startswith("lessons/")):
        name = path[len("lessons/") :]
        if "/" in name:
            reader.error(
                path,
                None,
                N_("lessons are files directly inside lessons/, not in a folder of it."),
            )
        elif not name.lower().endswith(".md"):
            reader.error(
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
        reader.error(
            "",
            None,
            N_("the package has no lessons: add Markdown files such as lessons/01-welcome.md."),
        )
    return paths


def read_lessons(reader: Reader, paths: list[str]) -> tuple[list[ReadLesson], dict[str, Located]]:
    """The valid lessons, and the front matter of every lesson whose front matter reads.

    The attachments of a lesson that is not valid are checked too, from its front matter,
    so that every problem shows at once.
    """
    lessons: list[ReadLesson] = []
    front_matters: dict[str, Located] = {}
    for path in paths:
        text = reader.read_text(path, reader.limits.max_lesson_bytes)
        if text is None:
            continue
        lines = text.split("\n")
        end = _front_matter_end(reader, path, lines)
        if end is None:
            continue
        data = _front_matter(reader, path, lines[1:end])
        if data is None:
            continue
        front_matters[path] = data
        lesson = _lesson(reader, path, data, "\n".join(lines[end + 1 :]), end + 2)
        if lesson is not None:
            lessons.append(lesson)
    return lessons, front_matters


def _front_matter_end(reader: Reader, path: str, lines: list[str]) -> int | None:
    """The index of the line that closes the front matter the first line opens."""
    if lines[0].strip() != "---":
        reader.error(
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
        reader.error(
            path,
            1,
            N_(
                "the front matter that starts on line 1 is never closed; add a line with "
                "--- after it."
            ),
        )
    return end


def _front_matter(reader: Reader, path: str, lines: list[str]) -> Located | None:
    """The front matter's lines (from the file's line 2) parsed into keys and values."""
    data, problem = parse("\n".join(lines), path, first_line=2)
    if problem is not None:
        reader.problems.append(problem)
        return None
    if data is None:
        data = Located()
    if not isinstance(data, Located):
        reader.error(
            path,
            2,
            N_('the front matter holds keys and values, one per line, such as "title: Arriving".'),
        )
        return None
    return data


def _lesson(
    reader: Reader, path: str, data: Located, body: str, body_line: int
) -> ReadLesson | None:
    """The lesson its front matter describes, if every value in it is right."""
    values.unknown_keys(reader, path, data, LESSON_EXAMPLES)
    slug = values.slug(reader, path, data, "slug", LESSON_EXAMPLES["slug"])
    title = values.text(reader, path, data, "title", LESSON_EXAMPLES["title"])
    minutes = values.whole_number(reader, path, data, "minutes", LESSON_EXAMPLES["minutes"])
    prompts = read_prompts(reader, path, data)
    if not body.strip():
        reader.warn(path, body_line, N_("this lesson has no text after its front matter."))
    if slug is None or title is None or minutes is None or prompts is None:
        return None
    return ReadLesson(path, slug, title, minutes, prompts, body, body_line, data)


def order_lessons(
    reader: Reader, manifest: Located, lessons: list[ReadLesson], paths: list[str]
) -> list[ReadLesson]:
    """The lessons in the order of module.yaml's "lessons" list (by name) when it has one.

    An entry names a lesson by its file name, with or without lessons/ and .md, or by
    its slug.
    """
    if "lessons" not in manifest:
        return lessons
    listed = values.list_of(
        reader,
        MANIFEST,
        manifest,
        "lessons",
        N_('"lessons" is a list of the lesson files in order, such as: %(example)s'),
        MANIFEST_EXAMPLES["lessons"],
    )
    if listed is None:
        return lessons
    by_path = {lesson.path: lesson for lesson in lessons}
    by_slug = {lesson.slug: lesson for lesson in lessons}
    ordered: list[ReadLesson] = []
    placed: set[str] = set()
    for index, entry in enumerate(listed):
        line = listed.line_of(index)
        name = str(entry).strip()
        candidates = [name, f"lessons/{name}", f"{name}.md", f"lessons/{name}.md"]
        path = next((c for c in candidates if c in paths), None)
        if path is None and name in by_slug:
            path = by_slug[name].path
        if path is None:
            reader.error(
                MANIFEST,
                line,
                N_('the lessons list names "%(entry)s", but there is no such file in lessons/.'),
                entry=name,
            )
        elif path in placed:
            reader.error(
                MANIFEST, line, N_('"%(entry)s" is in the lessons list twice.'), entry=name
            )
        else:
            placed.add(path)
            if path in by_path:
                ordered.append(by_path[path])
    _report_unlisted(reader, paths, placed)
    return ordered


def _report_unlisted(reader: Reader, paths: list[str], listed: set[str]) -> None:
    for path in paths:
        if path not in listed:
            reader.error(
                path,
                None,
                N_(
                    'this lesson is not in the "lessons" list of module.yaml; add it to the '
                    "list, or remove the file."
                ),
            )


def check_lesson_slugs(reader: Reader, lessons: list[ReadLesson]) -> None:
    """Report a slug that two lessons use: a slug is how a lesson is known across versions."""
    owners: dict[str, str] = {}
    for lesson in lessons:
        other = owners.setdefault(lesson.slug, lesson.path)
        if other != lesson.path:
            reader.error(
                lesson.path,
                lesson.front_matter.line_of("slug"),
                N_(
                    'lesson slug "%(slug)s" is also used by %(other)s; each lesson needs '
                    "its own slug."
                ),
                slug=lesson.slug,
                other=other,
            )
