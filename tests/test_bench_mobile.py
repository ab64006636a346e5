"""bench/mobile.py's counting: what went over the network, as Chromium's events say it."""

from __future__ import annotations

from bench import mobile
from bench.mobile import Fetch, Wire


class FakeSession:
    """A DevTools session that replays the events a test gives it."""

    def __init__(self) -> None:
        self.handlers: dict[str, object] = {}

    def on(self, name: str, handler) -> None:
        self.handlers[name] = handler

    def emit(self, name: str, **event) -> None:
        self.handlers[f"Network.{name}"](event)


def _wire() -> tuple[Wire, FakeSession]:
    wire, cdp = Wire(), FakeSession()
    wire.listen(cdp)
    return wire, cdp


def _request(cdp: FakeSession, request_id: str, url: str) -> None:
    cdp.emit("requestWillBeSent", requestId=request_id, request={"url": url})


def _response(cdp: FakeSession, request_id: str, status: int, **response) -> None:
    cdp.emit("responseReceived", requestId=request_id, response={"status": status, **response})


def test_a_response_from_the_network_counts_with_its_bytes_on_the_wire():
    wire, cdp = _wire()
    _request(cdp, "1", "http://127.0.0.1:5000/modules/m/lessons/l")
    _response(cdp, "1", 200, encodedDataLength=712)  # the headers only, so far
    assert wire.in_flight
    cdp.emit("loadingFinished", requestId="1", encodedDataLength=20929)
    assert wire.fetched == [Fetch("/modules/m/lessons/l", 200, 20929)]
    assert wire.in_flight == {}


def test_a_revalidation_is_a_network_request():
    wire, cdp = _wire()
    _request(cdp, "2", "http://127.0.0.1:5000/static/css/site.css")
    _response(cdp, "2", 304, encodedDataLength=772)
    cdp.emit("loadingFinished", requestId="2", encodedDataLength=772)
    assert wire.fetched == [Fetch("/static/css/site.css", 304, 772)]


def test_responses_from_the_memory_or_disk_cache_are_not_requests():
    """As Chromium 156 reports them: a memory hit is said by requestServedFromCache (its
    responseReceived carries the stored size), a disk hit by fromDiskCache."""
    wire, cdp = _wire()
    _request(cdp, "3", "http://127.0.0.1:5000/static/js/autosave.js?v=1")
    cdp.emit("requestServedFromCache", requestId="3")
    _response(cdp, "3", 200, encodedDataLength=19988, fromDiskCache=False)
    cdp.emit("loadingFinished", requestId="3", encodedDataLength=0)
    _request(cdp, "4", "http://127.0.0.1:5000/favicon.ico")
    _response(cdp, "4", 200, encodedDataLength=0, fromDiskCache=True)
    cdp.emit("loadingFinished", requestId="4", encodedDataLength=0)
    assert wire.fetched == []
    assert wire.from_cache == 2


def test_a_failed_request_counts_and_data_urls_are_not_requests():
    wire, cdp = _wire()
    _request(cdp, "5", "http://127.0.0.1:5000/media/gone.png")
    cdp.emit("loadingFailed", requestId="5", errorText="net::ERR_CONNECTION_REFUSED")
    _request(cdp, "6", "data:image/png;base64,AAAA")
    cdp.emit("loadingFinished", requestId="6", encodedDataLength=0)
    assert wire.fetched == [Fetch("/media/gone.png", None, 0)]
    assert wire.from_cache == 0


def _figures(cold_ms: int, warm_ms: int, warm_fetched: list) -> dict:
    def view(ms, fetched):
        return {
            "heading_ms": ms,
            "heading_source": "element-timing",
            "requests": len(fetched),
            "bytes": sum(size for _url, _status, size in fetched),
            "fetched": fetched,
        }

    lesson = ["/modules/m/lessons/l", 200, 20960]
    return {"cold": view(cold_ms, [lesson]), "warm": view(warm_ms, warm_fetched)}


def test_the_budgets_pass_within_their_bounds_and_fail_past_them():
    lesson = ["/modules/m/lessons/l", 200, 20960]
    css = ["/static/css/site.css", 304, 772]
    passing = mobile.budgets(_figures(2500, 1000, [lesson]))
    assert [passed for _name, passed, _detail in passing] == [True, True, True]
    failing = mobile.budgets(_figures(2501, 1001, [lesson, css]))
    assert [passed for _name, passed, _detail in failing] == [False, False, False]
    assert "/static/css/site.css 304" in failing[2][2]
