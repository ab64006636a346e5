"""A learner reopening a lesson downloads the page alone: its stylesheets and scripts,
under hashed names cached for a year, come from the browser's cache.

Counted with Chromium's DevTools protocol: every response is reported
(`Network.responseReceived`), and one that came from the cache says so — from the disk
cache or a prefetch in the response itself, from the memory cache (as Chromium reports
it, measured: `fromDiskCache` false) by a `Network.requestServedFromCache` event first.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.models import Module
from tests.browser.lesson import sign_in
from tests.factories import make_enrollment
from tests.fixtures.packages.importing import import_into
from tests.fixtures.packages.kit import BUNDLED

LESSON = "/modules/holistic-wellness/lessons/arriving-with-yourself"
CACHE_FLAGS = ("fromDiskCache", "fromPrefetchCache", "fromServiceWorker")


class Network:
    """The responses a page received from the network, not from a cache."""

    def __init__(self, context, page) -> None:
        self.cdp = context.new_cdp_session(page)
        self.from_cache: set[str] = set()
        self.responses: list[dict] = []
        self.cdp.on("Network.requestServedFromCache", self._served_from_cache)
        self.cdp.on("Network.responseReceived", self._received)
        self.cdp.send("Network.enable")

    def _served_from_cache(self, event: dict) -> None:
        self.from_cache.add(event["requestId"])

    def _received(self, event: dict) -> None:
        self.responses.append(event)

    def fetched(self) -> list[dict]:
        """The responses since the last call that crossed the network."""
        fetched = [
            {**event["response"], "headers": _lower(event["response"]["headers"])}
            for event in self.responses
            if event["requestId"] not in self.from_cache
            and not any(event["response"].get(flag) for flag in CACHE_FLAGS)
        ]
        self.responses.clear()
        return fetched


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_a_lesson_opened_again_downloads_only_the_page(
    page, context, db, storage, make_user, live_server, assert_accessible
):
    import_into(db, storage, BUNDLED / "holistic-wellness")
    module = db.scalar(select(Module).where(Module.slug == "holistic-wellness"))
    learner = make_user()
    make_enrollment(db, learner, module)
    email = learner.email
    db.rollback()  # no transaction left open: on SQLite the server writes
    network = Network(context, page)
    sign_in(page, email)
    page.goto(LESSON)
    first = network.fetched()
    assert_accessible(page)
    static = [r for r in first if "/static/" in r["url"]]
    assert static, "the first visits fetched no stylesheet or script"
    for response in static:
        assert response["headers"]["cache-control"] == "public, max-age=31536000, immutable"
        assert response["headers"]["content-encoding"] == "br"

    page.goto(LESSON)  # the same address again: a new navigation, not a reload

    (only,) = network.fetched()
    assert only["url"] == live_server.url + LESSON
    assert only["mimeType"] == "text/html"
    assert only["headers"]["content-encoding"] == "br"  # typed address: Sec-Fetch-Site none
    assert only["headers"]["cache-control"] == "no-store"  # the learner's page stays theirs
    assert page.locator("link[rel=stylesheet]").count() == 2
