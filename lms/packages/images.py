"""Lesson images made web-sized: each image's size read, and its smaller copies made.

Photos come into packages as cameras made them: a 24-megapixel JPEG is several MB,
and a phone shows 360 to 480 CSS pixels of it. Each JPEG, PNG and WebP wider than a
width of ``VARIANT_WIDTHS`` gets a copy that wide, in its own format, turned upright
(its EXIF orientation applied) and without its metadata: EXIF can say where and when
a photo was taken, and with which device. GIFs and animations stay as they are.

Package files are hostile until decoded, so:

- each is opened by the decoder of the type ``lms.filetypes`` found, and no other;
- more than ``MAX_PIXELS`` is refused from the header, before a pixel is decoded (a
  decompression bomb declares billions of pixels in a few bytes);
- what decoding one image and making its largest copy takes is estimated from the
  header and must fit ``MEMORY_BUDGET_BYTES``: JPEGs are decoded at a reduced scale
  (``Image.draft``), and a copy that would not fit is not made;
- whatever Pillow raises on a damaged file becomes an ``ImageError``.

An image that cannot be made smaller is imported as it is, and its author is told why
(``ImageError``'s message, a warning): it is never a reason to refuse a package.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from PIL import ExifTags, Image

from lms.filetypes import N_, TYPES
from lms.packages.spec import ImageInfo

MIB = 1024 * 1024
#: The widths of the copies, in pixels: a phone, a phone at 2x or a tablet, a wide screen.
VARIANT_WIDTHS = (480, 960, 1600)
#: The most pixels an image may declare and still be made smaller (a 50-megapixel
#: camera's photo fits; Pillow's own warning starts at 89 megapixels).
MAX_PIXELS = 64_000_000
#: What decoding one image and making its largest copy may take. One image is worked on
#: at a time, and bench/import_memory.py holds the whole import under 64 MB.
MEMORY_BUDGET_BYTES = 48 * MIB
JPEG_QUALITY = 80
WEBP_QUALITY = 80

# The types that get copies (lms.filetypes names) with Pillow's name for them, and those
# whose size alone is read, for the page's width and height.
_RESIZED = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_SIZED = {**_RESIZED, "gif": "GIF"}
_SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": JPEG_QUALITY, "progressive": True, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": WEBP_QUALITY, "method": 4},
}
# Bytes per pixel of a decoded image by its mode (Pillow keeps RGB in four).
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# Modes converted to a full-size four-byte copy before resizing (Pillow resizes palettes
# and bilevel images by nearest neighbour), and those it premultiplies as it resizes.
_CONVERTED_MODES = frozenset({"1", "P", "PA"})
_ALPHA_MODES = frozenset({"PA", "LA", "RGBA"})
_PREMULTIPLIED = {"L": "La", "LA": "La", "RGB": "RGBa", "RGBA": "RGBa"}
# EXIF orientations and the transposition that turns each upright (as in
# ImageOps.exif_transpose); 5 to 8 are quarter turns, whose width is the stored height.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_QUARTER_TURNS = frozenset({5, 6, 7, 8})

UNREADABLE = N_(
    "this image cannot be decoded (%(detail)s), so it is not made smaller for phones: "
    "it is shown as it is. Open it in an image editor and save it again."
)
TOO_MANY_PIXELS = N_(
    "this image has more than %(limit)s million pixels, so it is not made smaller for "
    "phones: it is shown as it is, at its full size; save it smaller (at most 2,000 "
    "pixels wide) to spare learners' data."
)
LOCATED = N_(
    "this photo records where it was taken (GPS). The copies made for phones leave that "
    "out, but the original, which learners can open, keeps it: remove the location from "
    "the photo (most photo apps can) if it must not be known."
)
TOO_LARGE_TO_DECODE = N_(
    "this image would take more than %(limit)s of memory to make smaller for phones, so "
    "it is shown as it is, at its full size; save it smaller (at most 2,000 pixels wide)"
    " to spare learners' data."
)


class ImageError(Exception):
    """An image that cannot be made smaller; the message says why, for its author."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params)


@dataclass(frozen=True)
class Variant:
    """One web-sized copy of an image, encoded, as wide as the page asks for."""

    width: int
    height: int
    content_type: str
    data: bytes


def is_sized(type_name: str) -> bool:
    """Whether a media file of this type (an lms.filetypes name) is an image whose size is read."""
    return type_name in _SIZED


def examine(stream: BinaryIO, type_name: str, size: int) -> ImageInfo:
    """The image's size as shown and the widths of its copies; raises ImageError.

    When copies are to be made, the image is decoded once as cheaply as it can be (a
    JPEG at an eighth of its size), so that a damaged file is found while its author
    reads the package's problems, not half way through the import.
    """
    with _opened(stream, type_name, size) as image:
        orientation = _orientation(image)
        width, height = _upright(image.size, orientation)
        info = ImageInfo(width, height, located=_is_located(image))
        # (A JPEG's other frames, in an MPO file, are previews and alternate views.)
        if type_name not in _RESIZED or (type_name != "jpg" and _is_animated(image)):
            return info
        wanted = [w for w in VARIANT_WIDTHS if w < width]
        if not wanted:
            return info
        fitting = [
            w
            for w in wanted
            if _bytes_needed(image, type_name, size, _upright((w, info.height_at(w)), orientation))
            <= MEMORY_BUDGET_BYTES
        ]
        if not fitting:
            raise ImageError(TOO_LARGE_TO_DECODE, limit=f"{MEMORY_BUDGET_BYTES // MIB} MB")
        if type_name == "jpg":
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
        return ImageInfo(width, height, tuple(fitting), info.located)


def make_variants(stream: BinaryIO, type_name: str, size: int, info: ImageInfo) -> list[Variant]:
    """The image's copies at ``info.variant_widths``, narrowest first; raises ImageError.

    The image is decoded once, at the smallest scale its largest copy allows; the
    largest copy is resized in two passes (across, then down) so that the full-size
    pixels are let go between them, and each smaller copy is made from the one above it.
    A copy that is not smaller than the original file (a small palette PNG may not be)
    is left out.
    """
    if not info.variant_widths:
        return []
    content_type, image_format = TYPES[type_name].content_type, _RESIZED[type_name]
    variants = []
    with _opened(stream, type_name, size) as image:
        orientation = _orientation(image)
        # A palette image's copies get a palette again, no larger than its own.
        palette = len(image.getpalette() or ()) // 3 if image.mode in ("P", "PA") else 0
        # A CMYK profile would be wrong on the RGB copy; any other profile keeps colours true.
        icc_profile = image.info.get("icc_profile") if image.mode != "CMYK" else None
        targets = [
            _upright((w, info.height_at(w)), orientation) for w in reversed(info.variant_widths)
        ]
        if _bytes_needed(image, type_name, size, targets[0]) > MEMORY_BUDGET_BYTES:
            raise ImageError(TOO_LARGE_TO_DECODE, limit=f"{MEMORY_BUDGET_BYTES // MIB} MB")
        if type_name == "jpg":
            image.draft(image.mode, targets[0])
        full = _resizable(image)
        if full is not image:
            image.close()
        across = full.resize((targets[0][0], full.height), Image.Resampling.LANCZOS)
        full.close()
        working = across.resize(targets[0], Image.Resampling.LANCZOS)
        across.close()
        for target in targets:
            if working.size != target:
                working = working.resize(target, Image.Resampling.LANCZOS)
            data = _encode(working, image_format, orientation, palette, icc_profile)
            if len(data) < size:
                shown = _upright(target, orientation)
                variants.append(Variant(shown[0], shown[1], content_type, data))
    return variants[::-1]


@contextmanager
def _opened(stream: BinaryIO, type_name: str, size: int) -> Iterator[Image.Image]:
    """The image, opened by its own format's decoder only; whatever goes wrong, an ImageError."""
    try:
        if type_name == "webp":
            _check_webp(stream, size)
        with Image.open(stream, formats=[_SIZED[type_name]]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(TOO_MANY_PIXELS, limit=MAX_PIXELS // 1_000_000)
            yield image
    except ImageError:
        raise
    # The warning is an error only where warnings are (the tests); MAX_PIXELS, below it,
    # refuses the same images everywhere else.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(TOO_MANY_PIXELS, limit=MAX_PIXELS // 1_000_000) from error
    except Image.UnidentifiedImageError as error:
        raise ImageError(UNREADABLE, detail="not a readable image") from error
    except Exception as error:
        # Pillow tells of damaged files with many kinds of exceptions (OSError for a file
        # cut short, SyntaxError, ValueError, struct.error...): each means the same here.
        raise ImageError(UNREADABLE, detail=str(error)[:200] or type(error).__name__) from error


def _check_webp(stream: BinaryIO, size: int) -> None:
    """Refuse a WebP too large before Pillow opens it: its decoder reads the whole file
    and allocates the whole canvas as it opens."""
    head = stream.read(30)
    stream.seek(0)
    dimensions = _webp_size(head)
    if dimensions is None:
        raise ImageError(UNREADABLE, detail="not a readable WebP image")
    width, height = dimensions
    if width * height > MAX_PIXELS:
        raise ImageError(TOO_MANY_PIXELS, limit=MAX_PIXELS // 1_000_000)
    if size + 4 * width * height > MEMORY_BUDGET_BYTES:
        raise ImageError(TOO_LARGE_TO_DECODE, limit=f"{MEMORY_BUDGET_BYTES // MIB} MB")


def _webp_size(head: bytes) -> tuple[int, int] | None:
    """A WebP's canvas size from its first 30 bytes: the RIFF header and its first chunk."""
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas width and height, less one
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and head[20] == 0x2F:  # lossless: 14 bits each, less one
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy: 14 bits each
        return (
            int.from_bytes(head[26:28], "little") & 0x3FFF,
            int.from_bytes(head[28:30], "little") & 0x3FFF,
        )
    return None


def _exif(image: Image.Image) -> Image.Exif | None:
    """The image's EXIF, if it has any that can be read."""
    if image.format == "PNG" and "exif" not in image.info:
        return None  # Pillow would decode the whole PNG to look for a late eXIf chunk
    try:
        exif = image.getexif()
        exif.get_ifd(ExifTags.IFD.GPSInfo)  # parsed now, so that damage shows here
    except Exception:  # noqa: BLE001  (damaged EXIF is as good as none: the copies drop it)
        return None
    return exif


def _orientation(image: Image.Image) -> int:
    """The image's EXIF orientation (1, upright, when it has none or a damaged one)."""
    exif = _exif(image)
    value = exif.get(ExifTags.Base.Orientation, 1) if exif is not None else 1
    return value if value in _UPRIGHT else 1


def _is_located(image: Image.Image) -> bool:
    """Whether the image's EXIF says where it was taken."""
    exif = _exif(image)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo) if exif is not None else {}
    return ExifTags.GPS.GPSLatitude in gps or ExifTags.GPS.GPSLongitude in gps


def _upright(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """A stored size as shown, or a shown size as stored: a quarter turn swaps them."""
    return (size[1], size[0]) if orientation in _QUARTER_TURNS else size


def _is_animated(image: Image.Image) -> bool:
    return bool(getattr(image, "is_animated", False))


def _draft_scale(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The scale a JPEG is decoded at for a copy of ``target`` size (as Image.draft picks it)."""
    scale = min(size[0] // target[0], size[1] // target[1])
    return next(s for s in (8, 4, 2, 1) if scale >= s or s == 1)


def _bytes_needed(
    image: Image.Image, type_name: str, file_size: int, target: tuple[int, int]
) -> int:
    """At most what decoding this image and making a copy of ``target`` size takes.

    Phase by phase, as make_variants goes (within a few per cent of what photos,
    palettes, alpha, WebP and progressive JPEGs measure): decoding, where a progressive
    JPEG's decoder holds every DCT coefficient of the full-size image whatever the scale,
    and libwebp the file and two canvases; converting (a palette to RGB, alpha to
    premultiplied), beside the decoded pixels; the pass across; the pass down.
    """
    scale = _draft_scale(image.size, target) if type_name == "jpg" else 1
    height = -(-image.height // scale)
    pixels = -(-image.width // scale) * height
    decoded = pixels * _PIXEL_BYTES.get(image.mode, 4)
    decoding = decoded
    if type_name == "jpg" and image.info.get("progressive"):
        decoding += _coefficient_bytes(image)
    elif type_name == "webp":
        # The file, libwebp's two canvases and the frame's bytes, kept while it is open.
        decoded += file_size + 3 * 4 * pixels
        decoding = decoded
    transparent = image.mode in _ALPHA_MODES or "transparency" in image.info
    converted = 0
    if image.mode in ("P", "PA") and transparent:
        converted = decoded + 2 * 4 * pixels  # a copy of the palette, RGBA, then RGBa
    elif image.mode in _CONVERTED_MODES or transparent:
        converted = 2 * 4 * pixels if "transparency" in image.info else 4 * pixels
    full = 4 * pixels if converted else decoded
    across, down = 4 * target[0] * height, 4 * target[0] * target[1]
    return max(decoding, decoded + converted, full + across, across + down)


def _coefficient_bytes(image: Image.Image) -> int:
    """What libjpeg keeps while decoding a progressive JPEG: 64 coefficients of 2 bytes per
    8x8 block of every component, at full size."""
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
    h_max = max(h for _, h, _, _ in layers)
    v_max = max(v for _, _, v, _ in layers)
    blocks = sum(
        math.ceil(image.width * h / h_max / 8) * math.ceil(image.height * v / v_max / 8)
        for _, h, v, _ in layers
    )
    return blocks * 64 * 2


def _resizable(image: Image.Image) -> Image.Image:
    """The decoded image in a mode Pillow resizes smoothly and without copying it again:
    palettes and bilevel images converted (Pillow would resize them by nearest
    neighbour), alpha premultiplied (Pillow would premultiply a full-size copy itself)."""
    mode = image.mode
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        if not image.has_transparency_data:
            return image.convert("RGB")
        return image.convert("RGBA").convert("RGBa")
    if mode in ("L", "RGB") and "transparency" in image.info:  # one colour see-through
        return image.convert("RGBA" if mode == "RGB" else "LA").convert(_PREMULTIPLIED[mode])
    if mode in ("LA", "RGBA"):
        return image.convert(_PREMULTIPLIED[mode])
    image.load()
    return image


def _encode(
    image: Image.Image,
    image_format: str,
    orientation: int,
    palette: int,
    icc_profile: bytes | None,
) -> bytes:
    """A copy encoded for the web: upright, in a mode its format holds, without metadata."""
    if orientation in _UPRIGHT:
        image = image.transpose(_UPRIGHT[orientation])
    if image.mode.startswith("I;16"):
        image = image.point(lambda value: value / 257).convert("L")
    elif image.mode in ("La", "RGBa"):
        image = image.convert(image.mode.upper())
    elif image.mode == "CMYK":
        image = image.convert("RGB")
    if palette and image_format == "PNG":
        image = image.quantize(max(2, min(palette, 256)), method=Image.Quantize.FASTOCTREE)
    # EXIF (where and when, which device), XMP, comments: none of it goes with the copy.
    image.info = {}
    options = dict(_SAVE_OPTIONS[image_format])
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()
