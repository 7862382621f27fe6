"""add the day a subscription's cancellation was requested

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing subscriptions keep their rows with a NULL date: their sources did not
    # record cancellation requests, so none is known.
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("cancel_requested_at", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("cancel_requested_at")
