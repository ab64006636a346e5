"""Markdown to sanitised HTML: the one place that knows which tags, attributes and URLs pass.

Three doors, one sanitiser (nh3, always the last step):

- ``render_lesson`` for module authors' lessons, rendered once at import: Markdown with
  some HTML, images and sound from the package's ``media/``, videos embedded from an
  allowlist of hosts; images offered in the sizes made at import (``srcset``), with
  their width and height so that nothing moves as they load;
- ``render_markdown`` for learners' reflections and facilitators' feedback: light Markdown,
  no raw HTML, no images;
- ``sanitise`` for any other HTML fragment, with the light allowlist.

``inspect_lesson`` reads a lesson as the renderer does and reports what the sanitiser
would remove, with line numbers, so that the package validator can tell the author.
Templates never mark anything safe that did not come out of this module.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from html import unescape as unescape_html
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

URL_SCHEMES = frozenset({"http", "https", "mailto"})
EMBED_HOSTS = frozenset({"www.youtube-nocookie.com", "youtube-nocookie.com", "player.vimeo.com"})
MEDIA_URL_PREFIX = "/media"
AUDIO_EXTENSIONS = frozenset({".mp3", ".ogg", ".oga", ".m4a", ".wav"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".webm"})

LIGHT_TAGS = frozenset(
    {"a", "blockquote", "br", "code", "del", "em", "hr", "li", "ol", "p", "pre", "s", "strong"}
    | {"ul"}
)
# "*" is given so that nh3's default attributes for every tag (lang, title) do not apply.
LIGHT_ATTRIBUTES: dict[str, set[str]] = {"*": set(), "a": {"href", "title"}, "ol": {"start"}}

LESSON_TAGS = LIGHT_TAGS | {
    "abbr",
    "audio",
    "b",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "i",
    "iframe",
    "img",
    "ins",
    "kbd",
    "mark",
    "q",
    "small",
    "source",
    "span",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "video",
}
LESSON_ATTRIBUTES: dict[str, set[str]] = {
    **LIGHT_ATTRIBUTES,
    "*": {"lang", "dir"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "audio": {"src", "controls", "preload"},
    "video": {"src", "controls", "preload", "width", "height", "poster"},
    "source": {"src", "type"},
    "iframe": {"src", "title", "width", "height", "allowfullscreen"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "q": {"cite"},
}
# Attributes only the app writes on a lesson's images (render_lesson), never the author.
IMAGE_ATTRIBUTES = frozenset({"srcset", "sizes", "loading", "decoding"})
# The width a lesson image takes: the page's column (lms/static/css/site.css: main is at
# most 46rem wide, with 1rem of padding on each side), or the screen less that padding.
LESSON_IMAGE_SIZES = "(min-width: 46rem) 44rem, calc(100vw - 2rem)"
# Fixed attributes: whatever the author wrote, these values are what the browser gets.
LESSON_SET_ATTRIBUTES = {
    "iframe": {
        "loading": "lazy",
        "sandbox": "allow-scripts allow-same-origin allow-presentation allow-popups",
        "allow": "fullscreen; picture-in-picture; encrypted-media",
        "referrerpolicy": "strict-origin-when-cross-origin",
    },
    "audio": {"controls": "", "preload": "none"},
    "video": {"controls": "", "preload": "metadata"},
}
# Attributes whose value is a URL the browser fetches into the page (not a link it follows).
_EMBED_ATTRIBUTES = {("img", "src"), ("audio", "src"), ("video", "src"), ("video", "poster")}
_EMBED_ATTRIBUTES |= {("source", "src")}
_URL_ATTRIBUTES = _EMBED_ATTRIBUTES | {("a", "href"), ("iframe", "src"), ("q", "cite")}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")

LINK_REL = "nofollow noopener noreferrer"


def media_url(module_slug: str, path_in_media: str, sha256: str, width: int | None = None) -> str:
    """The app's URL of a module's media file, or of its copy ``width`` pixels wide; the
    hash of the bytes it names makes it safe to cache for ever."""
    url = f"{MEDIA_URL_PREFIX}/{module_slug}/{quote(path_in_media)}?v={sha256[:16]}"
    return url if width is None else f"{url}&w={int(width)}"


@dataclass(frozen=True)
class LessonImage:
    """What a lesson's page says of one of its images: its size as shown, and the sizes a
    browser may choose from (URL and width in pixels, the original among them), if any."""

    width: int
    height: int
    candidates: tuple[tuple[str, int], ...] = ()

    @property
    def srcset(self) -> str:
        return ", ".join(f"{url} {width}w" for url, width in self.candidates)


def _scheme(url: str) -> str | None:
    # Browsers drop tabs, newlines and spaces inside a URL: judge what they would see.
    match = _SCHEME.match(_INVISIBLE.sub("", unquote(url)))
    return match.group(1).lower() if match else None


def is_embed_url(url: str) -> bool:
    """True for a video player address on an allowlisted host (https only)."""
    parts = urlsplit(url.strip())
    return parts.scheme == "https" and (parts.hostname or "") in EMBED_HOSTS


_light_cleaner = nh3.Cleaner(
    tags=set(LIGHT_TAGS),
    attributes=LIGHT_ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    url_relative="deny",
    link_rel=LINK_REL,
)


def sanitise(html: str) -> str:
    """Clean an HTML fragment with the light allowlist (text formatting and web links)."""
    return _light_cleaner.clean(html)


_light_markdown = (
    MarkdownIt("commonmark", {"html": False, "breaks": True})
    .enable("strikethrough")
    .disable(["image", "heading", "lheading"])
)


def render_markdown(text: str) -> str:
    """Render a learner's or facilitator's light Markdown to safe HTML (no raw HTML, no images)."""
    return sanitise(_light_markdown.render(text))


def _media_element(_renderer, tokens: list[Token], idx: int, _options, _env) -> str:
    # ![A recorded story](../media/story.mp3) plays the sound; images stay images.
    token = tokens[idx]
    src = token.attrGet("src") or ""
    extension = posixpath.splitext(urlsplit(src).path.lower())[1]
    alt = escape(token.content or "")
    if extension in AUDIO_EXTENSIONS:
        return f'<audio src="{escape(src)}"><a href="{escape(src)}">{alt}</a></audio>'
    if extension in VIDEO_EXTENSIONS:
        return f'<video src="{escape(src)}"><a href="{escape(src)}">{alt}</a></video>'
    title = token.attrGet("title")
    title_attr = f' title="{escape(title)}"' if title else ""
    return f'<img src="{escape(src)}" alt="{alt}"{title_attr}>'


def _lesson_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.add_render_rule("image", _media_element)
    return md


_lesson_md = _lesson_markdown()


def render_lesson(
    markdown: str,
    resolve_local: Callable[[str], str | None],
    images: Mapping[str, LessonImage] | None = None,
) -> str:
    """Render a lesson's Markdown to the HTML that is stored and served.

    ``resolve_local`` turns a relative URL written in the lesson (``../media/map.png``)
    into the app's URL for it, or None to drop it. ``images`` says, by that app URL,
    what is known of each image: its width and height are written on it, and its sizes
    offered with ``srcset`` and ``sizes``. Every image but the first loads lazily, and
    all decode off the main thread.

    The sanitiser runs twice: on what the author wrote, then on that with the images'
    attributes added, where srcset's URLs must each be one of ``images``' and src's one
    that resolve_local gave; nh3 is the last step either way.
    """
    images = images or {}
    resolved: set[str] = set()

    def relative(url: str) -> str | None:
        if url.startswith("#"):
            return url
        if url.startswith(("//", "\\", "/")):
            return None
        found = resolve_local(url)
        if found is not None:
            resolved.add(found)
        return found

    authored = _lesson_cleaner(relative).clean(_lesson_md.render(markdown))
    sized = _IMG_TAG.sub(_SizedImages(images), authored)
    offered = {url for image in images.values() for url, _ in image.candidates}
    return _lesson_cleaner(
        lambda url: url if url.startswith("#") or url in resolved else None,
        image_attribute=lambda name, value: _image_attribute(name, value, offered),
    ).clean(sized)


def _lesson_cleaner(
    relative: Callable[[str], str | None],
    image_attribute: Callable[[str, str], str | None] | None = None,
) -> nh3.Cleaner:
    """The lesson allowlist; with ``image_attribute``, the image attributes the app adds too."""

    def attribute(tag: str, name: str, value: str) -> str | None:
        if tag == "iframe" and name == "src" and not is_embed_url(value):
            return None
        if tag == "img" and name in IMAGE_ATTRIBUTES and image_attribute is not None:
            return image_attribute(name, value)
        return value

    attributes = LESSON_ATTRIBUTES
    if image_attribute is not None:
        attributes = {**LESSON_ATTRIBUTES, "img": LESSON_ATTRIBUTES["img"] | IMAGE_ATTRIBUTES}
    return nh3.Cleaner(
        tags=set(LESSON_TAGS),
        attributes=attributes,
        attribute_filter=attribute,
        set_tag_attribute_values=LESSON_SET_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        url_relative=relative,
        link_rel=LINK_REL,
    )


# An <img> tag as nh3 writes it: attributes in double quotes, whose own quotes it escapes.
_IMG_TAG = re.compile(r'<img\b((?:[^>"]|"[^"]*")*)>')
_TAG_ATTRIBUTE = re.compile(r'([^\s="]+)="([^"]*)"')
_SRCSET_CANDIDATE = re.compile(r"^(\S+) ([1-9][0-9]{0,4})w$")
_SIZE_CHOICE = re.compile(r'\s(?:srcset|sizes)="[^"]*"')


class _SizedImages:
    """Adds to each <img> of sanitised lesson HTML what the page knows of it (a re.sub callback)."""

    def __init__(self, images: Mapping[str, LessonImage]) -> None:
        self.images = images
        self.first = True

    def __call__(self, match: re.Match[str]) -> str:
        attributes = dict(_TAG_ATTRIBUTE.findall(match[1]))
        image = self.images.get(unescape_html(attributes.get("src", "")))
        added = {}
        if image is not None:
            if "width" not in attributes and "height" not in attributes:
                added |= {"width": str(image.width), "height": str(image.height)}
            if image.candidates:
                added |= {"srcset": image.srcset, "sizes": LESSON_IMAGE_SIZES}
        if not self.first:
            added["loading"] = "lazy"
        added["decoding"] = "async"
        self.first = False
        extra = "".join(f' {name}="{escape(value)}"' for name, value in added.items())
        return f"<img{match[1]}{extra}>"


def without_size_choice(lesson_html: str) -> str:
    """Sanitised lesson HTML with its images' choice of sizes (srcset, sizes) taken out,
    for a copy that carries each image in one size (the offline zip)."""
    return _IMG_TAG.sub(lambda match: _SIZE_CHOICE.sub("", match[0]), lesson_html)


def _image_attribute(name: str, value: str, offered: set[str]) -> str | None:
    """An image attribute the app adds, if it is one it would write: srcset's URLs each
    one of the sizes made at import, and the app's own media URL; its other values fixed."""
    if name == "srcset":
        candidates = [_SRCSET_CANDIDATE.match(c.strip()) for c in value.split(",")]
        if all(
            c is not None and c[1] in offered and c[1].startswith(MEDIA_URL_PREFIX + "/")
            for c in candidates
        ):
            return value
        return None
    allowed = {"sizes": {LESSON_IMAGE_SIZES}, "loading": {"lazy"}, "decoding": {"async"}}
    return value if value in allowed[name] else None


# --- Telling authors what would be removed ---------------------------------


@dataclass(frozen=True)
class Finding:
    """Something in a lesson the sanitiser would remove or the author must fix.

    ``kind`` is one of: tag, event_handler, attribute, scheme, embed_host, external_media,
    incomplete_url, site_path. ``error`` is False for what is only dropped quietly.
    """

    line: int
    kind: str
    value: str
    tag: str = ""
    error: bool = True


@dataclass
class LessonScan:
    """What a lesson body contains that the package must check: findings and local links."""

    findings: list[Finding] = field(default_factory=list)
    # (line, url, embedded): relative URLs, for the package to resolve.
    local_references: list[tuple[int, str, bool]] = field(default_factory=list)


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[int, str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((self.getpos()[0], tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((self.getpos()[0], tag, attrs))


def _scan_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # Let every link through so that bad ones are reported, not silently left as text.
    md.validateLink = lambda url: True
    return md


_scan_md = _scan_markdown()


def inspect_lesson(markdown: str) -> LessonScan:
    """Find what the lesson renderer would drop, with 1-based lines of the Markdown."""
    scan = LessonScan()

    def check_url(line: int, tag: str, name: str, url: str) -> None:
        embedded = (tag, name) in _EMBED_ATTRIBUTES
        scheme = _scheme(url)
        stripped = url.strip()
        # Browsers read a backslash as a slash: a backslash-led address is another site.
        slashed = stripped.replace("\\", "/")
        if tag == "iframe":
            if not is_embed_url(stripped):
                scan.findings.append(Finding(line, "embed_host", stripped, tag))
        elif scheme is not None and scheme not in URL_SCHEMES:
            scan.findings.append(Finding(line, "scheme", stripped, tag))
        elif slashed.startswith("//"):
            scan.findings.append(Finding(line, "incomplete_url", stripped, tag))
        elif scheme is not None:
            if embedded:
                scan.findings.append(Finding(line, "external_media", stripped, tag))
        elif slashed.startswith("/"):
            scan.findings.append(Finding(line, "site_path", stripped, tag))
        elif stripped and not stripped.startswith("#"):
            scan.local_references.append((line, stripped, embedded))

    def check_html(line: int, html: str) -> None:
        collector = _TagCollector()
        collector.feed(html)
        collector.close()
        for offset, tag, attrs in collector.tags:
            at = line + offset - 1
            if tag not in LESSON_TAGS:
                scan.findings.append(Finding(at, "tag", tag, tag))
                continue
            allowed = LESSON_ATTRIBUTES.get(tag, set()) | LESSON_ATTRIBUTES["*"]
            for name, value in attrs:
                if name.startswith("on"):
                    scan.findings.append(Finding(at, "event_handler", name, tag))
                elif name not in allowed:
                    scan.findings.append(Finding(at, "attribute", name, tag, error=False))
                elif (tag, name) in _URL_ATTRIBUTES and value is not None:
                    check_url(at, tag, name, value)

    for token in _scan_md.parse(markdown):
        line = token.map[0] + 1 if token.map else 1
        if token.type == "html_block":
            check_html(line, token.content)
        elif token.type == "inline":
            for child in token.children or []:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type == "link_open":
                    check_url(line, "a", "href", str(child.attrGet("href") or ""))
                elif child.type == "image":
                    check_url(line, "img", "src", str(child.attrGet("src") or ""))
                elif child.type == "html_inline":
                    check_html(line, child.content)
    return scan
