"""Hostile and odd lesson images: each is imported as it is, with a warning, and never a 500.

Decompression bombs, images that declare more pixels than anyone needs, files cut short
or damaged, and images too large to decode within the import's memory budget: none may
stop an import, and none gets copies. Odd images (extreme proportions) still get theirs.
The memory an import takes with a 24-megapixel photo is measured against the budget of
bench/import_memory.py.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from lms import packages
from lms.models import Lesson, Media, Role
from lms.packages import images
from lms.packages.problems import InvalidPackageError
from tests.conftest import csrf_token
from tests.fixtures.packages.importing import import_into
from tests.fixtures.packages.kit import zip_folder
from tests.pictures import (
    declared_png,
    encoded,
    image_package,
    phone_photo,
    picture,
    png_chunk,
    zlib_bomb_png,
)

ROOT = Path(__file__).resolve().parents[1]


def cut_short(data: bytes) -> bytes:
    return data[: len(data) // 2]


def damaged_png() -> bytes:
    """A PNG whose pixel data is not a zlib stream at all."""
    header = struct.pack(">IIBBBBB", 1000, 800, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"\x78\x9c" + b"not deflate data" * 50)
        + png_chunk(b"IEND", b"")
    )


def huge_webp(width: int, height: int) -> bytes:
    """A WebP whose extended header declares a canvas this large (and holds nothing else)."""
    vp8x = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


HOSTILE = {
    # 900 megapixels declared in a few bytes: Pillow's own DecompressionBombError.
    "bomb.png": (declared_png(30_000, 30_000), images.TOO_MANY_PIXELS),
    # Over Pillow's warning (89 megapixels), under its error: an error where warnings are.
    "warned.png": (declared_png(12_000, 10_000), images.TOO_MANY_PIXELS),
    # Under Pillow's warning, over the app's own cap of 64 megapixels.
    "too-many-pixels.png": (declared_png(10_000, 7_000), images.TOO_MANY_PIXELS),
    # Every row there, all zeros: 70 KB that decode to 100 MB, over the memory budget.
    "zlib-bomb.png": (zlib_bomb_png(5_000, 5_000), images.TOO_LARGE_TO_DECODE),
    # libwebp would allocate its canvas as it opens: refused from the header.
    "huge.webp": (huge_webp(16_000, 16_000), images.TOO_MANY_PIXELS),
    "cut-short.jpg": (cut_short(phone_photo(600, 300)), images.UNREADABLE),
    "cut-short.png": (cut_short(encoded(picture(600, 300), "PNG")), images.UNREADABLE),
    "damaged.png": (damaged_png(), images.UNREADABLE),
}


@pytest.fixture(scope="module")
def hostile_package(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("hostile-images")
    return image_package(tmp_path, {name: data for name, (data, _) in HOSTILE.items()})


def test_hostile_images_are_each_a_warning_and_nothing_stops_the_import(
    db, storage, hostile_package
):
    package = packages.validate_path(hostile_package)
    warnings = {p.path: p for p in package.warnings if p.path.startswith("media/")}
    assert {path: p.message for path, p in warnings.items()} == {
        f"media/{name}": message for name, (_, message) in HOSTILE.items()
    }
    assert all(p.warning for p in warnings.values())

    import_into(db, storage, hostile_package)
    rows = {m.path: m for m in db.scalars(select(Media))}
    for name in HOSTILE:
        media = rows[f"media/{name}"]
        assert (media.width, media.height, media.variants) == (None, None, [])
    body = db.scalar(select(Lesson.body_html).where(Lesson.slug == "why-listen"))
    assert body.count("<img") == 1 + len(HOSTILE)
    assert "srcset" not in body  # each is shown as the package has it


def test_a_warning_says_what_to_do_in_plain_words(hostile_package):
    package = packages.validate_path(hostile_package)
    said = {p.path: str(p) for p in package.warnings}
    assert said["media/bomb.png"] == (
        "media/bomb.png: this image has more than 64 million pixels, so it is not made "
        "smaller for phones: it is shown as it is, at its full size; save it smaller (at "
        "most 2,000 pixels wide) to spare learners' data."
    )
    assert "would take more than 48 MB of memory" in said["media/zlib-bomb.png"]
    assert said["media/cut-short.jpg"].startswith(
        "media/cut-short.jpg: this image cannot be decoded (image file is truncated"
    )


def test_an_admin_previews_the_warnings_and_imports_the_package(
    client, db, make_user, auth, hostile_package, tmp_path
):
    auth.login(make_user(Role.ADMIN).email)
    zipped = zip_folder(hostile_package, tmp_path / "hostile.zip").read_bytes()
    # Werkzeug's test client spools a larger body to a file it never closes.
    assert len(zipped) < 500 * 1024
    uploaded = client.post(
        "/admin/modules/import",
        data={
            "package": (io.BytesIO(zipped), "hostile.zip"),
            "csrf_token": csrf_token(client, "/admin/modules"),
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    preview = client.get(uploaded.headers["Location"])
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "media/bomb.png" in text
    assert "not made smaller for phones" in text
    confirmed = client.post(
        uploaded.headers["Location"],
        data={"csrf_token": csrf_token(client, uploaded.headers["Location"])},
    )
    packages.jobs.wait_for_imports()
    status = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "was imported" in status
    assert db.scalar(select(Media).where(Media.path == "media/bomb.png")) is not None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.jpg", encoded(picture(800, 600), "PNG")),  # a PNG named as a JPEG
        ("picture.png", b"<svg onload=alert(1)></svg>"),
        ("picture.webp", b"RIFF\x10\x00\x00\x00WAVEfmt "),  # a sound named as an image
    ],
    ids=["png-named-jpg", "svg-named-png", "wav-named-webp"],
)
def test_a_file_that_is_not_the_image_its_name_says_is_refused(tmp_path, name, data):
    with pytest.raises(InvalidPackageError) as refused:
        packages.validate_path(image_package(tmp_path, {name: data}))
    [problem] = [p for p in refused.value.errors if p.path == f"media/{name}"]
    assert not problem.warning


def test_images_of_extreme_proportions_get_copies_at_least_a_pixel_high(db, storage, tmp_path):
    package = image_package(
        tmp_path,
        {
            "banner.png": encoded(picture(20_000, 2), "PNG"),
            "ribbon.png": encoded(picture(2, 20_000), "PNG"),
        },
    )
    import_into(db, storage, package)
    banner = db.scalar(select(Media).where(Media.path == "media/banner.png"))
    assert [(v.width, v.height) for v in banner.variants] == [(480, 1), (960, 1), (1600, 1)]
    ribbon = db.scalar(select(Media).where(Media.path == "media/ribbon.png"))
    assert (ribbon.width, ribbon.height, ribbon.variants) == (2, 20_000, [])


@pytest.mark.slow
def test_importing_a_24_megapixel_photo_stays_within_the_memory_budget(tmp_path):
    photo = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize((6000, 4000)),
            Image.frombytes("L", (6000, 4000), bytes(range(256)) * (6000 * 4000 // 256)),
            Image.radial_gradient("L").resize((6000, 4000)),
        ],
    )
    package = image_package(tmp_path, {"photo.jpg": encoded(photo, "JPEG", quality=92)})
    (tmp_path / "data").mkdir()
    run = subprocess.run(
        [sys.executable, "bench/import_memory.py", "--child", str(package), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    growth_mb = (figures["peak_kb"] - figures["baseline_kb"]) / 1024
    print(f"\n24-megapixel JPEG imported: peak RSS growth {growth_mb:.1f} MB")  # pytest -s
    assert growth_mb < 64
    blobs = [p for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 3 + 1 + 3  # two attachments and the circle, the photo, its copies


def test_a_png_bomb_is_never_decoded(tmp_path):
    # The header alone refuses it: no pixel buffer of 3.6 GB is ever asked for.
    data = declared_png(30_000, 30_000, zlib.compress(b"\x00" * 1000))
    with pytest.raises(images.ImageError) as refused:
        images.examine(io.BytesIO(data), "png", len(data))
    assert refused.value.message == images.TOO_MANY_PIXELS
