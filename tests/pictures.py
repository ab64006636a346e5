"""Images for the lesson image tests, made with Pillow: photos, odd modes, hostile files.

Every picture is made here, deterministically, and never committed: a photo is noise
(it compresses like one) under a gradient, with whatever EXIF a phone writes.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

from PIL import ExifTags, Image

from tests.fixtures.packages.kit import copy_package

LESSON = "lessons/01-why-listen.md"
# Where the photo in the EXIF was taken, and what the camera called itself.
GPS_LATITUDE = (52.0, 31.0, 12.5)
CAMERA = "Pocket Camera 9000"


def picture(width: int, height: int, mode: str = "RGB", seed: int = 1) -> Image.Image:
    """A photo-like image: a gradient with noise over it, the same for the same arguments."""
    noise = Image.frombytes("L", (width, height), random.Random(seed).randbytes(width * height))
    gradient = Image.linear_gradient("L").resize((width, height))
    bands = [Image.blend(gradient, noise, 0.5), noise, gradient.rotate(180)]
    return Image.merge("RGB", bands).convert(mode)


def phone_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: who made the camera, which way up, and where it was."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 1.0)
    return exif


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def phone_photo(width: int, height: int, orientation: int = 1, **options) -> bytes:
    """A JPEG as a phone saves it, stored ``width`` x ``height``, with EXIF, XMP and a comment."""
    return encoded(
        picture(width, height),
        "JPEG",
        quality=options.pop("quality", 95),
        exif=phone_exif(orientation).tobytes(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
        comment=b"taken at home",
        **options,
    )


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def declared_png(width: int, height: int, pixels: bytes = b"") -> bytes:
    """A PNG that says it is ``width`` x ``height`` and holds only ``pixels`` (a bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(pixels))
        + png_chunk(b"IEND", b"")
    )


def zlib_bomb_png(width: int, height: int) -> bytes:
    """A PNG whose every row is there, all zeros: tiny on disk, huge decoded."""
    row = b"\x00" * (1 + 3 * width)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def image_package(tmp_path: Path, media: dict[str, bytes], name: str = "package") -> Path:
    """The minimal package with these files in media/, each shown in its first lesson."""
    package = copy_package(tmp_path, name=name)
    with open(package / LESSON, "a", encoding="utf-8") as lesson:
        for n, (filename, data) in enumerate(media.items(), start=1):
            (package / "media" / filename).write_bytes(data)
            lesson.write(f"\n![Picture {n}](../media/{filename})\n")
    return package
