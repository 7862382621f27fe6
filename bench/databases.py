"""Scratch databases for one benchmark run: SQLite files or PostgreSQL databases."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "LOOKAHEAD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PREFIX = "lookahead_bench_"


def fresh_database(backend: str, name: str, work_dir: Path) -> str:
    """Create an empty database called `name` and return its SQLAlchemy URL."""
    if backend == "sqlite":
        path = work_dir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path.as_posix()}"
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r}; valid: sqlite, postgres")

    database = PREFIX + name
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


def drop_databases(backend: str, names: list[str], work_dir: Path) -> None:
    """Remove the databases `fresh_database` created under `names`."""
    if backend == "sqlite":
        for name in names:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work_dir / name}.db{suffix}").unlink(missing_ok=True)
        return

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PREFIX + name}" WITH (FORCE)'))
    admin.dispose()
