"""An acknowledged save is durable, and a connection waits no longer than it is told.

SQLite commits with ``synchronous=FULL`` on every pooled connection (WAL's usual NORMAL
survives a process crash but not a power cut); PostgreSQL's ``synchronous_commit`` is on.
The lock timeout holds from a connection's very first statement.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import ExitStack

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from lms.db import Database

LOCK_TIMEOUT_MS = 300
SQLITE_FULL = 2  # PRAGMA synchronous's number for FULL


def test_every_pooled_connection_commits_to_the_disk_and_waits_as_configured(database_url):
    pooled = Database(database_url, LOCK_TIMEOUT_MS)
    size = pooled.engine.pool.size() + pooled.engine.pool._max_overflow
    try:
        with ExitStack() as stack:
            connections = [stack.enter_context(pooled.engine.connect()) for _ in range(size)]
            settings = [_durability_settings(connection) for connection in connections]
            drivers = {id(c.connection.dbapi_connection) for c in connections}
        assert len(drivers) == size
    finally:
        pooled.engine.dispose()
    if pooled.engine.dialect.name == "sqlite":
        expected = {"synchronous": SQLITE_FULL, "busy_timeout": LOCK_TIMEOUT_MS}
        expected |= {"journal_mode": "wal", "foreign_keys": 1}
    else:
        expected = {"synchronous_commit": "on", "lock_timeout": f"{LOCK_TIMEOUT_MS}ms"}
        expected |= {"fsync": "on"}
    assert settings == [expected] * size


def _durability_settings(connection) -> dict:
    if connection.dialect.name == "sqlite":
        names = ("synchronous", "busy_timeout", "journal_mode", "foreign_keys")
        return {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}
    names = ("synchronous_commit", "lock_timeout", "fsync")
    return {name: connection.exec_driver_sql(f"SHOW {name}").scalar() for name in names}


def test_a_new_sqlite_connection_waits_the_lock_timeout_not_the_drivers_five_seconds(
    database_url,
):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's busy timeout; PostgreSQL sets lock_timeout at connect")
    path = database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE held (x)")
    pooled = Database(database_url, LOCK_TIMEOUT_MS)
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError), pooled.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        waited = time.monotonic() - started
    finally:
        pooled.engine.dispose()
        holder.execute("ROLLBACK")
        holder.close()
    assert LOCK_TIMEOUT_MS / 1000 <= waited < 2
