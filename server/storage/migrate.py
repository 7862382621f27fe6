"""Schema migrations with Alembic, run in-process so an upgrade never needs a shell step."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from server.storage.engine import begin_write, is_sqlite

MIGRATIONS = Path(__file__).parent / "migrations"


class UpgradeBlockedError(RuntimeError):
    """Raised when the stored rows keep a migration from running; nothing was changed."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest revision; every revision keeps existing rows."""
    config = alembic_config()
    with (
        engine.connect() as connection,
        _sqlite_foreign_keys_off(connection),
        begin_write(connection) as writing,
    ):
        config.attributes["connection"] = writing
        command.upgrade(config, "head")
        _check_foreign_keys(writing)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Turn SQLite's foreign key enforcement off for the migrations, then on again.

    Alembic changes a column on SQLite by copying the table and dropping the old one.
    With enforcement on, that DROP TABLE runs the ON DELETE actions, so it would delete
    the rows of every table that references the old one with ON DELETE CASCADE. The
    pragma is ignored inside a transaction, so it is set on the driver connection
    before the migration transaction begins.
    """
    if not is_sqlite(connection):
        yield
        return
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if not is_sqlite(connection):
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        raise UpgradeBlockedError(
            f"the migration left a row of table {broken[0]} (rowid {broken[1]}) referencing "
            f"a missing row of table {broken[2]}, so the upgrade was rolled back; delete or "
            "repair that row, then upgrade again"
        )
