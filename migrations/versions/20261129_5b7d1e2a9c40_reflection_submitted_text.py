"""the last submitted text of a reflection, kept while the learner drafts changes

Revision ID: 5b7d1e2a9c40
Revises: c3a1f0e7b9d2
Create Date: 2026-11-29 04:00:00.000000

Until now a draft saved on top of a submitted answer took it away from the
facilitators' inbox and the cohort's gallery until it was submitted again. Facilitators
and the cohort now read the last submitted revision, which is copied here (from the
revisions, for answers submitted before this migration); the inbox's index walks every
answer submitted at least once, newest first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7d1e2a9c40"
down_revision: str | None = "c3a1f0e7b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("submitted_body", sa.Text(), nullable=True))
        batch_op.drop_index("ix_reflection_state_submitted_at")
        batch_op.create_index("ix_reflection_submitted_at_id", ["submitted_at", "id"])
    reflection = sa.table(
        "reflection",
        sa.column("id", sa.Integer),
        sa.column("submitted_at", sa.DateTime),
        sa.column("submitted_revision", sa.Integer),
        sa.column("submitted_body", sa.Text),
    )
    revision_ = sa.table(
        "reflection_revision",
        sa.column("reflection_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("submitted", sa.Boolean),
    )
    last_submitted = (
        sa.select(sa.func.max(revision_.c.number))
        .where(revision_.c.reflection_id == reflection.c.id, revision_.c.submitted.is_(True))
        .scalar_subquery()
    )
    op.execute(
        reflection.update()
        .where(reflection.c.submitted_at.is_not(None))
        .values(submitted_revision=last_submitted)
    )
    op.execute(
        reflection.update()
        .where(reflection.c.submitted_revision.is_not(None))
        .values(
            submitted_body=sa.select(revision_.c.body)
            .where(
                revision_.c.reflection_id == reflection.c.id,
                revision_.c.number == reflection.c.submitted_revision,
            )
            .scalar_subquery()
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.drop_index("ix_reflection_submitted_at_id")
        batch_op.create_index(
            "ix_reflection_state_submitted_at", ["state", "submitted_at", "id"], unique=False
        )
        batch_op.drop_column("submitted_body")
        batch_op.drop_column("submitted_revision")
