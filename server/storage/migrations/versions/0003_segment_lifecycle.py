"""add the entities each segment reads and the history of its evaluations

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_entity",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("entity_name", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "entity_name"),
    )
    op.create_index("ix_segment_entity_entity_name", "segment_entity", ["entity_name"])
    op.create_table(
        "segment_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_segment_evaluation_segment_id", "segment_evaluation", ["segment_id"])

    # Segments saved before this revision read only their base entity and were
    # evaluated once, when they were created.
    op.execute(
        "INSERT INTO segment_entity (segment_id, entity_name) SELECT id, entity_name FROM segment"
    )
    op.execute(
        "INSERT INTO segment_evaluation (segment_id, evaluated_at, member_count) "
        "SELECT id, last_evaluated_at, member_count FROM segment"
    )


def downgrade() -> None:
    op.drop_index("ix_segment_evaluation_segment_id", table_name="segment_evaluation")
    op.drop_table("segment_evaluation")
    op.drop_index("ix_segment_entity_entity_name", table_name="segment_entity")
    op.drop_table("segment_entity")
