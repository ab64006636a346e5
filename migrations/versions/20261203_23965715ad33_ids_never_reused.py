"""ids never reused, account public ids, calendar feed tokens, declined invitations, throttle

Revision ID: 23965715ad33
Revises: 5b7d1e2a9c40
Create Date: 2026-12-03 14:00:00.000000

SQLite gave the id of a deleted newest row to the next row (``max(rowid) + 1``): an
erased account's id went to the next account, and with it whatever a browser kept
under that id. Every table with an integer id is rebuilt with ``AUTOINCREMENT``, so
an id is never handed out twice (PostgreSQL's sequences already never go back).

Accounts get a random public id (the browser's copies of unsaved answers are keyed by
it) and memberships a random calendar feed token; both are filled in for existing rows.
Invitations can be declined. Sign-in throttling becomes a general throttle (its counts
live 15 minutes; they start again at zero).
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lms.db

revision: str = "23965715ad33"
down_revision: str | None = "5b7d1e2a9c40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES_WITH_IDS = (
    "user",
    "audit_event",
    "module",
    "module_version",
    "lesson",
    "prompt",
    "attachment",
    "media",
    "enrollment",
    "lesson_progress",
    "attachment_download",
    "reflection",
    "reflection_revision",
    "feedback",
    "peer_reply",
    "learner_file",
    "cohort",
    "membership",
    "invitation",
    "live_session",
)


def _fill_with_tokens(table_name: str, column: str) -> None:
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.String))
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(table.c.id)).all():
        connection.execute(
            table.update().where(table.c.id == row_id).values({column: secrets.token_urlsafe(24)})
        )


def _add_token(table_name: str, column: str) -> None:
    with op.batch_alter_table(table_name) as batch_op:
        batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))
    _fill_with_tokens(table_name, column)
    with op.batch_alter_table(table_name) as batch_op:
        batch_op.alter_column(column, existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(f"uq_{table_name}_{column}", [column])


def upgrade() -> None:
    op.create_table(
        "throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle")),
    )
    op.drop_table("login_throttle")
    with op.batch_alter_table("invitation") as batch_op:
        batch_op.add_column(
            sa.Column("declined_at", lms.db.UTCDateTime(timezone=True), nullable=True)
        )
    _add_token("user", "public_id")
    _add_token("membership", "calendar_token")
    if op.get_bind().dialect.name == "sqlite":
        # Rebuilt with foreign keys off (lms.ops.migrate.sqlite_foreign_keys_off) and checked
        # before the transaction commits.
        for name in TABLES_WITH_IDS:
            with op.batch_alter_table(
                name, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TABLES_WITH_IDS:
            with op.batch_alter_table(
                name, recreate="always", table_kwargs={"sqlite_autoincrement": False}
            ):
                pass
    with op.batch_alter_table("membership") as batch_op:
        batch_op.drop_constraint("uq_membership_calendar_token", type_="unique")
        batch_op.drop_column("calendar_token")
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint("uq_user_public_id", type_="unique")
        batch_op.drop_column("public_id")
    with op.batch_alter_table("invitation") as batch_op:
        batch_op.drop_column("declined_at")
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.drop_table("throttle")
