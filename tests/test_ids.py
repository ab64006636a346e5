"""Ids of any size in paths and query strings: out of range is 404 or no filter, never 500."""

from __future__ import annotations

import pytest
from flask import url_for

from lms.web.ids import MAX_ID, IdConverter, parse_id
from tests.access_world import app_routes, build_access_world
from tests.world import signed_in

TOO_LARGE = [str(MAX_ID + 1), str(2**64), "9" * 40]


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IdConverter) for c in rule._converters.values()):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _urls(app, rule, world, bad: str):
    """The route's URL with each of its ids in turn replaced by the bad number."""
    real = {name: world.ids.get(name, 1) for name in rule.arguments}
    for name, converter in rule._converters.items():
        if isinstance(converter, IdConverter):
            with app.test_request_context():
                yield url_for(rule.endpoint, **(real | {name: int(bad)}))


def test_every_route_with_an_id_answers_404_for_an_id_too_large_for_the_database(app, db, tmp_path):
    world = build_access_world(app, db, tmp_path, uploads=False)
    routes = list(_int_routes(app))
    assert len(routes) >= 40
    assert {route for route in app_routes(app)} >= {(r.endpoint, m) for r, m in routes}
    admin = signed_in(app, db, world.users["admin"], world.csrf_secret)
    learner = signed_in(app, db, world.users["learner_a"], world.csrf_secret)
    wrong = []
    for rule, method in routes:
        for url in (u for bad in TOO_LARGE for u in _urls(app, rule, world, bad)):
            for client in (admin, learner):
                data = {"csrf_token": world.csrf_token} if method == "POST" else None
                status = client.open(url, method=method, data=data).status_code
                if status != 404:
                    wrong.append(f"{method} {url}: {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("bad", TOO_LARGE + ["-1", "1e3", "١٢", "0x10", " 7 "])
def test_query_string_ids_out_of_range_are_ignored_filters(app, db, tmp_path, bad):
    world = build_access_world(app, db, tmp_path, uploads=False)
    admin = signed_in(app, db, world.users["admin"], world.csrf_secret)
    learner = signed_in(app, db, world.users["learner_a"], world.csrf_secret)
    gallery = f"/cohorts/{world.ids['cohort_id']}/gallery?prompt={bad}&page={bad}"
    inbox = f"/facilitate/reflections?cohort={bad}&module={bad}&lesson={bad}&prompt={bad}"
    assert learner.get(gallery).status_code == 200
    assert admin.get(inbox + f"&page={bad}").status_code == 200
    module_only = f"/facilitate/reflections?module={world.ids['module_id']}&lesson={bad}"
    assert admin.get(module_only).status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" 12 ", 12), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("", None)]
    + [("-3", None), ("٣", None), ("1.0", None), (None, None), (True, None), (5, 5)],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected
