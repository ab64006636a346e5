"""Hostile text: a corpus of XSS shapes, and the join links a live session must refuse.

Every payload that could run calls a recorder, ``__xss(n)`` (``n`` names the payload) or
``alert(n)``, so that a browser can tell which one ran. ``bundles`` groups payloads into
texts a field takes, so that a site needs a few dozen rows, not one per payload per field.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.html import EMBED_HOSTS


@dataclass(frozen=True)
class Payload:
    """One hostile text; ``name`` is its id in test output."""

    name: str
    text: str


def _corpus() -> list[Payload]:
    shapes = [
        ("script", "<script>__xss({n})</script>"),
        ("script-src-data", '<script src="data:text/javascript,__xss({n})"></script>'),
        ("script-split", "<scr<script>ipt>__xss({n})</scr</script>ipt>"),
        ("img-onerror", "<img src=x onerror=__xss({n})>"),
        ("img-onerror-quoted", '<img src="x" onerror="__xss({n})">'),
        ("img-eval-src", "<img src=x:alert({n}) onerror=eval(src) alt=0>"),
        ("svg-onload", "<svg onload=__xss({n})>"),
        ("svg-script", "<svg><script>__xss({n})</script></svg>"),
        (
            "svg-xlink",
            '<svg><a xlink:href="javascript:__xss({n})"><text y="20">go</text></a></svg>',
        ),
        ("svg-animate", "<svg><animate onbegin=__xss({n}) attributeName=x dur=1s>"),
        ("details-ontoggle", "<details open ontoggle=__xss({n})><summary>s</summary></details>"),
        ("body-onload", "<body onload=__xss({n})>"),
        ("input-autofocus", "<input autofocus onfocus=__xss({n})>"),
        ("video-source", "<video><source onerror=__xss({n})></video>"),
        ("audio-onerror", "<audio src=x onerror=__xss({n})></audio>"),
        ("hover", "<p onmouseover=__xss({n}) onpointerenter=__xss({n})>hover me</p>"),
        ("iframe-js", '<iframe src="javascript:parent.__xss({n})"></iframe>'),
        ("iframe-srcdoc", '<iframe srcdoc="<script>parent.__xss({n})</script>"></iframe>'),
        ("iframe-embed-onload", f'<iframe src="https://{min(EMBED_HOSTS)}/x" onload=__xss({{n}})>'),
        ("object-js", '<object data="javascript:__xss({n})"></object>'),
        ("embed-js", '<embed src="javascript:__xss({n})">'),
        ("form-action", '<form action="javascript:__xss({n})"><button>go</button></form>'),
        ("formaction", '<button formaction="javascript:__xss({n})">go</button>'),
        ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:__xss({n})">'),
        ("base-href", '<base href="javascript:__xss({n})//">'),
        ("a-js", '<a href="javascript:__xss({n})">link</a>'),
        ("a-js-case", '<A HREF="JaVaScRiPt:__xss({n})">link</A>'),
        ("a-js-space", '<a href=" javascript:__xss({n})">link</a>'),
        ("a-js-tab-entity", '<a href="java&#x09;script:__xss({n})">link</a>'),
        ("a-js-newline-entity", '<a href="jav&#x0A;ascript:__xss({n})">link</a>'),
        (
            "a-js-decimal",
            '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;__xss({n})">'
            "l</a>",
        ),
        ("a-js-zero-width", '<a href="java\u200bscript:__xss({n})">link</a>'),
        ("a-data", '<a href="data:text/html,<script>__xss({n})</script>">link</a>'),
        ("a-vbscript", '<a href="vbscript:msgbox({n})">link</a>'),
        ("md-link-js", "[link](javascript:__xss({n}))"),
        ("md-link-js-tab", "[link](java&#x09;script:__xss({n}))"),
        ("md-link-js-zero-width", "[link](java\u200bscript:__xss({n}))"),
        ("md-link-js-entity", "[link](&#106;avascript:__xss({n}))"),
        ("md-link-data", "[link](data:text/html;base64,PHNjcmlwdD5fX3hzcygxKTwvc2NyaXB0Pg==)"),
        ("md-image-js", "![pic](javascript:__xss({n}))"),
        ("md-image-data", "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9X194c3MoMSk+)"),
        ("md-autolink-js", "<javascript:__xss({n})>"),
        ("md-reference-js", "[link][r{n}]\n\n[r{n}]: javascript:__xss({n})"),
        ("md-title-breakout", '[link](https://example.org "t\\" onmouseover=__xss({n}) x=\\"")'),
        ("md-code", "`<script>__xss({n})</script>`"),
        ("md-html-block", "<div>\n<img src=x onerror=__xss({n})>\n</div>"),
        ("mxss-noscript", '<noscript><p title="</noscript><img src=x onerror=__xss({n})>">'),
        ("mxss-math", "<math><mtext><table><mglyph><style><img src=x onerror=__xss({n})>"),
        ("mxss-svg-style", '<svg></p><style><a id="</style><img src=1 onerror=__xss({n})>">'),
        ("mxss-comment", '<!--<img src="--><img src=x onerror=__xss({n})//">'),
        ("mxss-textarea", "</textarea><script>__xss({n})</script>"),
        ("mxss-title", "</title><script>__xss({n})</script>"),
        ("broken-tag", "<<img src=x onerror=__xss({n})//"),
        ("broken-attribute", '<a href="https://example.org" title="x><script>__xss({n})</script>'),
        ("style-attribute", '<div style="background:url(javascript:__xss({n}))">styled</div>'),
        ("css-expression", '<span style="width:expression(__xss({n}))">styled</span>'),
        ("style-tag", "<style>@import 'javascript:__xss({n})';body{{display:none}}</style>"),
        ("fullwidth", "\uff1cscript\uff1e__xss({n})\uff1c/script\uff1e"),
        ("rtl-override", "\u202e<script>__xss({n})</script>\u202c"),
        ("zero-width-tag", "<scr\u200bipt>__xss({n})</scr\u200bipt>"),
        ("entity-script", "&lt;script&gt;__xss({n})&lt;/script&gt;"),
        ("double-entity-script", "&amp;lt;script&amp;gt;__xss({n})&amp;lt;/script&amp;gt;"),
        ("template-jinja", "tpl{{{{7*7}}}}tpl"),
        ("template-raw", "tpl{{% raw %}}{{{{7*7}}}}{{% endraw %}}tpl"),
        ("template-dollar", "tpl${{7*7}}tpl #{{7*7}} <%= 7*7 %>"),
        ("breakout-double", '"><img src=x onerror=__xss({n})>'),
        ("breakout-single", "' autofocus onfocus=__xss({n}) x='"),
        ("breakout-double-autofocus", '" autofocus onfocus="__xss({n})" x="'),
        ("breakout-backtick", "`><img src=x onerror=__xss({n})>"),
        ("crlf", "line one\r\nBcc: victim@example.org\r\n\r\n<script>__xss({n})</script>"),
    ]
    return [Payload(name, text.format(n=n)) for n, (name, text) in enumerate(shapes, start=1)]


PAYLOADS: list[Payload] = _corpus()


def bundles(payloads: list[Payload], limit: int) -> list[list[Payload]]:
    """The payloads in groups whose texts, a blank line apart, take at most ``limit`` characters.

    A field then carries several payloads at once, so that a site needs a few dozen rows,
    not one per payload per field; the blank line keeps Markdown blocks apart.
    """
    groups: list[list[Payload]] = []
    for payload in payloads:
        assert len(payload.text) <= limit, payload.name
        if groups and len(joined(groups[-1])) + 2 + len(payload.text) <= limit:
            groups[-1].append(payload)
        else:
            groups.append([payload])
    return groups


def joined(payloads: list[Payload]) -> str:
    """The texts of payloads, a blank line apart."""
    return "\n\n".join(p.text for p in payloads)


def texts(payloads: list[Payload], limit: int) -> list[str]:
    """The payloads as texts of at most ``limit`` characters each (see ``bundles``)."""
    return [joined(group) for group in bundles(payloads, limit)]


# What a template engine would make of the template payloads if it evaluated them.
EVALUATED = ("tpl49tpl",)

# Join links for live sessions: each is refused, or kept as an inert https address.
JOIN_LINKS = [
    "javascript:__xss(1)",
    "JaVaScRiPt:__xss(2)",
    " javascript:__xss(3)",
    "java\tscript:__xss(4)",
    "javascript://example.org/%0a__xss(5)",
    "data:text/html,<script>__xss(6)</script>",
    "vbscript:msgbox(7)",
    'https://meet.example.org/" onmouseover="__xss(8)" x="',
    "https://meet.example.org/<script>__xss(9)</script>",
    "https://meet.example.org/?'><img src=x onerror=__xss(10)>",
    "https://meet.example.org/x\r\nATTACH:https://evil.example/x\r\nX-INJECTED:1",
]
