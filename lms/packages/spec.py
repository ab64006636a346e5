"""A validated module package as plain data: what the importer turns into rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lms.packages.problems import Problem


@dataclass(frozen=True)
class ImageInfo:
    """A lesson image's size as shown (upright), and the widths of the copies it gets."""

    width: int
    height: int
    # Web-sized copies to make at import, narrowest first; none for a small image, a GIF
    # or an animation.
    variant_widths: tuple[int, ...] = ()
    # Its EXIF says where it was taken (GPS): the copies leave it out, the original keeps it.
    located: bool = False

    def height_at(self, width: int) -> int:
        """The height of a copy ``width`` pixels wide (at least one pixel)."""
        return max(1, round(self.height * width / self.width))


@dataclass(frozen=True)
class PackageFile:
    """A file of the package that is imported: an attachment or a media file."""

    path: str  # attachments/plan.pdf, media/map.png
    size: int
    sha256: str
    content_type: str
    type_name: str
    # For a media image whose size could be read (lms.packages.images).
    image: ImageInfo | None = None


@dataclass(frozen=True)
class PromptSpec:
    key: str
    text: str
    required: bool = True
    accepts_files: bool = False


@dataclass(frozen=True)
class AttachmentSpec:
    path: str
    title: str
    file: PackageFile

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LessonSpec:
    path: str  # lessons/01-arriving.md
    slug: str
    title: str
    minutes: int
    body_markdown: str
    prompts: tuple[PromptSpec, ...] = ()
    attachments: tuple[AttachmentSpec, ...] = ()


@dataclass(frozen=True)
class Package:
    """Everything a valid package says, checked; nothing here has touched the database."""

    slug: str
    title: str
    version: str
    summary: str
    language: str
    license: str
    authors: tuple[str, ...]
    estimated_minutes: int
    sequence: str
    lessons: tuple[LessonSpec, ...]
    attachments: tuple[AttachmentSpec, ...]  # module-wide
    media: tuple[PackageFile, ...]
    sha256: str
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    @property
    def all_attachments(self) -> list[tuple[AttachmentSpec, LessonSpec | None, int]]:
        """Every attachment with its lesson (None: module-wide) and position."""
        found: list[tuple[AttachmentSpec, LessonSpec | None, int]] = [
            (a, None, i) for i, a in enumerate(self.attachments)
        ]
        for lesson in self.lessons:
            found.extend((a, lesson, i) for i, a in enumerate(lesson.attachments))
        return found

    @property
    def files(self) -> list[PackageFile]:
        """Every file to store, once each."""
        files = [a.file for a, _, _ in self.all_attachments] + list(self.media)
        return list({f.path: f for f in files}.values())

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)
