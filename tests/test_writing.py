"""A request that reads first writes in one short block: ``with writing(session):``.

A read session runs without a transaction (lms.db.Database); the block is a transaction
of its own, which on SQLite begins IMMEDIATE (it holds the one write lock only while it
writes), and the session reads on as it did before once the block has committed. A
write session's transaction goes on into the block on PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from lms.db import now_utc
from lms.models import Throttle
from lms.web.database import database, get_session, writing


@pytest.fixture
def transactions(app):
    """The statements of each transaction the app's engine runs (a statement outside any
    is one of its own); SQLite's BEGIN says how."""
    engine = database(app).engine
    seen: list[list[str]] = []

    def began(_connection):
        if engine.dialect.name != "sqlite":
            seen.append([])

    def executed(_conn, cursor, statement, *_args):
        words = statement.split()
        if words[0].upper() == "BEGIN":  # SQLite's BEGIN IMMEDIATE
            seen.append([" ".join(words).upper()])
        elif engine.dialect.name == "sqlite" and not cursor.connection.in_transaction:
            seen.append([words[0].upper()])  # a statement outside any transaction
        else:
            seen[-1].append(words[0].upper())

    event.listen(engine, "begin", began)
    event.listen(engine, "before_cursor_execute", executed)
    yield seen
    event.remove(engine, "begin", began)
    event.remove(engine, "before_cursor_execute", executed)


def _throttle(key: str) -> Throttle:
    return Throttle(key=key, attempts=1, window_started_at=now_utc())


def _keys(db) -> list[str]:
    keys = list(db.scalars(select(Throttle.key).order_by(Throttle.key)))
    db.commit()
    return keys


def test_a_read_request_writes_in_a_short_transaction_of_its_own(app, db, transactions):
    with app.test_request_context("/", method="GET"):
        session = get_session()
        session.scalar(select(Throttle.key))
        with writing(session):
            session.add(_throttle("written"))
        session.scalar(select(Throttle.key))  # read on, as a streamed download does
        session.close()

    if database(app).engine.dialect.name == "sqlite":
        assert transactions == [["SELECT"], ["BEGIN IMMEDIATE", "INSERT"], ["SELECT"]]
    else:  # the reads run without a transaction (lms.db.Database), the write in its own
        assert transactions == [["SELECT"], ["INSERT"], ["SELECT"]]
    assert _keys(db) == ["written"]


def test_a_write_request_goes_on_writing_after_the_block(app, db, transactions):
    with app.test_request_context("/", method="POST"):
        session = get_session()
        with writing(session):
            session.add(_throttle("first"))
        session.add(_throttle("second"))
        session.commit()
        session.close()

    if database(app).engine.dialect.name == "sqlite":
        assert transactions == [["BEGIN IMMEDIATE", "INSERT"], ["BEGIN IMMEDIATE", "INSERT"]]
    assert _keys(db) == ["first", "second"]


def test_a_block_that_fails_commits_nothing(app, db):
    with app.test_request_context("/", method="GET"):
        session = get_session()
        before = session.bind

        def the_account_goes_meanwhile():
            with writing(session):
                session.add(_throttle("half-written"))
                session.flush()
                raise LookupError("the account went meanwhile")

        with pytest.raises(LookupError):
            the_account_goes_meanwhile()
        assert session.bind is before  # reads on without the write lock
        session.rollback()  # as the app's error handlers do
        session.close()

    assert _keys(db) == []
