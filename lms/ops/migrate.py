"""Schema changes through Alembic only: upgrade, and compare the models with the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine

from lms.config import CHECKOUT_DIR
from lms.db import Base


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's config for this checkout, bound to the engine when one is given."""
    config = Config(str(CHECKOUT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(CHECKOUT_DIR / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the revision (head by default), in one transaction."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to an earlier revision, in one transaction."""
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, alembic_command, revision: str) -> None:
    config = alembic_config(engine)
    with (
        engine.connect() as connection,
        sqlite_foreign_keys_off(connection),
        connection.begin(),
    ):
        config.attributes["connection"] = connection
        alembic_command(config, revision)


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign key actions off while migrations rebuild tables, on again after.

    SQLite changes a table by copying it into a new one and dropping the old; with
    foreign keys on, that DROP would first delete every row that refers to the table,
    cascading through the database (SQLite's "other kinds of table schema changes").
    The pragma only takes effect outside a transaction, so it is set on the driver's
    connection before the migrations' transaction begins; ``check_foreign_keys`` then
    proves that nothing dangles before it commits.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.dbapi_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


class DanglingReferenceError(RuntimeError):
    """A migration left rows referring to rows that do not exist; nothing was committed."""


def check_foreign_keys(connection: Connection) -> None:
    """Raise DanglingReferenceError if any row of a SQLite database refers to nothing."""
    if connection.dialect.name != "sqlite":
        return
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise DanglingReferenceError(f"rows refer to rows that do not exist: {dangling[:5]}")


def differences(engine: Engine) -> list:
    """What autogenerate would change: empty when the models and the database agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
        )
        return compare_metadata(context, Base.metadata)
