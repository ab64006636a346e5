"""Chromium on a phone picks the copy of a lesson image its screen needs, not the original."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.models import Media, Role
from tests.browser.lesson import sign_in
from tests.factories import make_enrollment, make_user
from tests.fixtures.packages.importing import import_into
from tests.pictures import encoded, image_package, picture


@pytest.fixture
def learner_on_a_photo(db, storage, tmp_path):
    """A learner enrolled in listening-circles, whose first lesson shows a 2000-pixel photo."""
    package = image_package(tmp_path, {"photo.jpg": encoded(picture(2000, 1300), "JPEG")})
    module = import_into(db, storage, package).module
    user = make_user(db, Role.LEARNER)
    make_enrollment(db, user, module)
    email = user.email
    db.close()
    return email


@pytest.mark.parametrize(("scale", "width"), [(1, 480), (3, 1600)])
def test_a_phone_fetches_the_copy_its_screen_needs(
    browser, live_server, learner_on_a_photo, db, scale, width
):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        device_scale_factor=scale,
    )
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    sign_in(page, learner_on_a_photo)
    page.goto("/modules/listening-circles/lessons/why-listen")
    photo = page.get_by_role("img", name="Picture 1")
    photo.scroll_into_view_if_needed()
    expect(photo).to_have_js_property("complete", True)
    # The column is 328 CSS pixels wide: 328 device pixels at 1x, 984 at 3x.
    assert photo.evaluate("image => image.currentSrc").endswith(f"&w={width}")
    assert [url for url in fetched if "/media/listening-circles/photo.jpg" in url] == [
        photo.evaluate("image => image.currentSrc")
    ]
    assert photo.evaluate("image => Math.round(image.getBoundingClientRect().width)") == 328
    original = db.scalar(select(Media.sha256).where(Media.path == "media/photo.jpg"))
    assert not [url for url in fetched if url.endswith(f"?v={original[:16]}")]
    context.close()
