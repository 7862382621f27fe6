"""The revision that adds subscription.cancel_requested_at keeps existing subscriptions."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from server.storage.engine import make_engine, write_transaction
from server.storage.migrate import alembic_config, upgrade


def upgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_existing_subscriptions_kept_without_request(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade_to(engine, "0006")
        with write_transaction(engine) as connection:
            connection.execute(
                text(
                    "INSERT INTO subscription (subscription_id, source, customer_id, start_date, "
                    "recurrence_months, recurring_amount, is_recurring) "
                    "VALUES ('S1', 'shop', 'C1', '2024-01-01', 1, 9.5, :flag)"
                ),
                {"flag": True},
            )

        upgrade(engine)

        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT subscription_id, recurring_amount, cancel_requested_at "
                    "FROM subscription"
                )
            ).all()
        assert [tuple(row) for row in rows] == [("S1", 9.5, None)]
    finally:
        engine.dispose()
