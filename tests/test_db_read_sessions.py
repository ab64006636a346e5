"""Read sessions run without a transaction and write only inside ``writing``.

psycopg forgets its prepared statements at every ROLLBACK, which is how every read
request used to end: read sessions run in autocommit, so the hot statements are
planned once per connection, and a page saves its BEGIN and ROLLBACK round trips.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from lms.db import Database
from lms.models import User
from lms.web.database import database
from tests.factories import make_user


def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's read sessions run without a transaction")


def test_a_read_session_writes_inside_writing_and_the_write_is_committed(database_url):
    pooled = Database(database_url)
    try:
        with pooled.new_session(write=True) as setup:
            user = make_user(setup, name="Before")
        with pooled.new_session(write=False) as session:
            session.scalar(select(User).where(User.id == user.id))
            with pooled.writing(session):
                session.execute(update(User).where(User.id == user.id).values(display_name="After"))
        with pooled.new_session(write=False) as session:
            assert session.scalar(select(User.display_name).where(User.id == user.id)) == "After"
    finally:
        pooled.engine.dispose()


def test_a_failure_inside_writing_leaves_nothing_written(database_url):
    pooled = Database(database_url)
    try:
        with pooled.new_session(write=True) as setup:
            user = make_user(setup, name="Before")

        def rename_then_fail(session) -> None:
            with pooled.writing(session):
                session.execute(update(User).where(User.id == user.id).values(display_name="Half"))
                raise ZeroDivisionError

        with pooled.new_session(write=False) as session:
            with pytest.raises(ZeroDivisionError):
                rename_then_fail(session)
            session.rollback()
        with pooled.new_session(write=False) as session:
            assert session.scalar(select(User.display_name).where(User.id == user.id)) == "Before"
    finally:
        pooled.engine.dispose()


def test_a_read_session_that_writes_outside_writing_is_refused_and_writes_nothing(database_url):
    pooled = Database(database_url)
    writes = [update(User).values(display_name="Oops")]
    if database_url.startswith("postgresql"):  # a WITH may hold an UPDATE (not on SQLite)
        writes.append(
            text(
                "WITH renamed AS (UPDATE \"user\" SET display_name = 'Oops' RETURNING id) SELECT 1"
            )
        )
    try:
        with pooled.new_session(write=True) as setup:
            user = make_user(setup, name="Before")
        for write in writes:
            with (
                pooled.new_session(write=False) as session,
                pytest.raises(RuntimeError, match="outside a writing"),
            ):
                session.execute(write)
        with pooled.new_session(write=False) as session:
            assert session.scalar(select(User.display_name).where(User.id == user.id)) == "Before"
    finally:
        pooled.engine.dispose()


def test_a_read_session_runs_without_a_transaction(database_url):
    _postgresql_only(database_url)
    pooled = Database(database_url)
    try:
        with pooled.new_session(write=False) as session:
            first = session.execute(text("SELECT txid_current_if_assigned(), now()")).one()
            second = session.execute(text("SELECT now()")).scalar()
        # Each statement is a transaction of its own: its own now(), no transaction id.
        assert first[0] is None
        assert second > first[1]
    finally:
        pooled.engine.dispose()


def test_pages_keep_the_drivers_prepared_statements(app, client, auth, make_user):
    _postgresql_only(app.config["LMS_DATABASE_URL"])
    user = make_user()
    auth.login(user.email)
    for _ in range(8):  # psycopg prepares a statement on its fifth run
        assert client.get("/").status_code == 200
    engine = database(app).engine
    assert engine.pool.checkedout() == 0
    with engine.connect() as connection:
        prepared = connection.execute(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any('FROM "user"' in row.statement for row in prepared), prepared
