"""Hostile text in real chromium: with every payload seeded, no page runs any of them.

The site is filled through the app's forms (tests/hostile_site.py) and served by gunicorn.
Each page is opened with a hook that records any call of ``__xss`` and any alert,
confirm or prompt. The Content-Security-Policy is set aside (``bypass_csp``), so that
the test proves the escaping and sanitising alone: the policy is a second wall.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.hostile_package import MODULE_SLUG
from tests.hostile_payloads import PAYLOADS
from tests.hostile_site import build_hostile_world
from tests.world import World

RECORDER = """
window.__xssCalls = [];
window.__xss = (n) => window.__xssCalls.push("__xss(" + n + ")");
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__xssCalls.push(name + "(" + message + ")"); };
}
"""

# Focus, hover and open what a payload might wait for (autofocus/onfocus, onmouseover,
# ontoggle), then give handlers and failed image loads a moment to fire.
PROVOKE = """
async () => {
  for (const element of document.body.querySelectorAll("*")) {
    for (const type of ["mouseover", "mouseenter", "pointerover", "pointerenter"]) {
      element.dispatchEvent(new MouseEvent(type, {bubbles: true}));
    }
    if (element.tagName === "DETAILS") element.open = true;
  }
  const focusable = "a, button, input, select, textarea, summary, [tabindex]";
  for (const element of document.body.querySelectorAll(focusable)) element.focus();
  await new Promise((resolve) => setTimeout(resolve, 150));
  return window.__xssCalls;
}
"""


@pytest.fixture
def world(app, db, tmp_path, live_server) -> World:
    return build_hostile_world(app, db, tmp_path, PAYLOADS)


CONTROL = (
    "<img src=x onerror=__xss(0)><input autofocus onfocus=alert(0)>"
    "<p onmouseover=confirm(0)>hover</p>"
)


def _visit(browser, live_server, email: str, paths: list[str], shown: dict) -> list[str]:
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(10_000)
    context.add_init_script(RECORDER)
    page = context.new_page()
    ran: list[str] = []
    page.on("dialog", lambda dialog: (ran.append(f"dialog {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: ran.append(f"script error {error}"))
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    # The hook itself is tested first: a page that runs code is caught.
    page.set_content(CONTROL)
    assert set(page.evaluate(PROVOKE)) >= {"__xss(0)", "alert(0)", "confirm(0)"}
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("load")
        ran += [f"{path}: {call}" for call in page.evaluate(PROVOKE)]
        shown[path] = page.locator("body").inner_text()
    context.close()
    return ran


def test_no_payload_runs_in_chromium(browser, live_server, world):
    cohort = world.ids["cohort_id"]
    visits = {
        world.emails["author"]: [
            f"/modules/{MODULE_SLUG}/lessons/{world.ids['lesson_slug']}",
            f"/modules/{MODULE_SLUG}",
            "/my-work",
            f"/cohorts/{cohort}",
            f"/cohorts/{cohort}/gallery",
            f"/modules/{MODULE_SLUG}/certificate",
        ],
        world.emails["facilitator"]: [
            f"/facilitate/reflections/{world.ids['reflection_id']}",
            "/facilitate/reflections",
            f"/facilitate/cohorts/{cohort}",
            f"/facilitate/cohorts/{cohort}/hidden/replies",
        ],
    }
    shown: dict[str, str] = {}
    ran = [
        call
        for email, paths in visits.items()
        for call in _visit(browser, live_server, email, paths, shown)
    ]
    assert ran == []
    # The payloads are there, shown as text.
    assert "tpl{{7*7}}tpl" in shown["/my-work"]
    assert "<script>__xss(1)</script>" in shown[f"/facilitate/cohorts/{cohort}"]
