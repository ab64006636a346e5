"""web-sized variants of lesson images, and the size of each image

Revision ID: 2b8b5c5d3e59
Revises: 23965715ad33
Create Date: 2026-12-07 13:57:46.344862

A lesson image wider than a phone needs gets smaller copies at import (480, 960 and
1600 pixels wide, as lms/packages/images.py makes them), each a content-addressed
blob like the original; the lesson page offers them with srcset. The media row keeps
the image's size as shown, for the page's width and height. Media imported before
this migration have no size and no copies until their module is imported again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2b8b5c5d3e59"
down_revision: str | None = "23965715ad33"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
    op.create_table(
        "media_variant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_media_variant_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_variant")),
        sa.UniqueConstraint("media_id", "width", name=op.f("uq_media_variant_media_id_width")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("media_variant")
    # Dropping a column rebuilds the table on SQLite: keep its ids never reused.
    with op.batch_alter_table(
        "media", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("height")
        batch_op.drop_column("width")
