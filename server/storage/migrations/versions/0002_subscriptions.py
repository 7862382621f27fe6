"""add the subscription table

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("subscription_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("recurrence_months", sa.Integer(), nullable=False),
        sa.Column("recurring_amount", sa.Float(), nullable=False),
        sa.Column("is_recurring", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id"),
    )
    op.create_index("ix_subscription_source", "subscription", ["source"])
    op.create_index("ix_subscription_customer_id", "subscription", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_subscription_customer_id", table_name="subscription")
    op.drop_index("ix_subscription_source", table_name="subscription")
    op.drop_table("subscription")
