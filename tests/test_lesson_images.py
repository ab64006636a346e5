"""Lesson images sized for the screen: copies made at import, offered by the page, served,
kept by re-imports, backups and the sweep, and carried at web size in the offline zip."""

from __future__ import annotations

import io
import re
import time
import zipfile
from html.parser import HTMLParser

import pytest
from PIL import Image
from sqlalchemy import select

from lms import html, packages
from lms.models import Media, MediaVariant, Module, Reflection, Role
from lms.ops.housekeeping import sweep
from lms.packages import images
from tests.factories import make_enrollment, make_reflection
from tests.fixtures.packages.importing import import_into
from tests.fixtures.packages.kit import replace
from tests.pictures import CAMERA, encoded, image_package, phone_photo, picture

LESSON_PAGE = "/modules/listening-circles/lessons/why-listen"


def media_row(db, path: str) -> Media:
    db.expire_all()
    return db.scalar(select(Media).where(Media.path == path))


def blob(storage, sha256: str) -> bytes:
    return storage.blob_path(sha256).read_bytes()


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def page_images(page: str) -> list[dict[str, str | None]]:
    """The <img> tags of a page, as a browser reads their attributes."""
    parser = _Images()
    parser.feed(page)
    return parser.images


@pytest.fixture
def photo_module(db, storage, tmp_path) -> Module:
    """listening-circles with a 1400 x 1000 photo, taken with the phone held upright."""
    package = image_package(tmp_path, {"photo.jpg": phone_photo(1400, 1000, orientation=6)})
    return import_into(db, storage, package).module


@pytest.fixture
def learner(db, make_user, auth, photo_module):
    user = make_user(Role.LEARNER)
    make_enrollment(db, user, photo_module)
    auth.login(user.email)
    return user


# --- At import --------------------------------------------------------------------


def test_a_photo_gets_copies_upright_in_its_format_and_without_its_metadata(
    db, storage, photo_module
):
    media = media_row(db, "media/photo.jpg")
    # Stored 1400 x 1000 with the phone turned: shown 1000 wide and 1400 high.
    assert (media.width, media.height) == (1000, 1400)
    assert [(v.width, v.height) for v in media.variants] == [(480, 672), (960, 1344)]
    for variant in media.variants:
        data = blob(storage, variant.sha256)
        assert variant.size == len(data) < media.size
        assert variant.content_type == "image/jpeg"
        with Image.open(io.BytesIO(data)) as copy:
            assert (copy.format, copy.size) == ("JPEG", (variant.width, variant.height))
            assert copy.info.get("progressive")
            assert not copy.getexif()
            assert {"exif", "xmp", "comment"}.isdisjoint(copy.info)
        assert CAMERA.encode() not in data
        assert b"taken at home" not in data
    original = blob(storage, media.sha256)
    assert CAMERA.encode() in original  # the original is kept as it was


def test_the_author_is_told_that_a_photo_records_where_it_was_taken(tmp_path):
    package = image_package(
        tmp_path,
        {"located.jpg": phone_photo(800, 600), "plain.jpg": encoded(picture(800, 600), "JPEG")},
    )
    notes = [(p.path, p.message, p.warning) for p in packages.validate_path(package).warnings]
    assert notes == [("media/located.jpg", images.LOCATED, True)]


def test_copies_are_turned_upright(db, storage, tmp_path):
    # A picture dark on its left, light on its right, stored with "turn 90° clockwise".
    stored = Image.linear_gradient("L").rotate(90).resize((1000, 600)).convert("RGB")
    exif = Image.Exif()
    exif[274] = 6
    package = image_package(
        tmp_path, {"turned.jpg": encoded(stored, "JPEG", quality=95, exif=exif.tobytes())}
    )
    import_into(db, storage, package)
    media = media_row(db, "media/turned.jpg")
    assert (media.width, media.height) == (600, 1000)
    [copy] = media.variants
    with Image.open(io.BytesIO(blob(storage, copy.sha256))) as image:
        gray = image.convert("L")
        assert image.size == (480, 800)
        # Turned clockwise, the stored left edge (dark) is now the top.
        assert gray.getpixel((240, 5)) < gray.getpixel((240, 795))


@pytest.mark.parametrize(
    ("name", "data", "format_", "mode"),
    [
        ("diagram.png", encoded(picture(1700, 1000), "PNG"), "PNG", "RGB"),
        ("photo.webp", encoded(picture(1000, 800), "WEBP", quality=95), "WEBP", "RGB"),
        ("cmyk.jpg", encoded(picture(1000, 700, "CMYK"), "JPEG", quality=95), "JPEG", "RGB"),
        (
            "palette.png",
            encoded(picture(1000, 700).quantize(64), "PNG", transparency=0),
            "PNG",
            "P",
        ),
        ("gray16.png", encoded(picture(1000, 700, "L").convert("I;16"), "PNG"), "PNG", "L"),
    ],
    ids=["png", "webp", "cmyk-jpeg", "palette-png-with-transparency", "16-bit-png"],
)
def test_each_kind_of_image_keeps_its_format(db, storage, tmp_path, name, data, format_, mode):
    package = image_package(tmp_path, {name: data})
    result = import_into(db, storage, package)
    assert not [w for w in result.plan.media_added if w != f"media/{name}" and "circle" not in w]
    media = media_row(db, f"media/{name}")
    expected = [w for w in images.VARIANT_WIDTHS if w < media.width]
    assert [v.width for v in media.variants] == expected
    for variant in media.variants:
        with Image.open(io.BytesIO(blob(storage, variant.sha256))) as copy:
            assert (copy.format, copy.mode) == (format_, mode)
            assert copy.width == variant.width
            if name == "palette.png":
                assert "transparency" in copy.info  # see-through where the original was


def test_small_images_gifs_and_animations_get_their_size_and_no_copies(db, storage, tmp_path):
    frames = [picture(800, 600, seed=n) for n in range(3)]
    animated = encoded(frames[0], "PNG", save_all=True, append_images=frames[1:])
    package = image_package(
        tmp_path,
        {
            "small.png": encoded(picture(480, 300), "PNG"),
            "still.gif": encoded(picture(800, 600), "GIF"),
            "moving.png": animated,
        },
    )
    result = import_into(db, storage, package)
    assert [p for p in result.plan.media_added if p != "media/circle.png"]
    for name, size in [
        ("small.png", (480, 300)),
        ("still.gif", (800, 600)),
        ("moving.png", (800, 600)),
    ]:
        media = media_row(db, f"media/{name}")
        assert (media.width, media.height) == size
        assert media.variants == []


# --- The page ---------------------------------------------------------------------


def test_the_lesson_page_offers_the_copies_with_the_originals_size(
    client, db, learner, photo_module
):
    page = client.get(LESSON_PAGE)
    assert page.status_code == 200
    circle, photo = page_images(page.get_data(as_text=True))
    media = media_row(db, "media/photo.jpg")
    small, large = media.variants
    assert photo["src"] == html.media_url("listening-circles", "photo.jpg", media.sha256)
    assert photo["srcset"] == (
        f"{html.media_url('listening-circles', 'photo.jpg', small.sha256, 480)} 480w, "
        f"{html.media_url('listening-circles', 'photo.jpg', large.sha256, 960)} 960w, "
        f"{photo['src']} 1000w"
    )
    assert photo["sizes"] == "(min-width: 46rem) 44rem, calc(100vw - 2rem)"
    assert (photo["width"], photo["height"]) == ("1000", "1400")
    assert (photo["loading"], photo["decoding"]) == ("lazy", "async")
    # The first image of the lesson is fetched at once; a one-pixel image has no copies.
    assert "loading" not in circle
    assert (circle["width"], circle["height"], circle["decoding"]) == ("1", "1", "async")
    assert "srcset" not in circle


def test_the_page_stylesheet_keeps_every_image_in_its_proportions(client, learner):
    response = client.get("/static/css/site.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "img,video,audio,iframe{max-width:100%;height:auto}" in css  # as minified


# --- Serving a copy ---------------------------------------------------------------


def test_a_copy_is_served_inline_and_cached_for_ever_by_its_own_hash(client, db, storage, learner):
    small = media_row(db, "media/photo.jpg").variants[0]
    url = html.media_url("listening-circles", "photo.jpg", small.sha256, 480)
    response = client.get(url)
    assert response.status_code == 200
    assert response.get_data() == blob(storage, small.sha256)
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{small.sha256}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    response.close()
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    again.close()
    # The original's hash does not name the copy's bytes: not for ever.
    stale = client.get(url.replace(small.sha256[:16], "0" * 16))
    assert stale.headers["Cache-Control"] == "private, no-cache"
    stale.close()


@pytest.mark.parametrize("width", ["1600", "481", "abc", "", "480.0", "99999999999999999999"])
def test_a_width_the_image_has_no_copy_at_is_not_found(client, learner, width):
    assert client.get(f"/media/listening-circles/photo.jpg?w={width}").status_code == 404


def test_copies_are_hidden_from_whoever_may_not_see_the_image(
    client, db, photo_module, make_user, auth
):
    small = media_row(db, "media/photo.jpg").variants[0]
    copy = html.media_url("listening-circles", "photo.jpg", small.sha256, 480)
    original = html.media_url(
        "listening-circles", "photo.jpg", media_row(db, "media/photo.jpg").sha256
    )
    assert client.get(copy).status_code == 302  # signed out: to the sign-in page
    photo_module.published = False
    db.commit()
    outsider = make_user(Role.LEARNER)  # not enrolled in the unpublished module
    auth.login(outsider.email)
    assert client.get(original).status_code == 404
    assert client.get(copy).status_code == 404
    auth.logout()
    enrolled = make_user(Role.LEARNER)
    make_enrollment(db, enrolled, photo_module)
    auth.login(enrolled.email)
    for url in (original, copy):
        response = client.get(url)
        assert response.status_code == 200
        response.close()


# --- Re-imports, the sweep, backups -----------------------------------------------


def test_importing_the_same_package_again_reuses_the_copies_and_keeps_learners_work(
    db, storage, tmp_path, data_dir, make_user
):
    package = image_package(tmp_path, {"photo.jpg": phone_photo(2000, 1400)})
    module = import_into(db, storage, package).module
    media = media_row(db, "media/photo.jpg")
    before = [(v.id, v.width, v.sha256) for v in media.variants]
    learner = make_user(Role.LEARNER)
    make_enrollment(db, learner, module)
    make_reflection(db, learner, module.lessons[0].prompts[0], "Kept across imports")
    blobs_before = stored_blobs(data_dir)

    import_into(db, storage, package, force=True)

    media = media_row(db, "media/photo.jpg")
    assert [(v.id, v.width, v.sha256) for v in media.variants] == before
    assert stored_blobs(data_dir) == blobs_before
    assert db.scalar(select(Reflection.current_body)) == "Kept across imports"


def stored_blobs(data_dir) -> list[str]:
    return sorted(p.parent.name + p.name for p in (data_dir / "blobs").rglob("*") if p.is_file())


def test_the_sweep_keeps_the_copies_in_use_and_frees_those_of_a_replaced_image(
    db, storage, tmp_path, data_dir
):
    package = image_package(tmp_path, {"photo.jpg": phone_photo(2000, 1400)})
    import_into(db, storage, package)
    old = {v.sha256 for v in media_row(db, "media/photo.jpg").variants}
    db.rollback()
    later = time.time() + 7200  # everything is older than the sweep's hour by then
    assert sweep(db, storage, now=later).blobs_removed == 0
    assert old <= set(stored_blobs(data_dir))

    # Version 1.1.0 brings a new photo under the same name: the old one and its copies go.
    (package / "media" / "photo.jpg").write_bytes(phone_photo(1500, 1000, quality=90))
    replace(package / "module.yaml", '"1.0.0"', '"1.1.0"')
    import_into(db, storage, package)
    new = {v.sha256 for v in media_row(db, "media/photo.jpg").variants}
    assert len(new) == 2
    assert new.isdisjoint(old)
    db.rollback()
    report = sweep(db, storage, now=later)
    assert report.blobs_removed == 1 + len(old)  # the old photo and its two copies
    left = set(stored_blobs(data_dir))
    assert new <= left
    assert old.isdisjoint(left)
    assert db.scalar(select(MediaVariant.id).where(MediaVariant.sha256.in_(old))) is None


# --- The offline zip --------------------------------------------------------------


def test_the_offline_zip_carries_each_image_at_its_web_size(client, db, storage, learner):
    response = client.get("/modules/listening-circles/download")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    response.close()
    media = media_row(db, "media/photo.jpg")
    web_size = next(v for v in media.variants if v.width == 960)
    assert archive.read("media/photo.jpg") == blob(storage, web_size.sha256)
    assert archive.getinfo("media/photo.jpg").file_size == web_size.size < media.size
    lesson = next(n for n in archive.namelist() if n.startswith("01-"))
    [_circle, photo] = page_images(archive.read(lesson).decode())
    assert photo["src"] == "media/photo.jpg"
    assert "srcset" not in photo
    assert "sizes" not in photo
    assert (photo["width"], photo["height"]) == ("1000", "1400")
    assert re.search(r"/media/", archive.read(lesson).decode()) is None
