"""an index for the inbox: submitted reflections, newest first

Revision ID: c3a1f0e7b9d2
Revises: 8f2f2184008e
Create Date: 2026-11-28 22:25:00.000000

The inbox lists submitted reflections by submitted_at (then id), newest first, 50 at
a time. Without this index the database reads every reflection and sorts them; with
it, it walks the newest submitted ones until the page is full.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c3a1f0e7b9d2"
down_revision: str | None = "8f2f2184008e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reflection_state_submitted_at", ["state", "submitted_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.drop_index("ix_reflection_state_submitted_at")
