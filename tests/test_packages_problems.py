"""Every problem a package can have is reported with its file, line and what to do."""

from __future__ import annotations

import pytest

from lms.packages import Limits
from tests.fixtures.packages.edits import (
    APPENDED,
    L1,
    L2,
    MODULE,
    append,
    both,
    described,
    lesson1,
    lesson2,
    manifest,
    problems_of,
    remove,
    write,
)
from tests.fixtures.packages.kit import PNG, copy_package

ERRORS = [
    # --- module.yaml ---
    ("no-manifest", remove(MODULE), "", "module.yaml is missing: a package has a module.yaml"),
    (
        "yaml-syntax",
        manifest("title: Listening circles", "title: [Listening circles"),
        "module.yaml:5",
        "this is not valid YAML",
    ),
    (
        "yaml-alias",
        manifest("authors:\n", "shared: &who [A]\nauthors:\n"),
        "module.yaml:9",
        "YAML anchors and aliases (& and *) are not supported",
    ),
    (
        "duplicate-key",
        manifest("language: en", "language: en\ntitle: Again"),
        "module.yaml:8",
        'the key "title" appears twice',
    ),
    ("not-a-mapping", write(MODULE, "- a list\n- of things\n"), "module.yaml:1", "keys and values"),
    (
        "missing-key",
        manifest("license: CC-BY-4.0\n", ""),
        "module.yaml:2",
        '"license" is missing; add a line such as: license: CC-BY-4.0',
    ),
    (
        "unknown-key-suggested",
        manifest("title:", "titel:"),
        "module.yaml:4",
        '"titel" is not a known key; did you mean "title"?',
    ),
    (
        "unknown-key",
        manifest("sequence: linear", "sequence: linear\ncolour: blue"),
        "module.yaml:14",
        '"colour" is not a known key here; the known keys are: format, slug',
    ),
    (
        "format",
        manifest("format: 1", "format: 2"),
        "module.yaml:2",
        'this package says "format: 2"; this site reads packages of "format: 1"',
    ),
    (
        "slug",
        manifest("slug: listening-circles", "slug: Listening Circles"),
        "module.yaml:3",
        '"slug" may hold only lower-case letters a-z, digits and hyphens, such as '
        '"listening-circles"',
    ),
    (
        "version-number",
        manifest('version: "1.0.0"', "version: 1.0"),
        "module.yaml:5",
        "version 1.0 reads as a number; write it in quotes as a semantic version, such as: "
        'version: "1.0.0"',
    ),
    (
        "version",
        manifest('version: "1.0.0"', "version: one"),
        "module.yaml:5",
        'version "one" is not a semantic version such as 1.0.0',
    ),
    (
        "language",
        manifest("language: en", "language: English language"),
        "module.yaml:7",
        'language "English language" is not a language tag such as en, fr or pt-BR',
    ),
    (
        "license",
        manifest("license: CC-BY-4.0", "license: CC BY please"),
        "module.yaml:8",
        'license "CC BY please" is not an SPDX licence id',
    ),
    (
        "authors",
        manifest("authors:\n  - Amina Yusuf\n  - Tomás Ribeiro", "authors: []"),
        "module.yaml:9",
        '"authors" lists the authors\' names',
    ),
    (
        "minutes-manifest",
        manifest("estimated_minutes: 35", "estimated_minutes: about an hour"),
        "module.yaml:12",
        '"estimated_minutes" must be a whole number (0 or more)',
    ),
    (
        "sequence",
        manifest("sequence: linear", "sequence: random"),
        "module.yaml:13",
        '"sequence" is "linear" (each lesson opens when the one before it is complete) or '
        '"open", not "random"',
    ),
    ("title-empty", manifest("title: Listening circles", 'title: ""'), "module.yaml:4", "empty"),
    (
        "title-long",
        manifest("title: Listening circles", "title: " + "x" * 201),
        "module.yaml:4",
        '"title" is longer than 200 characters; shorten it',
    ),
    (
        "title-not-text",
        manifest("title: Listening circles", "title: [a, b]"),
        "module.yaml:4",
        '"title" must be text',
    ),
    (
        "lessons-not-a-list",
        manifest("sequence: linear", "sequence: linear\nlessons: all of them"),
        "module.yaml:14",
        '"lessons" is a list of the lesson files in order',
    ),
    (
        "lessons-unknown",
        manifest("sequence: linear", "sequence: linear\nlessons: [01-why-listen.md, nope.md]"),
        "module.yaml:14",
        'the lessons list names "nope.md", but there is no such file in lessons/',
    ),
    (
        "lessons-twice",
        manifest(
            "sequence: linear",
            "sequence: linear\nlessons:\n  - why-listen\n  - 01-why-listen.md\n"
            "  - holding-a-circle",
        ),
        "module.yaml:16",
        '"01-why-listen.md" is in the lessons list twice',
    ),
    (
        "lessons-missing",
        manifest("sequence: linear", "sequence: linear\nlessons: [01-why-listen.md]"),
        L2,
        'this lesson is not in the "lessons" list of module.yaml',
    ),
    (
        "attachments-not-a-list",
        manifest(
            "attachments:\n  - path: attachments/circle-guide.txt\n"
            "    title: A one-page guide to listening circles",
            "attachments: circle-guide.txt",
        ),
        "module.yaml:14",
        '"attachments" is a list of files in attachments/',
    ),
    # --- lessons ---
    ("no-lessons", remove("lessons"), "", "the package has no lessons"),
    ("not-markdown", write("lessons/03-extra.txt", "text"), "lessons/03-extra.txt", "(.md files)"),
    (
        "nested-lesson",
        write("lessons/more/03.md", "---\nslug: x\n---\n"),
        "lessons/more/03.md",
        "lessons are files directly inside lessons/",
    ),
    (
        "no-front-matter",
        write("lessons/03-x.md", "# Just a heading\n"),
        "lessons/03-x.md:1",
        "a lesson starts with its front matter: a line with ---",
    ),
    (
        "unclosed-front-matter",
        write("lessons/03-x.md", "---\nslug: x\ntitle: X\n"),
        "lessons/03-x.md:1",
        "the front matter that starts on line 1 is never closed",
    ),
    (
        "front-matter-not-mapping",
        write("lessons/03-x.md", "---\n- a\n---\nText\n"),
        "lessons/03-x.md:2",
        "the front matter holds keys and values",
    ),
    (
        "lesson-yaml-syntax",
        lesson2("minutes: 20", "minutes: [20"),
        f"{L2}:5",
        "this is not valid YAML",
    ),
    (
        "lesson-slug-missing",
        lesson2("slug: holding-a-circle\n", ""),
        f"{L2}:2",
        '"slug" is missing',
    ),
    (
        "lesson-slug-twice",
        lesson2("slug: holding-a-circle", "slug: why-listen"),
        f"{L2}:2",
        'lesson slug "why-listen" is also used by lessons/01-why-listen.md; each lesson needs '
        "its own slug",
    ),
    (
        "lesson-minutes",
        lesson2("minutes: 20", "minutes: -5"),
        f"{L2}:4",
        '"minutes" must be a whole number (0 or more), such as: minutes: 20',
    ),
    (
        "lesson-unknown-key",
        lesson2("minutes: 20", "minutes: 20\nprompt: x"),
        f"{L2}:5",
        '"prompt" is not a known key; did you mean "prompts"?',
    ),
    (
        "prompts-not-a-list",
        lesson2("prompts:", "prompts: one\nx:"),
        f"{L2}:5",
        '"prompts" is a list',
    ),
    (
        "prompt-not-mapping",
        lesson2("  - id: plan", "  - just a question\n  - id: plan"),
        f"{L2}:6",
        "each prompt has an id and a text",
    ),
    (
        "prompt-text-missing",
        lesson2('    text: "Plan a first circle', '    txt: "Plan a first circle'),
        f"{L2}:6",
        '"text" is missing; add a line such as: text: "What did you notice?"',
    ),
    (
        "prompt-id-twice",
        lesson1("id: hard-to-hear", "id: last-time-heard"),
        f"{L1}:11",
        'prompt id "last-time-heard" is used twice in this lesson',
    ),
    (
        "prompt-id-shape",
        lesson2("id: plan", "id: Plan A"),
        f"{L2}:6",
        'prompt id "Plan A" may hold only lower-case letters a-z, digits, hyphens and underscores',
    ),
    (
        "prompt-required",
        lesson2("accepts_files: true", "accepts_files: sometimes"),
        f"{L2}:8",
        '"accepts_files" must be true or false',
    ),
    (
        "lesson-not-utf8",
        write("lessons/03-x.md", "---\nslug: x\ntitle: Café\n---\n".encode("latin-1")),
        "lessons/03-x.md:3",
        "this file is not UTF-8 text; save it again choosing the UTF-8 encoding",
    ),
    # --- attachments and media ---
    (
        "attachment-missing",
        lesson1("attachments/listening-worksheet.pdf", "attachments/Listening-Worksheet.pdf"),
        f"{L1}:6",
        'attachment "attachments/Listening-Worksheet.pdf" is not in the package',
    ),
    (
        "attachment-outside",
        lesson1("attachments/listening-worksheet.pdf", "media/circle.png"),
        f"{L1}:6",
        'attachment "media/circle.png" is not inside attachments/',
    ),
    (
        "attachment-traversal",
        lesson1("attachments/listening-worksheet.pdf", "attachments/../module.yaml"),
        f"{L1}:6",
        "is not inside attachments/",
    ),
    (
        "attachment-twice",
        lesson2("prompts:", "attachments: [attachments/listening-worksheet.pdf]\nprompts:"),
        f"{L2}:5",
        '"attachments/listening-worksheet.pdf" is already attached by lessons/01-why-listen.md',
    ),
    (
        "attachment-shape",
        lesson2("prompts:", "attachments: [42]\nprompts:"),
        f"{L2}:5",
        "each attachment is a file path, or a path and a title",
    ),
    (
        "attachment-program",
        write("attachments/listening-worksheet.pdf", b"MZ\x90\x00" + b"\x00" * 64),
        "attachments/listening-worksheet.pdf",
        '"listening-worksheet.pdf" is a Windows program, not a PDF document: programs are '
        "never accepted",
    ),
    (
        "attachment-mismatch",
        write("attachments/listening-worksheet.pdf", PNG),
        "attachments/listening-worksheet.pdf",
        "is named like a PDF document but is a PNG image inside",
    ),
    (
        "attachment-type",
        both(
            write("attachments/page.html", "<p>hi</p>"),
            lesson2("prompts:", "attachments: [attachments/page.html]\nprompts:"),
        ),
        "attachments/page.html",
        '"page.html": files of type .html are not accepted here',
    ),
    (
        "media-type",
        write("media/drawing.svg", "<svg/>"),
        "media/drawing.svg",
        '"drawing.svg": files of type .svg are not accepted here (accepted: .gif, .jpg',
    ),
    (
        "media-document",
        write("media/notes.pdf", b"%PDF-1.4\n"),
        "media/notes.pdf",
        "files of type .pdf are not accepted here",
    ),
    (
        "ignored-program",
        write("tools/setup.sh", "#!/bin/sh\necho hi\n"),
        "tools/setup.sh",
        '"setup.sh" is a script: programs and web pages are never accepted, not even in files '
        "that are not imported",
    ),
    (
        "unlisted-web-page",
        write("attachments/worksheet.html", "<!DOCTYPE html><p>Fill me in</p>"),
        "attachments/worksheet.html",
        '"worksheet.html" is a web page: programs and web pages are never accepted',
    ),
    (
        "web-page-by-any-name",
        write("extras/handout.txt", "\n  <HTML><body onload=alert(1)>"),
        "extras/handout.txt",
        '"handout.txt" is a web page: programs and web pages are never accepted',
    ),
    (
        "unlisted-script",
        write("attachments/quiz.js", "alert(1)"),
        "attachments/quiz.js",
        '"quiz.js" is a web page: programs and web pages are never accepted',
    ),
    # --- lesson text ---
    (
        "nul-character",
        append("Pasted from a document:\x00 here"),
        f"{L2}:{APPENDED}",
        "this line holds an invisible NUL character (U+0000)",
    ),
    (
        "script",
        append("<script>alert('hi')</script>"),
        f"{L2}:{APPENDED}",
        "<script> is not allowed in a lesson; remove it",
    ),
    (
        "event-handler",
        append('Text <span onclick="steal()">here</span>'),
        f"{L2}:{APPENDED}",
        'the "onclick" attribute on <span> would run a script; remove it',
    ),
    (
        "javascript-link",
        append("[Win a prize](javascript:alert(document.cookie))"),
        f"{L2}:{APPENDED}",
        'the address "javascript:alert(document.cookie)" is not allowed: links start with '
        "https://, http:// or mailto:",
    ),
    (
        "disguised-javascript-link",
        append('<a href="java&#x09;script:alert(1)">Win</a>'),
        f"{L2}:{APPENDED}",
        "is not allowed: links start with https://",
    ),
    (
        "iframe-host",
        append('<iframe src="https://evil.example/player"></iframe>'),
        f"{L2}:{APPENDED}",
        "videos can be embedded only from youtube-nocookie.com or player.vimeo.com",
    ),
    (
        "external-image",
        append("![Tracker](https://tracker.example/pixel.png)"),
        f"{L2}:{APPENDED}",
        '"https://tracker.example/pixel.png" is on another site; images and sound are shown only '
        "from the package's media/ folder",
    ),
    (
        "protocol-relative",
        append("[Elsewhere](//example.org/page)"),
        f"{L2}:{APPENDED}",
        'write web addresses in full, starting with https:// (not "//example.org/page")',
    ),
    (
        "site-path",
        append("[Admin](/admin/people)"),
        f"{L2}:{APPENDED}",
        '"/admin/people" points into this site',
    ),
    (
        "missing-media",
        append("![Map](../media/map.png)"),
        f"{L2}:{APPENDED}",
        '"media/map.png" is not in the package; add it to media/ or correct the link',
    ),
    (
        "attachment-link",
        append("[Worksheet](../attachments/circle-guide.txt)"),
        f"{L2}:{APPENDED}",
        'links to an attachment; list it under "attachments" in the front matter instead',
    ),
    (
        "other-local-link",
        append("[Next lesson](03-next.md)"),
        f"{L2}:{APPENDED}",
        '"03-next.md" is not a web address nor a file in media/',
    ),
]


@pytest.mark.parametrize(
    ("edit", "location", "message"),
    [pytest.param(e, loc, msg, id=name) for name, e, loc, msg in ERRORS],
)
def test_each_problem_is_reported_with_its_place_and_what_to_do(tmp_path, edit, location, message):
    package = copy_package(tmp_path)
    edit(package)
    problems = problems_of(package)
    matching = [p for p in problems if p.location == location and message in p.translated()]
    assert matching, f"expected {location}: ...{message}... in:\n{described(problems)}"
    assert not matching[0].warning


def test_a_text_file_over_the_limit_is_not_read(tmp_path):
    package = copy_package(tmp_path)
    (package / L2).write_text((package / L2).read_text() + "x" * 2000)
    problems = problems_of(package, Limits(max_lesson_bytes=1000))
    assert [str(p) for p in problems] == [
        f"{L2}: this text file is 2 KB; a text file of a package may be at most 1 KB."
    ]
