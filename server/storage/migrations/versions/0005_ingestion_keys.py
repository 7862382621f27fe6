"""add line keys for incremental order loads, and the product catalog

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Lines loaded before this revision keep a NULL key; the next load of their
    # source replaces them instead of matching keys.
    with op.batch_alter_table("order_line") as batch:
        batch.add_column(
            sa.Column("line_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
    op.create_index(
        "ux_order_line_source_line_key", "order_line", ["source", "line_key"], unique=True
    )
    op.create_table(
        "product",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("product_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("sub_category", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("source", "product_id"),
    )


def downgrade() -> None:
    op.drop_table("product")
    op.drop_index("ux_order_line_source_line_key", table_name="order_line")
    with op.batch_alter_table("order_line") as batch:
        batch.drop_column("line_key")
