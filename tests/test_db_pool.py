"""Each process keeps its own pooled connections, and a request leaves none checked out.

SQLite's connections are pooled like PostgreSQL's (opening one runs four pragmas and
closing the last one checkpoints the WAL): a forked worker must not use a connection
its parent opened, and pragmas run once per connection, not once per request.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import event, text

from lms.db import Database
from lms.web.database import database


def _dbapi_connection_id(pooled: Database) -> int:
    with pooled.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        return id(conn.connection.dbapi_connection)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_opens_its_own_connection_and_the_parent_keeps_its_own(database_url):
    pooled = Database(database_url)
    try:
        parent_connection = _dbapi_connection_id(pooled)
        assert pooled.engine.pool.checkedin() == 1
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, never run the rest of the test
            code = 1
            try:
                inherited = pooled.engine.pool.checkedin()
                own = _dbapi_connection_id(pooled)
                code = 0 if inherited == 0 and own != parent_connection else 2
            finally:
                os.write(write, bytes([code]))
                os._exit(0)
        os.close(write)
        child_said = os.read(read, 1)
        os.close(read)
        os.waitpid(pid, 0)
        assert child_said == b"\x00", "the child reused its parent's pooled connection"
        assert _dbapi_connection_id(pooled) == parent_connection
    finally:
        pooled.engine.dispose()


def test_connections_are_reused_and_set_up_once(database_url):
    pooled = Database(database_url)
    connects = []
    event.listen(pooled.engine, "connect", lambda *_args: connects.append(1))
    try:
        for write in (False, True, False, True):
            with pooled.new_session(write=write) as session:
                session.execute(text("SELECT 1"))
                session.commit()
        assert len(connects) == 1
        assert pooled.engine.pool.checkedout() == 0
    finally:
        pooled.engine.dispose()


def test_requests_leave_no_connection_checked_out(app, client):
    for _ in range(3):
        assert client.get("/modules").status_code == 200
    assert database(app).engine.pool.checkedout() == 0
