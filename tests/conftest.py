"""Shared fixtures: a migrated database on SQLite and on PostgreSQL for each test.

PostgreSQL tests use `LOOKAHEAD_TEST_POSTGRES_URL` (default: the local server,
database `test`, user `postgres`). Each test gets a schema of its own, dropped
afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from server.storage.engine import make_engine
from server.storage.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "LOOKAHEAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATA = Path(__file__).resolve().parent.parent / "data"

_postgres_problem: str | None = None
_postgres_checked = False


def postgres_unavailable() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it can."""
    global _postgres_checked, _postgres_problem
    if not _postgres_checked:
        _postgres_checked = True
        probe = create_engine(POSTGRES_URL)
        try:
            with probe.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            _postgres_problem = (
                f"PostgreSQL is not reachable at {POSTGRES_URL} ({error.orig}); "
                "start it or set LOOKAHEAD_TEST_POSTGRES_URL"
            )
        finally:
            probe.dispose()
    return _postgres_problem


def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database on `backend`, removed after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'lookahead.db').as_posix()}"
        return

    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    yield from database_url(backend, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty database on SQLite and on PostgreSQL."""
    created = make_engine(db_url)
    upgrade(created)
    yield created
    created.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty SQLite database, for tests whose subject is not the backend."""
    created = make_engine(f"sqlite:///{(tmp_path / 'lookahead.db').as_posix()}")
    upgrade(created)
    yield created
    created.dispose()
