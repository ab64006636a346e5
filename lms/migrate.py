"""Schema changes through Alembic only: upgrade, and compare the models with the database."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from lms.config import CHECKOUT_DIR
from lms.db import Base


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's config for this checkout, bound to the engine when one is given."""
    config = Config(str(CHECKOUT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(CHECKOUT_DIR / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the revision (head by default)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def differences(engine: Engine) -> list:
    """What autogenerate would change: empty when the models and the database agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
        )
        return compare_metadata(context, Base.metadata)
