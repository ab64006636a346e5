"""Attachments: files in attachments/ that module.yaml or a lesson's front matter lists."""

from __future__ import annotations

import posixpath
from typing import Any

from lms.packages.problems import N_
from lms.packages.reading import values
from lms.packages.reading.base import Reader
from lms.packages.reading.keys import ATTACHMENT_EXAMPLES, LESSON_EXAMPLES, MANIFEST_EXAMPLES
from lms.packages.source import MANIFEST
from lms.packages.yaml_reader import Located


def attachment_entries(
    reader: Reader, path: str, data: Located, claims: dict[str, str]
) -> list[tuple[str, str]]:
    """The (path, title) of each file the "attachments" list of data names, once each.

    ``path`` is the file the list is in (module.yaml or a lesson); ``claims`` maps each
    attachment to the file that listed it first, across the whole package, since a file
    is attached in one place.
    """
    if data.get("attachments") is None:
        return []
    examples = MANIFEST_EXAMPLES if path == MANIFEST else LESSON_EXAMPLES
    items = values.list_of(
        reader,
        path,
        data,
        "attachments",
        N_('"attachments" is a list of files in attachments/, such as: %(example)s'),
        examples["attachments"],
    )
    if items is None:
        return []
    entries: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        line = items.line_of(index)
        named = _target_and_title(reader, path, item, line)
        if named is None:
            continue
        target, title = named
        resolved = _resolve(reader, path, target, line)
        if resolved is None or not _claim(reader, claims, resolved, path, line):
            continue
        if any(resolved == existing for existing, _ in entries):
            continue
        entries.append((resolved, title or resolved.rsplit("/", 1)[-1]))
    return entries


def _target_and_title(
    reader: Reader, path: str, item: Any, line: int
) -> tuple[str, str | None] | None:
    """The path an item names and its title, if it gives one: a path alone, or a mapping."""
    if isinstance(item, str):
        return item.strip(), None
    if isinstance(item, Located):
        values.unknown_keys(reader, path, item, ATTACHMENT_EXAMPLES)
        target = values.text(
            reader, path, item, "path", ATTACHMENT_EXAMPLES["path"], max_length=255
        )
        title = values.text(
            reader, path, item, "title", ATTACHMENT_EXAMPLES["title"], required=False
        )
        if target is None or title is None:
            return None
        return target, title
    reader.error(
        path,
        line,
        N_("each attachment is a file path, or a path and a title, such as: %(example)s"),
        example="- {path: attachments/plan.pdf, title: Wellness plan}",
    )
    return None


def _resolve(reader: Reader, path: str, target: str, line: int) -> str | None:
    """The file in attachments/ that target names, if the package holds it."""
    resolved = _attachment_path(target)
    if resolved is None:
        reader.error(
            path,
            line,
            N_(
                'attachment "%(path)s" is not inside attachments/; write it as '
                "attachments/%(name)s and put the file there."
            ),
            path=target,
            name=target.rsplit("/", 1)[-1],
        )
        return None
    if resolved not in reader.source.files:
        reader.error(
            path,
            line,
            N_(
                'attachment "%(path)s" is not in the package; add the file to '
                "attachments/ or correct the name (names are case-sensitive)."
            ),
            path=resolved,
        )
        return None
    return resolved


def _claim(reader: Reader, claims: dict[str, str], resolved: str, path: str, line: int) -> bool:
    """Whether the file is path's to attach: no other file of the package listed it first."""
    owner = claims.setdefault(resolved, path)
    if owner != path:
        reader.error(
            path,
            line,
            N_(
                '"%(path)s" is already attached by %(other)s; attach a file once (list '
                "it in module.yaml to offer it with the whole module)."
            ),
            path=resolved,
            other=owner,
        )
        return False
    return True


def _attachment_path(target: str) -> str | None:
    target = target.removeprefix("./")
    if "/" not in target:
        target = f"attachments/{target}"
    normalised = posixpath.normpath(target)
    if not normalised.startswith("attachments/") or "\\" in target:
        return None
    return normalised
