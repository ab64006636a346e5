"""The prompts of a lesson: each one's id, text, and whether it is required or takes files."""

from __future__ import annotations

import re
from typing import Any

from lms.packages.problems import N_
from lms.packages.reading import values
from lms.packages.reading.base import Reader
from lms.packages.reading.keys import LESSON_EXAMPLES, PROMPT_EXAMPLES
from lms.packages.reading.values import MAX_SLUG
from lms.packages.spec import PromptSpec
from lms.packages.yaml_reader import Located

PROMPT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_PROMPT_TEXT = 5000


def read_prompts(reader: Reader, path: str, data: Located) -> list[PromptSpec] | None:
    """The prompts of a lesson's front matter, or None when any of them is wrong."""
    if data.get("prompts") is None:
        return []
    items = values.list_of(
        reader,
        path,
        data,
        "prompts",
        N_('"prompts" is a list, each item starting with "- id:", such as: %(example)s'),
        LESSON_EXAMPLES["prompts"],
    )
    if items is None:
        return None
    prompts: list[PromptSpec] = []
    seen: set[str] = set()
    valid = True
    for index, item in enumerate(items):
        prompt = _prompt(reader, path, item, items.line_of(index), seen)
        if prompt is None:
            valid = False
            continue
        seen.add(prompt.key)
        prompts.append(prompt)
    return prompts if valid else None


def _prompt(reader: Reader, path: str, item: Any, line: int, seen: set[str]) -> PromptSpec | None:
    """One item of the list, checked; seen holds the ids of the prompts before it."""
    if not isinstance(item, Located):
        reader.error(
            path,
            line,
            N_("each prompt has an id and a text, such as: %(example)s"),
            example='- {id: first-thoughts, text: "What did you notice?"}',
        )
        return None
    values.unknown_keys(reader, path, item, ("id", "text", "required", "accepts_files"))
    key = values.text(reader, path, item, "id", PROMPT_EXAMPLES["id"], max_length=MAX_SLUG)
    text = values.text(
        reader, path, item, "text", PROMPT_EXAMPLES["text"], max_length=MAX_PROMPT_TEXT
    )
    required = values.boolean(reader, path, item, "required", True)
    accepts_files = values.boolean(reader, path, item, "accepts_files", False)
    if key is not None:
        key = _check_id(reader, path, item, key, seen)
    if key is None or text is None:
        return None
    return PromptSpec(key, text, required, accepts_files)


def _check_id(reader: Reader, path: str, item: Located, key: str, seen: set[str]) -> str | None:
    if not PROMPT_ID.match(key):
        reader.error(
            path,
            item.line_of("id"),
            N_(
                'prompt id "%(id)s" may hold only lower-case letters a-z, digits, '
                "hyphens and underscores."
            ),
            id=key,
        )
        return None
    if key in seen:
        reader.error(
            path,
            item.line_of("id"),
            N_('prompt id "%(id)s" is used twice in this lesson; give each prompt its own id.'),
            id=key,
        )
        return None
    return key
