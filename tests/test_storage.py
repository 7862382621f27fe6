from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from server.storage.engine import write_transaction
from server.storage.migrate import upgrade
from server.storage.tables import metadata


def test_migrations_match_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_twice_keeps_rows(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        connection.execute(text("INSERT INTO customer (customer_id, source) VALUES ('c1', 'demo')"))
    upgrade(engine)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM customer")).scalar_one()
    assert count == 1


def test_failed_write_transaction_rolls_back(engine: Engine) -> None:
    try:
        with write_transaction(engine) as connection:
            connection.execute(
                text("INSERT INTO customer (customer_id, source) VALUES ('c1', 'demo')")
            )
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM customer")).scalar_one()
    assert count == 0


def test_sqlite_runs_in_wal_mode(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    assert mode == "wal"
