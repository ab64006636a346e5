"""What a file really is: its type from its content (magic bytes) checked against its name.

One allowlist for every file the app accepts: module attachments and media, and
learners' uploads. A file is accepted only when its extension is on the list *and*
its content is what the extension says; programs, web pages, SVG and scripts are
never accepted, whatever they are called.

    try:
        file_type = filetypes.detect(upload.stream, upload.filename, LEARNER_FILE_TYPES)
    except filetypes.UnsupportedFileError as error:
        flash(error.translated(gettext), "error")

Messages are English msgids with ``%(name)s`` parameters, marked with ``N_`` for
extraction and translated where they are shown (``error.translated(gettext)``), so
this module needs no request or app.
"""

from __future__ import annotations

import codecs
import io
import os
import posixpath
import re
import zipfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

HEAD_BYTES = 4096
CHUNK_BYTES = 1024 * 1024
# Office files are zips: bounds for looking inside one (a zip bomb must not hurt here).
MAX_OFFICE_ENTRIES = 10_000
MAX_OFFICE_MANIFEST_BYTES = 1024 * 1024


def N_(message: str) -> str:  # noqa: N802  (the conventional gettext marker name)
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: its name, MIME type, extensions and category."""

    name: str
    content_type: str
    extensions: tuple[str, ...]
    category: str  # document, text, image, audio or video
    description: str

    @property
    def inline(self) -> bool:
        """True when a browser may show it in the page: raster images, audio, video."""
        return self.category in ("image", "audio", "video")


_TYPES = (
    FileType("pdf", "application/pdf", (".pdf",), "document", N_("a PDF document")),
    FileType(
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
        "document",
        N_("a Word document (.docx)"),
    ),
    FileType(
        "odt",
        "application/vnd.oasis.opendocument.text",
        (".odt",),
        "document",
        N_("an OpenDocument text (.odt)"),
    ),
    FileType("txt", "text/plain; charset=utf-8", (".txt",), "text", N_("a plain text file")),
    FileType("md", "text/markdown; charset=utf-8", (".md",), "text", N_("a Markdown text file")),
    FileType("csv", "text/csv; charset=utf-8", (".csv",), "text", N_("a CSV table")),
    FileType("png", "image/png", (".png",), "image", N_("a PNG image")),
    FileType("jpg", "image/jpeg", (".jpg", ".jpeg"), "image", N_("a JPEG photo")),
    FileType("gif", "image/gif", (".gif",), "image", N_("a GIF image")),
    FileType("webp", "image/webp", (".webp",), "image", N_("a WebP image")),
    FileType("mp3", "audio/mpeg", (".mp3",), "audio", N_("an MP3 recording")),
    FileType("ogg", "audio/ogg", (".ogg", ".oga"), "audio", N_("an Ogg recording")),
    FileType("m4a", "audio/mp4", (".m4a",), "audio", N_("an M4A recording")),
    FileType("wav", "audio/wav", (".wav",), "audio", N_("a WAV recording")),
    FileType("mp4", "video/mp4", (".mp4",), "video", N_("an MP4 video")),
    FileType("webm", "video/webm", (".webm",), "video", N_("a WebM video")),
)

TYPES: dict[str, FileType] = {t.name: t for t in _TYPES}
_BY_EXTENSION: dict[str, FileType] = {ext: t for t in _TYPES for ext in t.extensions}

#: What a module package may carry as attachments (files learners download).
ATTACHMENT_TYPES = frozenset(TYPES)
#: What a lesson may show inside its page: raster images, sound and video.
MEDIA_TYPES = frozenset(t.name for t in _TYPES if t.inline)
#: What a learner may attach to a reflection.
LEARNER_FILE_TYPES = frozenset(TYPES)

# The container each type's content must be; zip-based office files are told apart later.
_CONTAINER = {
    "pdf": "pdf",
    "docx": "zip",
    "odt": "zip",
    "png": "png",
    "jpg": "jpg",
    "gif": "gif",
    "webp": "webp",
    "mp3": "mp3",
    "ogg": "ogg",
    "m4a": "mp4",
    "mp4": "mp4",
    "wav": "wav",
    "webm": "webm",
}

_PROGRAMS = (
    (b"MZ", N_("a Windows program")),
    (b"\x7fELF", N_("a Linux program")),
    (b"#!", N_("a script")),
    (b"\xfe\xed\xfa\xce", N_("a macOS program")),
    (b"\xfe\xed\xfa\xcf", N_("a macOS program")),
    (b"\xce\xfa\xed\xfe", N_("a macOS program")),
    (b"\xcf\xfa\xed\xfe", N_("a macOS program")),
    (b"\xca\xfe\xba\xbe", N_("a program")),
)
_MARKUP = (b"<script", b"<html", b"<!doctype", b"<svg", b"<iframe", b"<body", b"<object")
_ZIP_TAIL_BYTES = 64 * 1024 + 22
# The XML parts a word processor parses first; a DTD in any of them is refused.
_OFFICE_XML = frozenset(
    {
        "[Content_Types].xml",
        "word/document.xml",
        "content.xml",
        "styles.xml",
        "META-INF/manifest.xml",
    }
)
# Names of PDF actions that run code or carry files, and names hidden with #xx escapes.
_PDF_ACTIVE = re.compile(
    rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia)(?![A-Za-z0-9])"
    rb"|/[A-Za-z]*#[0-9A-Fa-f]{2}"
)
_DESCRIPTION_PARAMS = frozenset({"what", "expected"})
_WEB_PAGE_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml")
_WEB_PAGE_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".js", ".mjs")


class UnsupportedFileError(ValueError):
    """The file is not accepted; the message says why and what to do, in plain words."""

    def __init__(self, message: str, **params: str) -> None:
        self.message = message
        self.params = params
        super().__init__(self.translated())

    def translated(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message, translated by the given gettext (English without one)."""
        # Descriptions of types are messages too; names and extensions are not.
        params = {
            k: (gettext(v) if gettext and k in _DESCRIPTION_PARAMS else v)
            for k, v in self.params.items()
        }
        return (gettext(self.message) if gettext else self.message) % params


def media_type(content_type: str) -> str:
    """A stored content type without its parameters, for ``send_file``.

    Werkzeug adds ``charset=utf-8`` to text types itself: given "text/plain;
    charset=utf-8" it would send the charset twice.
    """
    return content_type.split(";", 1)[0].strip()


def type_for_name(filename: str) -> FileType | None:
    """The accepted type a file name's extension stands for, if any."""
    return _BY_EXTENSION.get(posixpath.splitext(filename.lower())[1])


def detect(
    source: str | os.PathLike[str] | BinaryIO,
    filename: str,
    allowed: Collection[str] | None = None,
) -> FileType:
    """The file's type, when its name and its content agree and the type is allowed.

    ``source`` is a path or a readable, seekable binary stream (left where it was).
    Raises UnsupportedFileError with a message a person can act on.
    """
    name = posixpath.basename(filename.replace("\\", "/")) or filename
    extension = posixpath.splitext(name.lower())[1]
    allowed_types = [TYPES[n] for n in sorted(allowed if allowed is not None else TYPES)]
    accepted = ", ".join(ext for t in allowed_types for ext in t.extensions)
    if not extension:
        raise UnsupportedFileError(
            N_(
                '"%(name)s" has no file extension; name it like "worksheet.pdf" (accepted: '
                "%(accepted)s)."
            ),
            name=name,
            accepted=accepted,
        )
    expected = _BY_EXTENSION.get(extension)
    if expected is None or expected not in allowed_types:
        raise UnsupportedFileError(
            N_(
                '"%(name)s": files of type %(extension)s are not accepted here (accepted: '
                "%(accepted)s)."
            ),
            name=name,
            extension=extension,
            accepted=accepted,
        )
    with _opened(source) as stream:
        start = stream.tell()
        try:
            _check_content(stream, name, expected)
        finally:
            stream.seek(start)
    return expected


def check_not_program(source: str | os.PathLike[str] | BinaryIO, filename: str) -> None:
    """Raise UnsupportedFileError for a program, a script or a web page, whatever its name.

    For files that are not imported: nothing of them is kept, but a package that carries
    one is not taken either (a web page among a module's files is a page's script away
    from running on this site, should it ever be served).
    """
    name = posixpath.basename(filename.replace("\\", "/")) or filename
    with _opened(source) as stream:
        start = stream.tell()
        head = stream.read(HEAD_BYTES)
        stream.seek(start)
    what = _program(head)
    if what is None and _is_web_page(name, head):
        what = N_("a web page")
    if what is not None:
        raise UnsupportedFileError(
            N_(
                '"%(name)s" is %(what)s: programs and web pages are never accepted, not even '
                "in files that are not imported."
            ),
            name=name,
            what=what,
        )


def _is_web_page(name: str, head: bytes) -> bool:
    if name.lower().endswith(_WEB_PAGE_EXTENSIONS):
        return True
    return head.removeprefix(codecs.BOM_UTF8).lstrip().lower().startswith(_WEB_PAGE_STARTS)


def _program(head: bytes) -> str | None:
    return next((what for magic, what in _PROGRAMS if head.startswith(magic)), None)


@contextmanager
def _opened(source: str | os.PathLike[str] | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            yield stream
    else:
        yield source


def _check_content(stream: BinaryIO, name: str, expected: FileType) -> None:
    head = stream.read(HEAD_BYTES)
    stream.seek(-len(head), io.SEEK_CUR)
    what = _program(head)
    if what is not None:
        raise UnsupportedFileError(
            N_('"%(name)s" is %(what)s, not %(expected)s: programs are never accepted.'),
            name=name,
            what=what,
            expected=expected.description,
        )
    if expected.category == "text":
        _check_text(stream, head, name, expected)
        return
    found = _container(head)
    if found != _CONTAINER[expected.name]:
        actual = next((t for t in _TYPES if found and _CONTAINER.get(t.name) == found), None)
        if actual is not None and found != "zip":
            raise UnsupportedFileError(
                N_(
                    '"%(name)s" is named like %(expected)s but is %(what)s inside; save it '
                    "with the right extension."
                ),
                name=name,
                expected=expected.description,
                what=actual.description,
            )
        raise UnsupportedFileError(
            N_(
                '"%(name)s" is not %(expected)s: its content was not recognised. Open it and '
                "save it again in that format."
            ),
            name=name,
            expected=expected.description,
        )
    if found == "zip":
        _check_office(stream, name, expected)
    else:
        _check_single_file(stream, head, name, expected)


def _container(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "webm"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _check_text(stream: BinaryIO, head: bytes, name: str, expected: FileType) -> None:
    start = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if start.startswith(_WEB_PAGE_STARTS):
        raise UnsupportedFileError(
            N_(
                '"%(name)s" contains a web page or SVG drawing, not %(expected)s; web pages '
                "are not accepted."
            ),
            name=name,
            expected=expected.description,
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    position = stream.tell()
    try:
        while chunk := stream.read(CHUNK_BYTES):
            if b"\x00" in chunk:
                raise UnsupportedFileError(
                    N_('"%(name)s" contains binary data, not %(expected)s.'),
                    name=name,
                    expected=expected.description,
                )
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UnsupportedFileError(
            N_('"%(name)s" is not text in UTF-8; save it again choosing the UTF-8 encoding.'),
            name=name,
        ) from None
    finally:
        stream.seek(position)


def _check_single_file(stream: BinaryIO, head: bytes, name: str, expected: FileType) -> None:
    """Refuse polyglots: a picture or a PDF that is also a web page, a zip or a script host.

    Such files pass a magic-byte check yet open as something else in another program
    (a GIF that a browser runs as script, a JPEG that unzips into a program).
    """
    lowered = head.lower()
    if any(marker in lowered for marker in _MARKUP):
        raise UnsupportedFileError(
            N_('"%(name)s" hides a web page inside %(expected)s; it is not accepted.'),
            name=name,
            expected=expected.description,
        )
    if _ends_with_zip(stream):
        raise UnsupportedFileError(
            N_(
                '"%(name)s" hides a zip archive inside %(expected)s; it is not accepted. Send '
                "the files separately."
            ),
            name=name,
            expected=expected.description,
        )
    if expected.name == "pdf" and _pdf_runs_code(stream):
        raise UnsupportedFileError(
            N_(
                '"%(name)s" is a PDF with scripts, embedded files or launch actions; print it '
                "to a new PDF and send that."
            ),
            name=name,
        )


def _ends_with_zip(stream: BinaryIO) -> bool:
    """Whether a zip's end-of-directory record sits in the last 64 KiB (where unzip looks)."""
    start = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(max(start, end - _ZIP_TAIL_BYTES))
    tail = stream.read(_ZIP_TAIL_BYTES)
    stream.seek(start)
    return b"PK\x05\x06" in tail


def _pdf_runs_code(stream: BinaryIO) -> bool:
    """Whether a PDF names an action that runs code, read in chunks that overlap by a name."""
    start = stream.tell()
    carry = b""
    try:
        while chunk := stream.read(CHUNK_BYTES):
            window = carry + chunk
            if _PDF_ACTIVE.search(window):
                return True
            carry = window[-64:]
        return False
    finally:
        stream.seek(start)


def _check_office(stream: BinaryIO, name: str, expected: FileType) -> None:
    not_it = UnsupportedFileError(
        N_(
            '"%(name)s" is not %(expected)s: its content was not recognised. Open it and save '
            "it again in that format."
        ),
        name=name,
        expected=expected.description,
    )
    macros = UnsupportedFileError(
        N_('"%(name)s" contains macros (programs); save it again as a document without macros.'),
        name=name,
    )
    bomb = UnsupportedFileError(
        N_(
            '"%(name)s" declares XML entities, which documents never need and which can hide '
            "an XML bomb; save it again from your word processor."
        ),
        name=name,
    )
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_OFFICE_ENTRIES:
                raise not_it
            names = {info.filename for info in infos}
            if any(_declares_entities(archive, n) for n in _OFFICE_XML & names):
                raise bomb
            if expected.name == "docx":
                manifest = _read_member(archive, "[Content_Types].xml")
                if manifest is None or "word/document.xml" not in names:
                    raise not_it
                if b"macroEnabled" in manifest or any(n.endswith("vbaProject.bin") for n in names):
                    raise macros
                if b"wordprocessingml.document.main+xml" not in manifest:
                    raise not_it
            else:
                # ODF puts an uncompressed "mimetype" member first, by specification.
                if not infos or infos[0].filename != "mimetype":
                    raise not_it
                if _read_member(archive, "mimetype") != expected.content_type.encode():
                    raise not_it
                if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                    raise macros
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError):
        raise not_it from None


def _declares_entities(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether an XML member opens with a DTD: where entity expansion bombs live."""
    with archive.open(member) as handle:
        prolog = handle.read(HEAD_BYTES).upper()
    return b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog


def _read_member(archive: zipfile.ZipFile, member: str) -> bytes | None:
    try:
        info = archive.getinfo(member)
    except KeyError:
        return None
    if info.file_size > MAX_OFFICE_MANIFEST_BYTES:
        return None
    with archive.open(info) as handle:
        return handle.read(MAX_OFFICE_MANIFEST_BYTES)


# The name the other parts of the app were first told about; both name one class.
UnsupportedFile = UnsupportedFileError
