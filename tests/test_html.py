"""Markdown becomes HTML that cannot run code: lessons, learners' answers, feedback."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.html import (
    LESSON_IMAGE_SIZES,
    URL_SCHEMES,
    LessonImage,
    inspect_lesson,
    media_url,
    render_lesson,
    render_markdown,
    sanitise,
    without_size_choice,
)
from tests.hostile_payloads import PAYLOADS
from tests.hostile_reading import RAW_TEXT_TAGS, URL_ATTRIBUTES, url_scheme

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<svg onload=alert(1)><circle/></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{display:none}</style>",
    '<form action="https://evil.example"><input name="p"></form>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "[click](javascript:alert(1)) [tab](java\tscript:alert(1))",
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
]


# Pieces that build a URL or a tag a character at a time, with the tricks browsers forgive.
FRAGMENTS = [
    *("javascript:", "java", "script:", "data:", "vbscript:", "file:", "JaVaScRiPt:"),
    *("&#x09;", "&#x0A;", "&#0000106", "\t", "\u200b", "\u202e", "\x00", "%0a", "&colon;"),
    *('<a href="', '<img src="', '<iframe src="', "<svg ", "<math>", "<style>", "<!--", "-->"),
    *(" onerror=", " onload=", " style=", '"', "'", "`", "&lt;", "&gt;", "&amp;", "{{", "}}"),
]


FORBIDDEN_TAGS = {"script", "style", "svg", "math", "form", "input", "object", "embed", "base"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag in RAW_TEXT_TAGS:
            self.set_cdata_mode(tag)


def assert_inert(output: str) -> None:
    """Read the output as a browser would: no code-running tag, attribute or URL in it."""
    parser = _Tags()
    parser.feed(output)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in FORBIDDEN_TAGS, output
        for name, value in attrs:
            assert not name.startswith("on"), output
            assert name not in ("style", "srcdoc"), output
            if name in URL_ATTRIBUTES and value:
                # An allowlist, not a list of bad schemes: file:, blob:, intent: ... fail too.
                assert url_scheme(value) in (None, *URL_SCHEMES), output


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_input_comes_out_inert_from_every_door(payload):
    assert_inert(sanitise(payload))
    assert_inert(render_markdown(payload))
    assert_inert(render_lesson(payload, lambda url: None))


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.name)
def test_every_payload_of_the_corpus_comes_out_inert_and_stays_put(payload):
    once = sanitise(payload.text)
    assert sanitise(once) == once
    assert_inert(once)
    assert_inert(render_markdown(payload.text))
    assert_inert(render_lesson(payload.text, lambda url: None))
    assert_inert(render_lesson(payload.text, lambda url: url))  # even if every link resolved


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/x", "blob:https://example.org/x", "intent://x"]
    + ["jar:https://example.org/x!/", "ms-settings:", "tel:+1", "sms:+1", "//evil.example"],
)
def test_only_allowlisted_schemes_pass(url):
    for output in (
        sanitise(f'<a href="{url}">x</a>'),
        render_markdown(f"[x]({url})"),
        render_lesson(f'[x]({url}) <img src="{url}" alt="i">', lambda u: None),
    ):
        assert_inert(output)
        parser = _Tags()
        parser.feed(output)
        urls = [
            value for _tag, attrs in parser.tags for name, value in attrs if name in URL_ATTRIBUTES
        ]
        assert url not in urls, output


def test_encoded_script_stays_text_and_is_not_decoded_into_a_tag():
    output = render_markdown("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert "&lt;script&gt;" in output
    assert sanitise(sanitise("&lt;script&gt;x")) == sanitise("&lt;script&gt;x")


def test_template_syntax_is_shown_literally():
    assert "{{7*7}}" in render_markdown("{{7*7}}")


def test_learners_markdown_is_light():
    output = render_markdown("**bold** and *it*\nnew line\n\n- a\n- b\n\n# Shout\n\n![i](x.png)")
    assert "<strong>bold</strong>" in output
    assert "<em>it</em>" in output
    assert "<br>" in output
    assert "<li>a</li>" in output
    assert "<h1>" not in output
    assert "<img" not in output


def test_learners_links_are_web_links_only_and_marked_nofollow():
    output = render_markdown("[site](https://example.org) [here](/admin) [mail](mailto:a@b.org)")
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">site</a>' in output
    assert 'href="/admin"' not in output
    assert 'href="mailto:a@b.org"' in output


def test_learners_raw_html_is_shown_as_text():
    assert "&lt;b&gt;" in render_markdown("<b>hi</b>")


def test_lesson_media_links_are_rewritten_to_the_apps_media_urls():
    urls = {"../media/map.png": "/media/m/map.png?v=1", "../media/story.mp3": "/media/m/s?v=2"}
    output = render_lesson(
        "![The map](../media/map.png)\n\n![A story](../media/story.mp3)\n\n![Film](x.mp4)",
        urls.get,
    )
    # The first image loads at once (it may be what the page opens on); none is sized here.
    assert '<img src="/media/m/map.png?v=1" alt="The map" decoding="async">' in output
    audio = re.search(r"<audio [^>]*>", output).group(0)
    assert 'src="/media/m/s?v=2"' in audio
    assert 'controls=""' in audio
    assert 'preload="none"' in audio
    assert "<video" in output
    assert "x.mp4" not in output  # unresolved local links are dropped


MAP = "/media/m/map.png?v=1"
SIZED_MAP = LessonImage(2000, 1000, (("/media/m/map.png?v=2&w=480", 480), (MAP, 2000)))


def test_lesson_images_get_their_size_and_their_copies_from_the_import():
    output = render_lesson(
        "![The map](../media/map.png)\n\n![Again](../media/map.png)",
        lambda url: MAP,
        {MAP: SIZED_MAP},
    )
    first, second = re.findall(r"<img [^>]*>", output)
    srcset = 'srcset="/media/m/map.png?v=2&amp;w=480 480w, /media/m/map.png?v=1 2000w"'
    for tag in (first, second):
        assert 'width="2000" height="1000"' in tag
        assert srcset in tag
        assert f'sizes="{LESSON_IMAGE_SIZES}"' in tag
        assert 'decoding="async"' in tag
    assert "loading" not in first
    assert 'loading="lazy"' in second


def test_an_authors_own_width_is_kept_and_their_srcset_and_loading_are_not():
    output = render_lesson(
        '<img src="../media/map.png" alt="m" width="300" srcset="https://evil.example/x 1w" '
        'sizes="1px" loading="eager" decoding="sync">',
        lambda url: MAP,
        {MAP: SIZED_MAP},
    )
    assert "evil.example" not in output
    assert 'width="300"' in output
    assert "height=" not in output  # the author's width alone would be distorted by ours
    assert 'decoding="async"' in output
    assert 'sync"' not in output.replace('"async"', "")
    assert "eager" not in output
    assert 'sizes="1px"' not in output


@pytest.mark.parametrize(
    "candidate",
    ["javascript:alert(1)", "https://evil.example/x.png", "//evil.example/x.png", "/admin/x.png"],
)
def test_srcset_urls_are_only_the_apps_own_media(candidate):
    image = LessonImage(2000, 1000, ((candidate, 480), (MAP, 2000)))
    output = render_lesson("![m](../media/map.png)", lambda url: MAP, {MAP: image})
    assert "srcset" not in output
    assert candidate not in output
    assert_inert(output)


def test_the_offline_copy_takes_the_choice_of_sizes_out():
    output = render_lesson(
        'The `sizes="x"` option.\n\n![m](../media/map.png)', lambda url: MAP, {MAP: SIZED_MAP}
    )
    single = without_size_choice(output)
    assert "srcset" not in single
    assert f'sizes="{LESSON_IMAGE_SIZES}"' not in single
    assert 'width="2000" height="1000"' in single
    assert "sizes=&quot;x&quot;" in single or 'sizes="x"' in single  # text stays text


def test_lesson_keeps_rich_formatting():
    markdown = "| a | b |\n|---|---|\n| 1 | 2 |\n\n<details><summary>More</summary>Hidden</details>"
    output = render_lesson(markdown, lambda url: None)
    assert "<table>" in output
    assert "<details><summary>More</summary>" in output


@pytest.mark.parametrize(
    ("src", "kept"),
    [
        ("https://www.youtube-nocookie.com/embed/abc", True),
        ("https://player.vimeo.com/video/123", True),
        ("https://www.youtube.com/embed/abc", False),
        ("http://www.youtube-nocookie.com/embed/abc", False),
        ("https://evil.example/embed", False),
        ("https://www.youtube-nocookie.com.evil.example/embed", False),
    ],
)
def test_iframes_only_from_allowlisted_video_hosts(src, kept):
    output = render_lesson(f'<iframe src="{src}" title="Video"></iframe>', lambda url: None)
    assert (f'src="{src}"' in output) is kept
    if kept:
        assert 'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"' in output


def test_protocol_relative_and_site_paths_are_dropped_from_lessons():
    output = render_lesson("[a](//evil.example) [b](/admin) [c](#top)", lambda url: url)
    assert "evil.example" not in output
    assert 'href="/admin"' not in output
    assert 'href="#top"' in output


def test_media_url_carries_a_content_version():
    assert (
        media_url("wellness", "a b.png", "ab" * 32)
        == "/media/wellness/a%20b.png?v=abababababababab"
    )


def test_inspect_lesson_reports_what_would_be_removed_with_lines():
    markdown = (
        "Intro [x](javascript:alert(1))\n"
        "second line ![y](https://elsewhere.example/y.png)\n"
        "\n"
        "<div>\n"
        '<span onclick="alert(1)" style="color:red">s</span>\n'
        "<script>alert(1)</script>\n"
        "</div>\n"
        "\n"
        '<iframe src="https://evil.example/v"></iframe>\n'
        "\n"
        "[a](//evil.example) [b](/admin) ![m](../media/map.png) [t](#top)\n"
    )
    scan = inspect_lesson(markdown)
    found = {(f.line, f.kind, f.value, f.error) for f in scan.findings}
    assert found == {
        (1, "scheme", "javascript:alert(1)", True),
        (2, "external_media", "https://elsewhere.example/y.png", True),
        (5, "event_handler", "onclick", True),
        (5, "attribute", "style", False),
        (6, "tag", "script", True),
        (9, "embed_host", "https://evil.example/v", True),
        (11, "incomplete_url", "//evil.example", True),
        (11, "site_path", "/admin", True),
    }
    assert scan.local_references == [(11, "../media/map.png", True)]


def test_inspect_sees_entity_and_whitespace_disguised_schemes():
    scan = inspect_lesson('<a href="java&#x09;script:alert(1)">x</a> [y](java&#x09;script:z)')
    assert [f.kind for f in scan.findings] == ["scheme", "scheme"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*HOSTILE, "<p>", "</p>", "<a href='", "'>", "**", "[", "](", ")", "\n", "<", ">"]
        )
        | st.sampled_from([p.text for p in PAYLOADS])
        | st.sampled_from(FRAGMENTS)
        | st.text(max_size=20),
        max_size=12,
    ).map("".join)
)
def test_sanitising_is_idempotent_and_never_lets_code_through(text):
    once = sanitise(text)
    assert sanitise(once) == once
    assert_inert(once)
    markdown = render_markdown(text)
    assert sanitise(markdown) == markdown  # nothing left for a second pass to decode or drop
    assert_inert(markdown)
    lesson = render_lesson(text, lambda url: None)
    assert_inert(lesson)
