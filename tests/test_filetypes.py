"""Files are accepted by what they are, not by what they are called."""

from __future__ import annotations

import io
import zipfile

import pytest

from lms import filetypes
from lms.filetypes import (
    LEARNER_FILE_TYPES,
    MEDIA_TYPES,
    UnsupportedFileError,
    check_not_program,
    detect,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40
MP3 = b"ID3\x04\x00" + b"\x00" * 40
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 40
OGG = b"OggS\x00\x02" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40
M4A = b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 40
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 20
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)


def docx(macros: bool = False, document: bytes = b"<w:document/>") -> bytes:
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    if macros:
        main = "application/vnd.ms-word.document.macroEnabled.main+xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<Types><Override PartName="/word/document.xml" ContentType="{main}"/></Types>',
        )
        archive.writestr("word/document.xml", document)
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00macro")
    return buffer.getvalue()


def odt(
    mimetype: str = "application/vnd.oasis.opendocument.text",
    macros=False,
    content: bytes = b"<office:document-content/>",
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        archive.writestr("content.xml", content)
        if macros:
            archive.writestr("Basic/Standard/Module1.xml", "<script/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected", "content_type"),
    [
        ("worksheet.pdf", PDF, "pdf", "application/pdf"),
        ("plan.docx", docx(), "docx", filetypes.TYPES["docx"].content_type),
        ("plan.odt", odt(), "odt", "application/vnd.oasis.opendocument.text"),
        (
            "notes.txt",
            "Plain words, accents: é ü ñ.\n".encode(),
            "txt",
            "text/plain; charset=utf-8",
        ),
        ("notes.md", b"# A heading\n\nSome *Markdown*.\n", "md", "text/markdown; charset=utf-8"),
        ("table.csv", b"name,score\nA,1\n", "csv", "text/csv; charset=utf-8"),
        ("map.png", PNG, "png", "image/png"),
        ("photo.JPG", JPG, "jpg", "image/jpeg"),
        ("photo.jpeg", JPG, "jpg", "image/jpeg"),
        ("anim.gif", GIF, "gif", "image/gif"),
        ("pic.webp", WEBP, "webp", "image/webp"),
        ("story.mp3", MP3, "mp3", "audio/mpeg"),
        ("story.mp3", MP3_FRAME, "mp3", "audio/mpeg"),
        ("story.ogg", OGG, "ogg", "audio/ogg"),
        ("story.m4a", M4A, "m4a", "audio/mp4"),
        ("story.wav", WAV, "wav", "audio/wav"),
        ("clip.mp4", MP4, "mp4", "video/mp4"),
        ("clip.webm", WEBM, "webm", "video/webm"),
    ],
)
def test_accepted_types_are_recognised_by_content(name, content, expected, content_type):
    file_type = detect(io.BytesIO(content), name)
    assert file_type.name == expected
    assert file_type.content_type == content_type


def test_detect_reads_a_path_and_leaves_a_stream_where_it_was(tmp_path):
    path = tmp_path / "map.png"
    path.write_bytes(PNG)
    assert detect(path, "map.png").name == "png"
    stream = io.BytesIO(b"xx" + PNG)
    stream.seek(2)
    assert detect(stream, "map.png").name == "png"
    assert stream.tell() == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("worksheet.pdf", b"MZ\x90\x00" + b"\x00" * 60, "is a Windows program, not a PDF"),
        ("photo.jpg", b"\x7fELF\x02\x01\x01", "is a Linux program, not a JPEG photo"),
        ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "is a script, not a plain text file"),
        ("clip.mp4", b"\xcf\xfa\xed\xfe\x07\x00", "is a macOS program"),
        ("worksheet.pdf", PNG, "is named like a PDF document but is a PNG image inside"),
        ("photo.jpg", b"just some words", "is not a JPEG photo: its content was not recognised"),
        ("plan.docx", PDF, "is named like a Word document (.docx) but is a PDF document inside"),
        ("plan.docx", odt(), "is not a Word document (.docx)"),
        ("plan.odt", docx(), "is not an OpenDocument text (.odt)"),
        ("plan.odt", odt("application/vnd.oasis.opendocument.spreadsheet"), "is not an OpenDoc"),
        ("plan.docx", docx(macros=True), "contains macros"),
        ("plan.odt", odt(macros=True), "contains macros"),
        ("plan.docx", b"PK\x03\x04broken", "is not a Word document (.docx)"),
        ("plan.docx", docx(document=BILLION_LAUGHS), "declares XML entities"),
        ("plan.odt", odt(content=BILLION_LAUGHS), "declares XML entities"),
        (
            "plan.odt",
            odt(content=b'<?xml version="1.0"?>\n<!doctype x SYSTEM "file:///etc/passwd">'),
            "declares XML entities",
        ),
        ("notes.txt", b"caf\xe9 latin-1", "is not text in UTF-8"),
        ("notes.csv", b"a,b\x00c", "contains binary data"),
        ("notes.txt", b"  <!DOCTYPE html><script>alert(1)</script>", "contains a web page"),
        ("notes.md", b"<svg onload=alert(1)>", "contains a web page or SVG drawing"),
        ("page.html", b"<p>hello</p>", "files of type .html are not accepted"),
        ("logo.svg", b"<svg/>", "files of type .svg are not accepted"),
        ("app.js", b"alert(1)", "files of type .js are not accepted"),
        ("setup.exe", b"MZ", "files of type .exe are not accepted"),
        ("worksheet.pdf.exe", PDF, "files of type .exe are not accepted"),
        ("README", b"text", "has no file extension"),
    ],
)
def test_refused_files_say_why(name, content, message):
    with pytest.raises(UnsupportedFileError) as caught:
        detect(io.BytesIO(content), name)
    assert message in str(caught.value)


def _zip_of(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


# Files that pass a magic-byte check but open as something else in another program.
POLYGLOTS = [
    # A GIF whose header is also JavaScript, the classic way around a same-origin check.
    ("avatar.gif", b"GIF89a/*\x00\x00*/=1;<script>alert(1)</script>", "hides a web page"),
    ("photo.jpg", JPG + b"<html><body onload=alert(1)>", "hides a web page"),
    ("map.png", PNG + b"<SVG onload=alert(1)>", "hides a web page"),
    ("worksheet.pdf", PDF + b"<iframe src=javascript:alert(1)>", "hides a web page"),
    # A picture with a zip appended: unzips into whatever it carries (GIFAR, JPEG+JAR).
    ("photo.jpg", JPG + b"\x00" * 5000 + _zip_of("run.exe", b"MZ"), "hides a zip archive"),
    ("story.mp3", MP3 + _zip_of("a.js", b"alert(1)"), "hides a zip archive"),
    # PDFs that run code in a reader, plainly or with their names escaped.
    ("worksheet.pdf", PDF + b"<< /S /JavaScript /JS (app.alert(1)) >>", "PDF with scripts"),
    ("worksheet.pdf", PDF + b"<< /OpenAction << /S /Launch /F (cmd.exe) >> >>", "PDF with"),
    ("worksheet.pdf", PDF + b"<< /Type /EmbeddedFile >>", "embedded files"),
    ("worksheet.pdf", PDF + b"<< /S /J#61vaScript /JS (1) >>", "PDF with scripts"),
    # The marker straddles the 1 MB chunks the scan reads.
    ("worksheet.pdf", PDF + b" " * (1024 * 1024 - len(PDF) - 4) + b"/JavaScript", "PDF with"),
]


@pytest.mark.parametrize(("name", "content", "message"), POLYGLOTS)
def test_polyglots_are_refused(name, content, message):
    with pytest.raises(UnsupportedFileError) as caught:
        detect(io.BytesIO(content), name)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "content",
    [PDF + b"<< /Type /Page /Contents 4 0 R >> /JSONish /JSX /Launcher", PDF],
)
def test_plain_pdfs_with_look_alike_names_are_accepted(content):
    assert detect(io.BytesIO(content), "worksheet.pdf").name == "pdf"


def test_an_allowlist_narrows_what_is_accepted():
    with pytest.raises(UnsupportedFileError, match=r"\.pdf are not accepted here \(accepted: "):
        detect(io.BytesIO(PDF), "worksheet.pdf", MEDIA_TYPES)
    assert detect(io.BytesIO(PNG), "map.png", MEDIA_TYPES).inline
    assert not detect(io.BytesIO(PDF), "w.pdf", LEARNER_FILE_TYPES).inline


def test_messages_translate_with_the_descriptions_inside():
    with pytest.raises(UnsupportedFileError) as caught:
        detect(io.BytesIO(PNG), "worksheet.pdf")
    translated = caught.value.translated(lambda s: f"«{s}»")
    assert "«a PDF document»" in translated
    assert "«a PNG image»" in translated
    assert translated.startswith('«"worksheet.pdf" is named like')


def test_the_old_name_of_the_error_still_works():
    assert filetypes.UnsupportedFile is UnsupportedFileError


def test_programs_are_refused_whatever_their_name():
    check_not_program(io.BytesIO(b"plain words"), "README")
    with pytest.raises(UnsupportedFileError, match="programs and web pages are never accepted"):
        check_not_program(io.BytesIO(b"MZ\x90\x00"), "notes.txt")


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"<!doctype html><p>x", "page.txt"), (b"\xef\xbb\xbf  <svg onload=x>", "a"),
     (b"plain words", "page.html"), (b"plain", "drawing.SVG"), (b"x=1", "app.mjs")],
)  # fmt: skip
def test_web_pages_are_refused_whatever_their_name(content, name):
    with pytest.raises(UnsupportedFileError, match="is a web page"):
        check_not_program(io.BytesIO(content), name)
