"""A lesson opened on a slow phone: real Chromium, an emulated mobile network, a slow CPU.

    .venv/bin/python -m bench.mobile --url http://127.0.0.1:5000 \\
        --email learner@example.org --password '...' \\
        --lesson /modules/holistic-wellness/lessons/arriving-with-yourself [--runs 3]

Also a section of ``make bench`` (bench/run.py), for the benchmark learner on the lesson
the throughput figures open. What one run does:

1. the learner signs in through the page's form, unthrottled, in a browser context of
   its own, which is then closed: only its cookies are kept;
2. a fresh context (an empty cache) holding those cookies, phone-sized (360×740, device
   scale factor 2, mobile, touch), its tab throttled through the DevTools protocol
   before its first request: ``Network.emulateNetworkConditions`` (400 ms round trip,
   400 kbit/s down and up) and ``Emulation.setCPUThrottlingRate`` (4× slower);
3. **cold**: the lesson opened in that tab; **warm**: the same URL opened again in the
   same tab (``page.goto``, a normal navigation, not a reload).

For each view, from the navigation's start (``performance.timeOrigin``):

- **heading**: when the lesson's ``<h1 elementtiming="lesson-heading">`` was painted
  (its Element Timing entry's ``renderTime``), or the first contentful paint where the
  browser has no Element Timing (the figures say which);
- **script**: when autosave.js had armed its handlers (its ``autosave-armed`` mark);
- **HTML**: when the page's HTML had arrived (the navigation's ``responseEnd``);
- **requests** and **bytes**: what the tab fetched over the network, from its DevTools
  ``Network`` events, bytes as received (headers and encoded body: ``encodedDataLength``
  of ``Network.loadingFinished``). What Chromium 156 reports for a response it did not
  fetch: from its memory cache, ``Network.requestServedFromCache``, then
  ``responseReceived`` (with the stored response's size) and ``loadingFinished`` with
  ``encodedDataLength`` 0; from its disk cache, ``responseReceived`` with
  ``fromDiskCache``. Neither is counted. A revalidation (a 304) is a network request.

The figures are the medians of ``--runs`` runs, each in a fresh context. Budgets (issue
15): the heading within 2.5 s cold and 1.0 s warm, and a warm view of one request (the
page's HTML: everything else from the cache).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS

PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
NETWORK = {
    "offline": False,
    "latency": 400,  # ms, added to every request's round trip
    "downloadThroughput": 400_000 / 8,  # bytes per second: 400 kbit/s
    "uploadThroughput": 400_000 / 8,
}
CPU_SLOWDOWN = 4
CONDITIONS = "360×740 @2×, 400 kbit/s down and up, 400 ms round trip, CPU 4× slower"
HEADING = "lesson-heading"  # the lesson page's <h1 elementtiming="...">
SCRIPT_READY = "autosave-armed"  # autosave.js's performance.mark
QUIET_MS = 1000  # a view is over when nothing has been in flight this long after its load
TIMEOUT_MS = 60_000

# Budgets (issue 15).
COLD_HEADING_MS = 2500
WARM_HEADING_MS = 1000
WARM_REQUESTS = 1

# The heading's Element Timing entry (buffered, so it is there however late this runs),
# or else the first contentful paint.
READ_HEADING = """
([identifier, waitMs]) => new Promise((resolve) => {
  const paint = () => {
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    resolve(fcp ? {source: "first-contentful-paint", ms: fcp.startTime} : {source: null, ms: null});
  };
  if (!(PerformanceObserver.supportedEntryTypes || []).includes("element")) {
    paint();
    return;
  }
  const observer = new PerformanceObserver((list) => {
    const entry = list.getEntries().find((e) => e.identifier === identifier);
    if (entry) {
      observer.disconnect();
      resolve({source: "element-timing", ms: entry.renderTime || entry.loadTime});
    }
  });
  observer.observe({type: "element", buffered: true});
  setTimeout(() => { observer.disconnect(); paint(); }, waitMs);
})
"""
READ_TIMES = """
(mark) => {
  const ready = performance.getEntriesByName(mark, "mark")[0];
  const navigation = performance.getEntriesByType("navigation")[0];
  return {
    script: ready ? ready.startTime : null,
    html: navigation ? navigation.responseEnd : null,
    type: navigation ? navigation.type : null,
  };
}
"""


def chromium() -> str:
    """The chromium to launch, or a plain message if there is none."""
    if not os.path.exists(CHROMIUM):
        raise SystemExit(
            f"chromium is not installed at {CHROMIUM} (apt-get install chromium, or set "
            "LMS_TEST_CHROMIUM); bench.run --skip-mobile leaves this measurement out."
        )
    return CHROMIUM


@dataclass(frozen=True)
class Fetch:
    """One request that went over the network, and its answer."""

    url: str
    status: int | None
    bytes: int


@dataclass
class Wire:
    """What a tab fetches over the network and what it takes from its cache, from the
    DevTools protocol's Network events."""

    fetched: list[Fetch] = field(default_factory=list)
    from_cache: int = 0
    in_flight: dict[str, dict[str, Any]] = field(default_factory=dict)

    def listen(self, cdp) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._from_memory)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def clear(self) -> None:
        self.fetched, self.from_cache = [], 0

    def _sent(self, event: dict) -> None:
        url = event["request"]["url"]
        if url.startswith(("http:", "https:")):
            self.in_flight[event["requestId"]] = {"url": url, "status": None, "cached": False}

    def _from_memory(self, event: dict) -> None:
        if event["requestId"] in self.in_flight:
            self.in_flight[event["requestId"]]["cached"] = True

    def _response(self, event: dict) -> None:
        request = self.in_flight.get(event["requestId"])
        if request is not None:
            response = event["response"]
            request["status"] = response["status"]
            if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
                request["cached"] = True

    def _finished(self, event: dict) -> None:
        self._done(event["requestId"], int(event["encodedDataLength"]))

    def _failed(self, event: dict) -> None:
        self._done(event["requestId"], 0)

    def _done(self, request_id: str, received: int) -> None:
        request = self.in_flight.pop(request_id, None)
        if request is None:
            return
        if request["cached"]:
            self.from_cache += 1
        else:
            self.fetched.append(Fetch(_path(request["url"]), request["status"], received))


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class View:
    """One opening of the lesson: its times from the navigation's start, and its traffic."""

    heading_ms: float
    heading_source: str
    script_ms: float | None
    html_ms: float
    fetched: list[Fetch]
    from_cache: int

    @property
    def requests(self) -> int:
        return len(self.fetched)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.fetched)


class Tab:
    """A phone's tab on the slow network, in a browser context of its own (its own cache)."""

    def __init__(self, browser, base: str, cookies: dict) -> None:
        self.context = browser.new_context(base_url=base, storage_state=cookies, **PHONE)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.wire = Wire()
        cdp = self.context.new_cdp_session(self.page)
        self.wire.listen(cdp)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", NETWORK)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})

    def open(self, path: str) -> View:
        """Open the lesson and wait until it is loaded and nothing is in flight."""
        self.wire.clear()
        response = self.page.goto(path, wait_until="load")
        if urllib.parse.urlsplit(self.page.url).path != path.split("?")[0]:
            raise RuntimeError(f"{path} led to {self.page.url}: is the learner signed in?")
        if response is None or response.status != 200:
            raise RuntimeError(f"{path} answered {response and response.status}")
        quiet = 0
        while quiet < QUIET_MS:  # the favicon, or anything else the page asks for late
            self.page.wait_for_timeout(100)
            quiet = 0 if self.wire.in_flight else quiet + 100
        heading = self.page.evaluate(READ_HEADING, [HEADING, 5000])
        times = self.page.evaluate(READ_TIMES, SCRIPT_READY)
        if self.errors:
            raise RuntimeError(f"script errors on {path}: {self.errors}")
        if times["type"] != "navigate":  # not a reload, which revalidates what it has
            raise RuntimeError(f"{path} was opened as a {times['type']}, not a navigation")
        if heading["ms"] is None:
            raise RuntimeError(f"{path}: the browser reported no paint")
        return View(
            heading_ms=heading["ms"],
            heading_source=heading["source"],
            script_ms=times["script"],
            html_ms=times["html"],
            fetched=list(self.wire.fetched),
            from_cache=self.wire.from_cache,
        )

    def close(self) -> None:
        self.context.close()


def sign_in(browser, base: str, email: str, password: str) -> dict:
    """The learner signed in through the page's form, unthrottled: the cookies to keep."""
    context = browser.new_context(base_url=base, **PHONE)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", password)
        with page.expect_navigation():
            page.press("#password", "Enter")
        if urllib.parse.urlsplit(page.url).path == "/login":
            raise RuntimeError(f"{email} could not sign in")
        return context.storage_state()
    finally:
        context.close()


def _summary(views: list[View]) -> dict[str, Any]:
    scripts = [v.script_ms for v in views if v.script_ms is not None]
    last = views[-1]
    return {
        "heading_ms": round(statistics.median(v.heading_ms for v in views)),
        "heading_ms_runs": [round(v.heading_ms) for v in views],
        "heading_source": " and ".join(sorted({v.heading_source for v in views})),
        "script_ms": round(statistics.median(scripts)) if scripts else None,
        "html_ms": round(statistics.median(v.html_ms for v in views)),
        "requests": statistics.median_high(v.requests for v in views),
        "bytes": statistics.median_high(v.bytes for v in views),
        "from_cache": statistics.median_high(v.from_cache for v in views),
        # What went over the network in the last run, to read the figures by.
        "fetched": [[f.url, f.status, f.bytes] for f in last.fetched],
    }


def measure_lesson_load(
    app_url: str, email: str, password: str, lesson_path: str, runs: int = 3
) -> dict[str, Any]:
    """A lesson opened cold and warm on a slow phone: medians of ``runs`` runs, each in a
    fresh browser context; figures and budgets as the module's docstring says."""
    from playwright.sync_api import sync_playwright  # here: bench.run --skip-mobile needs none

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            return measure_in(browser, app_url, email, password, lesson_path, runs)
        finally:
            browser.close()


def measure_in(
    browser, app_url: str, email: str, password: str, lesson_path: str, runs: int
) -> dict[str, Any]:
    """measure_lesson_load in a Playwright browser already launched (the tests' own)."""
    cookies = sign_in(browser, app_url, email, password)
    cold: list[View] = []
    warm: list[View] = []
    for _ in range(runs):
        tab = Tab(browser, app_url, cookies)
        try:
            cold.append(tab.open(lesson_path))
            warm.append(tab.open(lesson_path))
        finally:
            tab.close()
    return {
        "browser": f"Chromium {browser.version}",
        "conditions": CONDITIONS,
        "lesson": lesson_path,
        "runs": runs,
        "cold": _summary(cold),
        "warm": _summary(warm),
    }


def budgets(figures: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Each budget of issue 15 on these figures: its name, whether it passes, and why."""
    cold, warm = figures["cold"], figures["warm"]
    return [
        (
            f"slow phone, cold cache: lesson heading painted ≤ {COLD_HEADING_MS / 1000:.1f} s",
            cold["heading_ms"] <= COLD_HEADING_MS,
            f"{cold['heading_ms']:,} ms ({cold['heading_source']})",
        ),
        (
            f"slow phone, warm cache: lesson heading painted ≤ {WARM_HEADING_MS / 1000:.1f} s",
            warm["heading_ms"] <= WARM_HEADING_MS,
            f"{warm['heading_ms']:,} ms ({warm['heading_source']})",
        ),
        (
            f"slow phone, warm cache: {WARM_REQUESTS} network request",
            warm["requests"] <= WARM_REQUESTS,
            f"{warm['requests']} requests, {warm['bytes']:,} bytes: "
            + ", ".join(f"{url} {status}" for url, status, _size in warm["fetched"]),
        ),
    ]


def print_figures(figures: dict[str, Any]) -> None:
    """The figures as a small table, and what went over the network."""

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f} ms"

    print(f"  {'view':6} {'heading':>9} {'script':>9} {'HTML':>9} {'requests':>9} {'bytes':>9}")
    for name in ("cold", "warm"):
        view = figures[name]
        print(
            f"  {name:6} {ms(view['heading_ms']):>9} {ms(view['script_ms']):>9} "
            f"{ms(view['html_ms']):>9} {view['requests']:>9} {view['bytes']:>9,}"
            f"  (runs: {', '.join(str(v) for v in view['heading_ms_runs'])} ms to the heading)"
        )
    print(
        f"  heading painted: {figures['cold']['heading_source']} (cold), "
        f"{figures['warm']['heading_source']} (warm); script ready: the {SCRIPT_READY!r} mark"
    )
    for name in ("cold", "warm"):
        fetched = ", ".join(f"{u} {s} ({b:,} B)" for u, s, b in figures[name]["fetched"])
        print(f"  {name} fetched: {fetched}; {figures[name]['from_cache']} from the cache")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the running app, e.g. http://127.0.0.1:5000")
    parser.add_argument("--email", required=True, help="a learner enrolled in the lesson's module")
    parser.add_argument("--password", required=True)
    parser.add_argument("--lesson", required=True, help="/modules/<slug>/lessons/<slug>")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    figures = measure_lesson_load(args.url, args.email, args.password, args.lesson, args.runs)
    print(f"{args.lesson} on a slow phone ({figures['browser']}; {CONDITIONS}):")
    print_figures(figures)
    failed = 0
    for name, passed, detail in budgets(figures):
        failed += not passed
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
