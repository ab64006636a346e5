"""The declarative base, the engine and the session factories, which know nothing of Flask.

SQLite runs in WAL mode with ``synchronous=FULL`` (every commit reaches the disk), a
busy timeout and foreign keys on. Transactions that
will write begin with ``BEGIN IMMEDIATE``: with a deferred ``BEGIN`` a transaction
that reads and then writes cannot wait for another process's lock and fails with
"database is locked" at once, whatever the busy timeout says.

Both databases wait at most ``LMS_DB_LOCK_TIMEOUT_MS`` for another transaction's lock
(SQLite's busy timeout, PostgreSQL's lock_timeout); then the request fails with an
OperationalError, which the app answers with 503 and a Retry-After, not a hang.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Table options for every table whose integer ids leave the server (in URLs, pages, the
# browser's copies): SQLite otherwise hands the id of a deleted newest row to the next
# one, so a page or a device copy kept for the old row would reach the new one.
# PostgreSQL's sequences never go back.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}

DEFAULT_LOCK_TIMEOUT_MS = 10_000


def now_utc() -> datetime:
    """The current time, aware and in UTC: the only clock the app reads."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always handed back as an aware datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: use lms.db.now_utc()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Every table's base: one metadata with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _configure_sqlite(engine: Engine, lock_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # First: the pragmas below may already wait for another connection's lock.
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a commit is on the disk before it is acknowledged, so a power cut or a
        # kernel crash cannot undo a save the learner was told about (NORMAL, WAL's
        # usual setting, survives a process crash only).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:  # None: a read session's, which runs without a transaction
            connection.exec_driver_sql(f"BEGIN {mode}")


# Every engine of this process, so that a forked child drops the connections it inherited.
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    # A connection (a file handle or a socket) must never be shared by two processes:
    # the child opens its own; close=False leaves the parent's connections alone.
    for engine in list(_engines):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def make_engine(url: str, lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS) -> Engine:
    """An engine for the URL, tuned for several worker processes, each with its own pool."""
    if url.startswith("sqlite"):
        # Pooled: opening a connection runs four pragmas, and closing the last one to a
        # WAL database checkpoints it, which a request should not pay for. The pool's
        # reset-on-return rolls back, so no transaction outlives its request.
        # The driver's own timeout (5 s by default) is the busy timeout of the
        # connection's very first statements: it must say the same as the pragma.
        engine = create_engine(
            url,
            pool_size=5,
            max_overflow=5,
            connect_args={"timeout": lock_timeout_ms / 1000},
        )
        _configure_sqlite(engine, lock_timeout_ms)
    else:
        # LIFO: a request (and a read that goes on to write) gets the connection used
        # last, whose statements the driver has already prepared.
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_use_lifo=True,
            pool_size=5,
            max_overflow=5,
            connect_args={"options": f"-c lock_timeout={int(lock_timeout_ms)}"},
        )
    _engines.add(engine)
    return engine


class Database:
    """The engine and the session factories of one app.

    A read session runs without a transaction (autocommit; on SQLite no ``BEGIN``):
    every statement takes its own snapshot, as it does anyway under PostgreSQL's READ
    COMMITTED, so a page sees what it saw before, without the ``BEGIN`` and ``ROLLBACK``
    every read request used to pay (round trips on PostgreSQL, statements on SQLite).
    On PostgreSQL it also keeps the driver's prepared statements, which psycopg forgets
    at every ROLLBACK, so the hot statements are planned once per connection rather
    than once per request. A read session writes only in ``writing``, which turns it
    into a write session; a write outside one is refused
    (``_refuse_writes_outside_a_transaction``).
    """

    def __init__(self, url: str, lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS) -> None:
        self.engine = make_engine(url, lock_timeout_ms)
        self.dialect = self.engine.dialect.name
        if self.dialect == "postgresql":
            reading = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            reading = self.engine.execution_options(sqlite_begin=None)
        event.listen(reading, "before_cursor_execute", _refuse_writes_outside_a_transaction)
        self.read_sessions = sessionmaker(reading, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )

    def new_session(self, *, write: bool) -> Session:
        """A session whose transactions begin IMMEDIATE on SQLite when it will write."""
        return (self.write_sessions if write else self.read_sessions)()

    @contextmanager
    def writing(self, session: Session) -> Iterator[Session]:
        """Write in one short transaction after reading: committed at the end of the block.

        A read session, which runs without a transaction, goes on as a write session: its
        next statement begins one (IMMEDIATE on SQLite, so that it holds the one write
        lock only while it writes). A write session's transaction ends first on SQLite,
        for the same reason, and goes on into the block on PostgreSQL. After the
        commit the session reads on as before (a streamed download, the page rendered
        next, hold no lock). An exception leaves the block uncommitted, its objects as
        they were for the caller's answer; the request's end (or its error handler)
        rolls back.
        """
        before = session.bind
        if self.dialect == "sqlite" or before is self.read_sessions.kw["bind"]:
            session.commit()
            session.bind = self.write_sessions.kw["bind"]
        try:
            yield session
            session.commit()
        finally:
            session.bind = before


# What a read session may send outside a transaction (a WITH may hold an UPDATE).
_READ_ONLY_STATEMENTS = ("SELECT", "SHOW", "BEGIN", "SAVEPOINT", "RELEASE")


def _refuse_writes_outside_a_transaction(
    _conn, cursor, statement: str, _parameters, context, _executemany
) -> None:
    """Before a read session's statement: a write outside ``writing`` would commit
    statement by statement, and a failure half-way would leave half of it written;
    a streamed read (PostgreSQL keeps a server-side cursor only inside a transaction)
    begins one."""
    connection = cursor.connection
    if _in_transaction(connection):
        return
    if context is not None and context.execution_options.get("stream_results"):
        connection.execute("BEGIN")
    elif not statement.lstrip().upper().startswith(_READ_ONLY_STATEMENTS):
        raise RuntimeError(f"a read session wrote outside a writing() block: {statement[:60]!r}")


def _in_transaction(dbapi_connection) -> bool:
    if isinstance(dbapi_connection, sqlite3.Connection):
        return dbapi_connection.in_transaction
    return dbapi_connection.info.transaction_status != TransactionStatus.IDLE


# Each database's INSERT, which knows its ON CONFLICT clause.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert(
    session: Session,
    table: Table | type[Base],
    values: Mapping[str, Any],
    *,
    key: Sequence[Any],
    update: Mapping[str, Any] | None = None,
) -> Insert:
    """INSERT … ON CONFLICT in the SQL of the session's database: one statement on either.

    A row whose ``key`` columns clash with one already there updates that row's
    ``update`` columns instead, or leaves it as it is when there is no ``update``.
    """
    statement = _INSERTS[session.get_bind().dialect.name](table).values(values)
    if update is None:
        return statement.on_conflict_do_nothing(index_elements=key)
    return statement.on_conflict_do_update(index_elements=key, set_=update)
