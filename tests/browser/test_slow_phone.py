"""bench/mobile.py on the real lesson page: its heading is timed, its script marks itself."""

from __future__ import annotations

from bench import mobile
from tests.conftest import PASSWORD
from tests.factories import make_enrollment, make_module


def test_the_slow_phone_times_the_lesson_heading_and_the_armed_autosave(
    browser, live_server, db, make_user
):
    learner = make_user()
    module = make_module(db, lessons=2, prompts=[{"text": "What helps you rest?"}])
    make_enrollment(db, learner, module)
    db.commit()
    lesson = f"/modules/{module.slug}/lessons/lesson-1"

    figures = mobile.measure_in(browser, live_server.url, learner.email, PASSWORD, lesson, 1)

    for name in ("cold", "warm"):
        view = figures[name]
        assert view["heading_source"] == "element-timing"
        # Every request waits the emulated round trip: the throttling is on.
        assert view["heading_ms"] > mobile.NETWORK["latency"]
        assert view["script_ms"] is not None
        assert [lesson, 200] in [fetch[:2] for fetch in view["fetched"]]  # never cached
    assert figures["cold"]["from_cache"] == 0
    assert figures["cold"]["bytes"] > figures["warm"]["bytes"]
