"""module.yaml: the module's name, version, language, licence, authors and sequence."""

from __future__ import annotations

import re

from lms.packages.problems import N_
from lms.packages.reading import values
from lms.packages.reading.base import Reader
from lms.packages.reading.keys import MANIFEST_EXAMPLES, REQUIRED_MANIFEST
from lms.packages.semver import Version
from lms.packages.source import MANIFEST
from lms.packages.yaml_reader import Located, parse

FORMAT = 1
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
LICENSE = re.compile(r"^[A-Za-z0-9.+-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+-]+)*$")
SEQUENCES = ("linear", "open")
MAX_SUMMARY = 5000


def read_manifest(reader: Reader) -> tuple[Located | None, Located]:
    """The checked manifest (None when anything in it is wrong), and module.yaml as read.

    module.yaml as read is returned even when some of its values are wrong: its lists
    of lessons and attachments are still checked, so every problem shows at once.
    """
    data = _mapping(reader)
    if data is None:
        return None, Located()
    return _checked(reader, data), data


def _mapping(reader: Reader) -> Located | None:
    """module.yaml parsed, if it is there and holds keys and values."""
    if MANIFEST not in reader.source.files:
        near = [p for p in reader.source.files if p.rsplit("/", 1)[-1] in ("module.yml", MANIFEST)]
        reader.error(
            "",
            None,
            N_("module.yaml is missing: a package has a module.yaml at its top%(hint)s."),
            hint=f" ({near[0]})" if near else "",
        )
        return None
    text = reader.read_text(MANIFEST, reader.limits.max_manifest_bytes)
    if text is None:
        return None
    data, problem = parse(text, MANIFEST)
    if problem is not None:
        reader.problems.append(problem)
        return None
    if not isinstance(data, Located):
        reader.error(
            MANIFEST,
            1,
            N_(
                'module.yaml holds keys and values, one per line, such as "title: Holistic '
                'wellness".'
            ),
        )
        return None
    return data


def _checked(reader: Reader, data: Located) -> Located | None:
    """data with its slug and title cleaned, when every key is there and every value right."""
    values.unknown_keys(reader, MANIFEST, data, MANIFEST_EXAMPLES)
    valid = True
    for key in REQUIRED_MANIFEST:
        if key not in data:
            values.missing(reader, MANIFEST, data, key, MANIFEST_EXAMPLES[key])
            valid = False
    if not valid:
        return None
    checks = [
        _check_format(reader, data),
        values.slug(reader, MANIFEST, data, "slug", MANIFEST_EXAMPLES["slug"]),
        values.text(reader, MANIFEST, data, "title", MANIFEST_EXAMPLES["title"]),
        _check_version(reader, data),
        values.text(
            reader, MANIFEST, data, "summary", MANIFEST_EXAMPLES["summary"], max_length=MAX_SUMMARY
        ),
        _check_pattern(reader, data, "language", LANGUAGE, 35),
        _check_pattern(reader, data, "license", LICENSE, 64),
        _check_authors(reader, data),
        values.whole_number(reader, MANIFEST, data, "estimated_minutes", "estimated_minutes: 120"),
        _check_sequence(reader, data),
    ]
    if any(value is None for value in checks):
        return None
    data["slug"] = checks[1]
    data["title"] = checks[2]
    return data


def _check_format(reader: Reader, data: Located) -> int | None:
    if data["format"] != FORMAT:
        reader.error(
            MANIFEST,
            data.line_of("format"),
            N_('this package says "format: %(found)s"; this site reads packages of "format: 1".'),
            found=str(data["format"]),
        )
        return None
    return FORMAT


def _check_version(reader: Reader, data: Located) -> str | None:
    value = data["version"]
    line = data.line_of("version")
    if isinstance(value, float | int) and not isinstance(value, bool):
        reader.error(
            MANIFEST,
            line,
            N_(
                "version %(value)s reads as a number; write it in quotes as a semantic "
                'version, such as: version: "1.0.0"'
            ),
            value=str(value),
        )
        return None
    if not isinstance(value, str) or Version.parse(value.strip()) is None:
        reader.error(
            MANIFEST,
            line,
            N_(
                'version "%(value)s" is not a semantic version such as 1.0.0 or 1.2.0 '
                "(major.minor.patch)."
            ),
            value=str(value),
        )
        return None
    return value.strip()


def _check_pattern(
    reader: Reader, data: Located, key: str, pattern: re.Pattern, limit: int
) -> str | None:
    value = values.text(reader, MANIFEST, data, key, MANIFEST_EXAMPLES[key], max_length=limit)
    if value is None:
        return None
    if not pattern.match(value):
        message = {
            "language": N_('language "%(value)s" is not a language tag such as en, fr or pt-BR.'),
            "license": N_(
                'license "%(value)s" is not an SPDX licence id such as CC-BY-4.0 or CC-BY-SA-4.0.'
            ),
        }[key]
        reader.error(MANIFEST, data.line_of(key), message, value=value)
        return None
    return value


def _check_authors(reader: Reader, data: Located) -> list[str] | None:
    value = data["authors"]
    line = data.line_of("authors")
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(a, str) and a.strip() for a in items)
    ):
        reader.error(
            MANIFEST,
            line,
            N_('"authors" lists the authors\' names, such as: %(example)s'),
            example=MANIFEST_EXAMPLES["authors"],
        )
        return None
    return items


def _check_sequence(reader: Reader, data: Located) -> str | None:
    value = data["sequence"]
    if value not in SEQUENCES:
        reader.error(
            MANIFEST,
            data.line_of("sequence"),
            N_(
                '"sequence" is "linear" (each lesson opens when the one before it is '
                'complete) or "open", not "%(value)s".'
            ),
            value=str(value),
        )
        return None
    return value
