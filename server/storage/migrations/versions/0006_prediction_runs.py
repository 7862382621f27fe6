"""add retraining schedules to predictions, and the step, trigger and queue time of runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prediction") as batch:
        batch.add_column(sa.Column("schedule_days", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("next_run_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    # Runs made before this revision were all started by a person, so MANUAL fits them.
    with op.batch_alter_table("prediction_run") as batch:
        batch.add_column(sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "trigger",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="MANUAL",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("prediction_run") as batch:
        batch.drop_column("trigger")
        batch.drop_column("step")
        batch.drop_column("queued_at")
    with op.batch_alter_table("prediction") as batch:
        batch.drop_column("next_run_at")
        batch.drop_column("schedule_days")
