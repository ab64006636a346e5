"""A valid package reads into plain data; warnings, and every problem at once, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.packages import validate_path
from tests.fixtures.packages.edits import (
    APPENDED,
    L1,
    L2,
    MODULE,
    append,
    described,
    problems_of,
    write,
)
from tests.fixtures.packages.kit import copy_package, replace, write_lesson

WARNINGS = [
    ("unused-attachment", write("attachments/extra.pdf", b"%PDF-1.4\n"), "attachments/extra.pdf",
     "this file is not listed in module.yaml or in any lesson; it is not imported"),
    ("stray-file", write("notes.docx", b"anything"), "notes.docx",
     "this file is not part of a package; it is ignored"),
    ("dropped-attribute", append('<span style="color:red">red</span>'), f"{L2}:{APPENDED}",
     'the "style" attribute on <span> is removed when the lesson is shown'),
    ("empty-lesson", write("lessons/03-empty.md", "---\nslug: empty\ntitle: E\nminutes: 1\n---\n"),
     "lessons/03-empty.md:6", "this lesson has no text after its front matter"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "location", "message"),
    [pytest.param(e, loc, msg, id=name) for name, e, loc, msg in WARNINGS],
)
def test_warnings_are_reported_but_do_not_stop_an_import(tmp_path, edit, location, message):
    package = copy_package(tmp_path)
    edit(package)
    warnings = validate_path(package).warnings
    assert any(p.location == location and message in p.translated() for p in warnings), described(
        list(warnings)
    )


def test_every_problem_is_reported_at_once_in_reading_order(tmp_path):
    package = copy_package(tmp_path)
    replace(package / MODULE, 'version: "1.0.0"', "version: soon")
    replace(package / L1, "id: hard-to-hear", "id: last-time-heard")
    append("<script>x()</script>")(package)
    (package / "attachments" / "listening-worksheet.pdf").write_bytes(b"MZ")
    problems = problems_of(package)
    assert [p.location for p in problems] == [
        "module.yaml:5",
        "attachments/listening-worksheet.pdf",
        f"{L1}:11",
        f"{L2}:{APPENDED}",
    ]
    assert str(problems[2]) == (
        f'{L1}:11: prompt id "last-time-heard" is used twice in this lesson; give each prompt its '
        "own id."
    )


def test_the_valid_fixture_reads_into_plain_data():
    package = validate_path(Path(__file__).parent / "fixtures" / "packages" / "minimal")
    assert package.slug == "listening-circles"
    assert package.version == "1.0.0"
    assert [lesson.slug for lesson in package.lessons] == ["why-listen", "holding-a-circle"]
    assert [p.key for p in package.lessons[0].prompts] == ["last-time-heard", "hard-to-hear"]
    assert package.lessons[0].prompts[1].required is False
    assert package.lessons[1].prompts[0].accepts_files is True
    assert [a.path for a in package.attachments] == ["attachments/circle-guide.txt"]
    assert package.lessons[0].attachments[0].title == "Listening worksheet (PDF)"
    assert [m.path for m in package.media] == ["media/circle.png"]
    assert package.warnings == ()


def test_lesson_order_follows_the_list_in_module_yaml(tmp_path):
    package = copy_package(tmp_path)
    replace(
        package / MODULE,
        "sequence: linear",
        "sequence: linear\nlessons:\n  - holding-a-circle\n  - lessons/01-why-listen.md",
    )
    assert [lesson.slug for lesson in validate_path(package).lessons] == [
        "holding-a-circle",
        "why-listen",
    ]


def test_attachment_paths_may_leave_out_the_folder_and_the_title(tmp_path):
    package = copy_package(tmp_path)
    write_lesson(
        package,
        "03-more.md",
        "slug: more\ntitle: More\nminutes: 5\nattachments: [extra.pdf]",
    )
    (package / "attachments" / "extra.pdf").write_bytes(b"%PDF-1.4\n")
    lesson = validate_path(package).lessons[2]
    assert [(a.path, a.title) for a in lesson.attachments] == [
        ("attachments/extra.pdf", "extra.pdf")
    ]


def test_windows_line_endings_and_a_byte_order_mark_are_fine(tmp_path):
    package = copy_package(tmp_path)
    path = package / L2
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert validate_path(package).lessons[1].title == "Holding a circle"


def test_a_zip_with_a_top_folder_reads_like_the_folder(tmp_path):
    from tests.fixtures.packages.kit import MINIMAL, zip_folder

    zipped = zip_folder(MINIMAL, tmp_path / "p.zip", top="listening-circles")
    from_zip = validate_path(zipped)
    from_folder = validate_path(MINIMAL)
    assert from_zip.sha256 == from_folder.sha256
    assert from_zip.lessons == from_folder.lessons
