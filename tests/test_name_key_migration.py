"""The revision that adds case-insensitive name keys keeps rows and rejects collisions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from server.cli import main
from server.storage.engine import make_engine, write_transaction
from server.storage.migrate import UpgradeBlockedError, alembic_config, upgrade


@pytest.fixture
def engine_at_0007(db_url: str) -> Iterator[Engine]:
    """A database migrated to the revision before the name keys."""
    engine = make_engine(db_url)
    config = alembic_config()
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    yield engine
    engine.dispose()


def insert_rows(engine: Engine, prediction_names: list[str], segment_names: list[str]) -> None:
    """Insert predictions with entities E1, E2, … and one run each, then segments with a member."""
    with write_transaction(engine) as connection:
        for index, name in enumerate(prediction_names, start=1):
            connection.execute(
                text(
                    "INSERT INTO prediction (id, name, kind, status, output_entity_name, "
                    "parameters, created_at, updated_at) VALUES (:id, :name, "
                    "'TRANSACTIONAL_CHURN', 'SUCCEEDED', :entity, '{}', :now, :now)"
                ),
                {"id": index, "name": name, "entity": f"E{index}", "now": "2024-06-30 12:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO prediction_run (prediction_id, status) VALUES (:id, 'SUCCEEDED')"
                ),
                {"id": index},
            )
        for index, name in enumerate(segment_names, start=1):
            connection.execute(
                text(
                    "INSERT INTO segment (id, name, prediction_id, entity_name, definition, "
                    "member_count, created_at, last_evaluated_at) VALUES (:id, :name, 1, "
                    "'E1', '{}', 1, :now, :now)"
                ),
                {"id": index, "name": name, "now": "2024-06-30 12:00:00"},
            )
            connection.execute(
                text("INSERT INTO segment_member (segment_id, customer_id) VALUES (:id, 'C1')"),
                {"id": index},
            )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_keys_filled_and_rows_kept(engine_at_0007: Engine) -> None:
    engine = engine_at_0007
    insert_rows(engine, ["CDNOW Churn", "Straße"], ["Likely  to churn ", "Mixed Two"])

    upgrade(engine)

    with engine.connect() as connection:
        predictions = connection.execute(
            text("SELECT name, name_key, output_entity_key FROM prediction ORDER BY id")
        ).all()
        segments = connection.execute(
            text("SELECT name, name_key, prediction_id FROM segment ORDER BY id")
        ).all()
    assert [tuple(row) for row in predictions] == [
        ("CDNOW Churn", "cdnow churn", "e1"),
        ("Straße", "strasse", "e2"),
    ]
    assert [tuple(row) for row in segments] == [
        ("Likely  to churn ", "likely to churn", 1),
        ("Mixed Two", "mixed two", 1),
    ]
    # SQLite copies the tables to make the key columns NOT NULL, and the rows that
    # reference them by foreign key must survive the copy.
    assert count(engine, "prediction_run") == 2
    assert count(engine, "segment_member") == 2


def test_foreign_keys_enforced_after_upgrade(engine_at_0007: Engine) -> None:
    upgrade(engine_at_0007)

    with pytest.raises(IntegrityError), write_transaction(engine_at_0007) as connection:
        connection.execute(
            text("INSERT INTO segment_member (segment_id, customer_id) VALUES (99, 'C1')")
        )


def test_colliding_names_rejected(engine_at_0007: Engine) -> None:
    engine = engine_at_0007
    insert_rows(engine, ["Churn", "CHURN"], ["Mixed Two", "mixed  two", "Other"])

    with pytest.raises(UpgradeBlockedError) as raised:
        upgrade(engine)

    message = str(raised.value)
    assert "segment name 'Mixed Two' (id 1), 'mixed  two' (id 2)" in message
    assert "prediction name 'Churn' (id 1), 'CHURN' (id 2)" in message
    assert "Other" not in message
    assert "rename all but one of each" in message
    assert revision(engine) == "0007"
    assert count(engine, "segment") == 3
    assert count(engine, "segment_member") == 3


def test_sqlite_copy_with_foreign_keys_rejected(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'lookahead.db').as_posix()}")
    config = alembic_config()
    try:
        with (
            pytest.raises(RuntimeError, match="foreign keys must be off"),
            write_transaction(engine) as connection,
        ):
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_blocked_upgrade_cli_message(
    engine_at_0007: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    insert_rows(engine_at_0007, ["Churn", "CHURN"], ["Other"])
    monkeypatch.setenv("LOOKAHEAD_DATABASE_URL", db_url)

    status = main(["tokens", "list"])

    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("error: cannot make names unique ignoring case")
    assert "Traceback" not in error
