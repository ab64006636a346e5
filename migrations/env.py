"""Alembic's environment: runs on the app's engine, in batch mode on SQLite."""

from alembic import context

from lms import models  # noqa: F401  (registers every table on Base.metadata)
from lms.db import Base, make_engine
from lms.ops.migrate import check_foreign_keys, sqlite_foreign_keys_off

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from lms.config import from_environment

    engine = make_engine(from_environment()["LMS_DATABASE_URL"])
    with engine.connect() as connection, sqlite_foreign_keys_off(connection):
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: run `lms db upgrade`.")
run_migrations_online()
