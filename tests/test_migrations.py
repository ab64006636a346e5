"""The schema comes from migrations only, and they agree with the models."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from lms import migrate
from lms.db import Base, database


def test_there_is_one_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1


def test_migrated_database_matches_the_models(app):
    engine = database(app).engine
    assert migrate.differences(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_is_idempotent(app):
    engine = database(app).engine
    migrate.upgrade(engine)
    assert migrate.differences(engine) == []


def test_db_check_command_reports_agreement(runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output
