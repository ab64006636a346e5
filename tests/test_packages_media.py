"""Media shown in lessons: served from blobs, inline only when harmless, cached by hash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import packages
from lms.models import Lesson, Media, Module, Role
from lms.storage import Storage
from tests.fixtures.packages.kit import MINIMAL, PNG


@pytest.fixture
def module(app, db) -> Module:
    packages.import_path(db, Storage(Path(app.config["LMS_DATA_DIR"])), MINIMAL)
    db.commit()
    return db.scalar(select(Module))


@pytest.fixture
def image_url(db, module) -> str:
    html = db.scalar(select(Lesson.body_html).where(Lesson.slug == "why-listen"))
    db.rollback()
    return re.search(r'<img src="([^"]+)"', html).group(1)


@pytest.fixture
def learner(make_user, auth):
    user = make_user(Role.LEARNER)
    auth.login(user.email)
    return user


def test_a_lessons_image_is_served_inline_and_cached_by_its_hash(client, learner, image_url):
    assert image_url.startswith("/media/listening-circles/circle.png?v=")
    response = client.get(image_url)
    assert response.status_code == 200
    assert response.get_data() == PNG
    assert response.mimetype == "image/png"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    etag = response.headers["ETag"]
    response.close()

    unversioned = client.get("/media/listening-circles/circle.png")
    assert unversioned.headers["Cache-Control"] == "private, no-cache"
    unversioned.close()
    again = client.get(image_url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    again.close()


def test_ranges_are_served_for_players_seeking_in_sound(client, learner, image_url):
    response = client.get(image_url, headers={"Range": "bytes=0-7"})
    assert response.status_code == 206
    assert response.get_data() == PNG[:8]
    response.close()


def test_anything_but_raster_images_sound_and_video_is_a_download(app, client, db, learner, module):
    png = db.scalar(select(Media))
    db.add(
        Media(
            module_id=module.id,
            path="media/drawing.svg",
            content_type="image/svg+xml",
            size=png.size,
            sha256=png.sha256,
        )
    )
    db.commit()
    response = client.get("/media/listening-circles/drawing.svg")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment; filename=drawing.svg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_media_needs_a_signed_in_reader(client, module, image_url):
    response = client.get(image_url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/media/listening-circles/nope.png",
        "/media/other-module/circle.png",
        "/media/listening-circles/../module.yaml",
        "/media/listening-circles/%2e%2e/%2e%2e/secret_key",
    ],
)
def test_unknown_media_is_not_found(client, learner, module, path):
    assert client.get(path).status_code == 404


def test_an_unpublished_modules_media_is_hidden_from_learners(
    client, db, module, image_url, learner, make_user, auth
):
    module.published = False
    db.commit()
    assert client.get(image_url).status_code == 404
    auth.logout()
    auth.login(make_user(Role.ADMIN).email)
    response = client.get(image_url)
    assert response.status_code == 200
    response.close()
