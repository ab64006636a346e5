"""Queries that must not grow with the site: the plans and shapes behind the budgets.

The benchmark (make bench) measures these pages at 20 and at 10,000 learners; these
tests keep the reasons they stay flat from quietly disappearing.
"""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import event

from lms.models import Role
from lms.web.database import database
from tests.factories import make_cohort, make_module, make_reflection, make_users


@pytest.fixture
def cohort_world(db):
    facilitator, ana, ben, outsider = make_users(
        db, Role.FACILITATOR, Role.LEARNER, Role.LEARNER, Role.LEARNER
    )
    module = make_module(db, lessons=3)
    cohort = make_cohort(db, "A", [module], [facilitator], [ana, ben])
    for learner in (ana, ben, outsider):
        make_reflection(
            db, learner, module.lessons[0].prompts[0], f"An answer by {learner.display_name}"
        )
    db.commit()
    return facilitator, cohort, module


def _statements(app, client, path):
    """(SQL, parameters) of every SELECT one request runs."""
    seen = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
        assert response.status_code == 200
        response.get_data()  # a streamed CSV runs its query as it is read
        response.close()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_grid_sorted_by_name_sums_no_progress(app, auth, cohort_world):
    facilitator, cohort, module = cohort_world
    auth.login(facilitator.email)
    path = f"/facilitate/cohorts/{cohort.id}/modules/{module.id}/progress"
    # The page's own learners are grouped into one row each (user.id IN the page's ids);
    # no statement sums the progress of the whole cohort unless the sort needs it.
    by_name = _statements(app, auth.client, path)
    assert not any("sum(" in sql.lower() for sql, _ in by_name)
    assert all(re.search(r'user"?\.id IN', sql) for sql, _ in by_name if "GROUP BY" in sql)
    by_progress = _statements(app, auth.client, path + "?sort=-progress")
    assert any("sum(" in sql.lower() for sql, _ in by_progress)


@pytest.mark.parametrize("suffix", ["", ".csv"])
@pytest.mark.parametrize("sort", ["-progress", "activity"])
def test_grid_sorted_by_progress_sums_the_cohorts_learners_only(
    app, auth, cohort_world, suffix, sort
):
    """Summed learner by learner in the cohort's own statement, not in a subquery over
    everyone who opened the module (which PostgreSQL without statistics ran again for
    every learner of the cohort)."""
    facilitator, cohort, module = cohort_world
    auth.login(facilitator.email)
    path = f"/facilitate/cohorts/{cohort.id}/modules/{module.id}/progress{suffix}?sort={sort}"
    sorting = [
        sql
        for sql, _ in _statements(app, auth.client, path)
        if re.search(r"\b(SUM|MAX)\(", sql.upper().partition("ORDER BY")[2])
    ]
    assert sorting
    for sql in sorting:
        assert sql.upper().count("SELECT") == 1, sql
        assert "membership.cohort_id" in sql, sql


@pytest.mark.skipif(
    os.environ.get("LMS_TEST_DATABASE", "sqlite") != "sqlite", reason="SQLite's query plan"
)
def test_inbox_walks_an_index_newest_first_instead_of_sorting_every_answer(
    app, auth, db, cohort_world
):
    facilitator, _cohort, _module = cohort_world
    auth.login(facilitator.email)
    statements = _statements(app, auth.client, "/facilitate/reflections")
    (sql, parameters) = next(
        (sql, parameters)
        for sql, parameters in statements
        if "FROM reflection" in sql and "ORDER BY reflection.submitted_at DESC" in sql
    )
    with database(app).engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)]
    assert any("ix_reflection_submitted_at_id" in step for step in plan), plan
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan


@pytest.mark.skipif(
    os.environ.get("LMS_TEST_DATABASE", "sqlite") != "postgresql", reason="PostgreSQL's plan"
)
def test_inbox_checks_each_answer_by_index_on_postgresql(app, auth, cohort_world):
    facilitator, _cohort, _module = cohort_world
    auth.login(facilitator.email)
    statements = _statements(app, auth.client, "/facilitate/reflections")
    (sql, parameters) = next(
        (sql, parameters)
        for sql, parameters in statements
        if "FROM reflection" in sql and "ORDER BY reflection.submitted_at DESC" in sql
    )
    with database(app).engine.connect() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, parameters))
    # Not a semi-join over every learner of the cohort, filtered answer by answer.
    assert "SubPlan" in plan, plan
