"""What a lesson's text shows: its HTML checked, and the images and sound it links to in media/."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from lms import html
from lms.packages.problems import N_, Problem
from lms.packages.reading.base import Reader
from lms.packages.reading.lessons import ReadLesson

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


def check_body(reader: Reader, lesson: ReadLesson, media: set[str]) -> None:
    """Report what the lesson's text may not hold, and links to anything but media."""
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
        reader.problems.append(problem)
    for line, url, _embedded in scan.local_references:
        target = resolve_reference(path, url)
        if target is None:
            reader.error(
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
            reader.error(
                path,
                line + offset,
                N_(
                    '"%(url)s" links to an attachment; list it under "attachments" in the '
                    "front matter instead, and it is offered with the lesson."
                ),
                url=url,
            )
        elif target not in media:
            reader.error(
                path,
                line + offset,
                N_(
                    '"%(path)s" is not in the package; add it to media/ or correct the '
                    "link (names are case-sensitive)."
                ),
                path=target,
            )
