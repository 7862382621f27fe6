"""Engine creation for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode so readers never wait for a writer, with a busy timeout so
writers queue instead of failing, and write transactions begin with
`BEGIN IMMEDIATE` so two writers cannot both read and then collide on upgrade to a
write lock (the cause of "database is locked" under concurrency).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

_BEGIN_OPTION = "sqlite_begin"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, busy_timeout_ms: int = 30_000) -> Engine:
    """Create an engine for `url`, creating the folder of an SQLite file if needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    database = parsed.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        pool_size=10,
        max_overflow=20,
    )
    _configure_sqlite(engine, busy_timeout_ms)
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so the "begin"
        # hook below decides how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # PostgreSQL's LIKE is case-sensitive; make SQLite's agree so a segment
        # selects the same customers on both.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Open a write transaction: `BEGIN IMMEDIATE` on SQLite, a plain one elsewhere.

    Commits when the block ends normally and rolls back on any exception, so a
    failed write leaves nothing behind.
    """
    with engine.connect() as connection, begin_write(connection) as writing:
        yield writing


@contextmanager
def begin_write(connection: Connection) -> Iterator[Connection]:
    """Begin a write transaction on an open connection, as `write_transaction` does."""
    if is_sqlite(connection):
        connection = connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    with connection.begin():
        yield connection
