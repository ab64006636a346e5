"""YAML as module authors write it: safe, without anchors, and with the line of every key.

Mappings come back as ``Located`` dicts that remember the line of each key, and
sequences as ``LocatedList`` lists that remember the line of each item, so that a
problem can say ``lessons/02-listening.md:9``. Anchors and aliases are refused: they
are how a few lines of YAML expand into gigabytes (a "billion laughs").
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, SequenceNode

from lms.packages.problems import N_, Problem


class Located(dict):
    """A mapping that knows its own line and each key's line (1-based)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 1
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """The line of the key, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    """A sequence that knows its own line and each item's line (1-based)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 1
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _AuthorError(yaml.YAMLError):
    def __init__(self, message: str, line: int, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.params = params


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _AuthorError(
                N_(
                    "YAML anchors and aliases (& and *) are not supported; write each value out "
                    "in full."
                ),
                event.start_mark.line + 1,
            )
        return super().compose_node(parent, index)


def _construct_mapping(loader: _Loader, node: MappingNode):
    data = Located()
    data.line = node.start_mark.line + 1
    yield data
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise _AuthorError(N_("a key here is not a plain word."), line) from None
        if key in data:
            raise _AuthorError(N_('the key "%(key)s" appears twice.'), line, key=str(key))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line


def _construct_sequence(loader: _Loader, node: SequenceNode):
    data = LocatedList()
    data.line = node.start_mark.line + 1
    data.item_lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_object(item, deep=True) for item in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def parse(text: str, path: str, first_line: int = 1) -> tuple[Any, Problem | None]:
    """The YAML document in text, or the problem that stops it being read.

    ``first_line`` is the file line the text starts on (front matter starts on line 2);
    located lines are file lines.
    """
    offset = first_line - 1
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506  (_Loader is a SafeLoader)
    except _AuthorError as error:
        return None, Problem(path, error.line + offset, error.message, error.params)
    except ConstructorError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 + offset if mark else None
        return None, Problem(
            path, line, N_("this value cannot be read: %(detail)s."), {"detail": error.problem}
        )
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 + offset if mark else None
        detail = error.problem or error.context or ""
        return None, Problem(
            path,
            line,
            N_(
                "this is not valid YAML (%(detail)s); check the indentation, and put text "
                'containing ":" or "#" in quotes.'
            ),
            {"detail": detail},
        )
    except yaml.YAMLError as error:
        return None, Problem(
            path, None, N_("this is not valid YAML (%(detail)s)."), {"detail": str(error)}
        )
    if offset:
        _shift(data, offset)
    return data, None


def _shift(data: Any, offset: int) -> None:
    if isinstance(data, Located):
        data.line += offset
        data.key_lines = {k: v + offset for k, v in data.key_lines.items()}
        for value in data.values():
            _shift(value, offset)
    elif isinstance(data, LocatedList):
        data.line += offset
        data.item_lines = [line + offset for line in data.item_lines]
        for value in data:
            _shift(value, offset)


def plain(data: Any) -> Any:
    """A copy with ordinary dicts and lists (for JSON columns)."""
    if isinstance(data, dict):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    if isinstance(data, str | int | float | bool) or data is None:
        return data
    return str(data)
