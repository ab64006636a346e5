"""Reading an HTML page as a browser would: tags, attributes, URLs after entity decoding.

``assert_inert`` fails, naming the page, if anything on it could run; ``read_page`` also
keeps the text a reader sees, so a test can check the hostile text is there, as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from lms.html import EMBED_HOSTS
from tests.hostile_payloads import EVALUATED

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "background"}
    | {"cite", "srcset", "ping", "codebase", "dynsrc", "lowsrc", "manifest", "icon"}
)
FORBIDDEN_TAGS = frozenset(
    {"style", "svg", "math", "object", "embed", "base", "applet", "frame", "frameset"}
    | {"noscript", "template", "xmp", "plaintext", "listing", "isindex", "portal"}
)
# Browsers drop tabs and newlines inside a URL and controls and spaces around it; all
# of them are dropped here, wherever they are (stricter). A zero-width character is not
# dropped by browsers: "java\u200bscript:" is a relative address, not a scheme.
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")
# A browser reads what an iframe holds as plain text, up to "</iframe" (as nh3 does):
# markup in there never becomes elements.
RAW_TEXT_TAGS = frozenset({"iframe"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_:.-]*$")


def url_scheme(url: str) -> str | None:
    """The scheme a browser would read in an attribute's (entity-decoded) URL, or None."""
    match = _SCHEME.match(_INVISIBLE.sub("", url))
    return match.group(1).lower() if match else None


@dataclass
class PageReading:
    """What a page holds: what could run (``problems``) and the text a reader sees."""

    problems: list[str] = field(default_factory=list)
    text: str = ""
    attribute_values: list[str] = field(default_factory=list)

    def shows(self, needle: str) -> bool:
        """True if the page holds the needle as text or in an attribute (a form field's value)."""
        return needle in self.text or any(needle in value for value in self.attribute_values)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.reading = PageReading()
        self._text: list[str] = []
        self._in_script = False

    def _problem(self, what: str) -> None:
        self.reading.problems.append(f"{what}: {self.get_starttag_text() or ''}"[:300])

    def handle_starttag(self, tag, attrs):
        self._check(tag, dict(attrs), attrs)
        self._in_script = tag == "script"
        if tag in RAW_TEXT_TAGS:
            self.set_cdata_mode(tag)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, dict(attrs), attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.reading.problems.append(f"inline script: {data[:200]}")
        elif not self._in_script:
            self._text.append(data)

    def _check(self, tag: str, values: dict, attrs: list) -> None:
        if tag in FORBIDDEN_TAGS:
            self._problem(f"<{tag}>")
        elif tag == "script" and not (values.get("src") or "").startswith("/static/js/"):
            self._problem("a script that is not the app's own")
        elif tag == "link" and not (values.get("href") or "").startswith("/static/"):
            self._problem("a link element that is not the app's stylesheet")
        elif tag == "meta" and values.get("http-equiv") is not None:
            if not (values.get("content") or "").isdigit():
                self._problem("a meta refresh to an address")
        elif tag == "iframe":
            # Without src the frame is an empty about:blank; with one, only a video host.
            parts = urlsplit(values.get("src") or "https://" + min(EMBED_HOSTS))
            if parts.scheme != "https" or parts.hostname not in EMBED_HOSTS:
                self._problem("an iframe not on an allowlisted video host")
            if "sandbox" not in values:
                self._problem("an iframe without sandbox")
        self.reading.attribute_values += [value for _name, value in attrs if value]
        for name, value in attrs:
            if not _ATTRIBUTE_NAME.match(name):
                self._problem(f"an attribute named {name!r} (markup broke out)")
            elif name.startswith("on"):
                self._problem(f"an event handler {name}")
            elif name in ("style", "srcdoc"):
                self._problem(f"a {name} attribute")
            elif name in URL_ATTRIBUTES and value:
                scheme = url_scheme(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self._problem(f"a {scheme}: URL in {name}")
                if tag == "form" and name == "action" and not value.startswith("/"):
                    self._problem("a form posting elsewhere")

    def close(self) -> None:
        super().close()
        self.reading.text = "".join(self._text)


def read_page(html: str) -> PageReading:
    """Read an HTML page; its problems are what a browser could run."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reading = reader.reading
    for evaluated in EVALUATED:
        if evaluated in reading.text:
            reading.problems.append(f"template syntax was evaluated: {evaluated}")
    return reading


def assert_inert(html: str, where: str) -> PageReading:
    """Fail, naming the page, if anything on it could run; returns the reading."""
    reading = read_page(html)
    assert not reading.problems, f"{where}:\n  " + "\n  ".join(reading.problems)
    return reading
