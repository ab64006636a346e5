"""Playwright driving Debian's chromium against the app under gunicorn.

Playwright's own browser download cannot work on a closed network, so the tests
launch the system chromium; without it they are skipped here and fail in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import skip_or_fail

# The slow fault tests load both cores (50 learners autosaving) while a journey runs on
# the other xdist worker: assertions wait as long as actions do, not Playwright's 5 s.
EXPECT_TIMEOUT_MS = 10_000


def pytest_configure(config):
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        skip_or_fail("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser, live_server):
    """A fresh browser profile pointed at this test's server, phone-sized by default."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], f"script errors in the page: {errors}"


# axe-core ships inside the axe-playwright-python package, so nothing is fetched.
@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def assert_accessible(axe):
    """Run axe-core on the page; fail on any serious or critical violation."""

    def check(page) -> None:
        results = axe.run(page)
        serious = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{page.url}: {serious}"

    return check
