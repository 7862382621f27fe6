"""make segment, prediction and output entity names unique ignoring case

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
import sqlmodel
from alembic import op

from server.names import name_key
from server.storage.migrate import UpgradeBlockedError

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, column that contains the name, key column, key length, unique index)
KEYS = [
    ("segment", "name", "name_key", 384, "ux_segment_name_key"),
    ("prediction", "name", "name_key", 384, "ux_prediction_name_key"),
    (
        "prediction",
        "output_entity_name",
        "output_entity_key",
        63,
        "ux_prediction_output_entity_key",
    ),
]


def upgrade() -> None:
    connection = op.get_bind()
    _reject_sqlite_foreign_keys(connection)
    keys = {(table, column): _keys_of(connection, table, column) for table, column, *_ in KEYS}
    collisions = [
        line for (table, column), rows in keys.items() for line in _collisions(table, column, rows)
    ]
    if collisions:
        raise UpgradeBlockedError(
            "cannot make names unique ignoring case, because these rows have the same name "
            "ignoring case: " + "; ".join(collisions) + ". The server cannot start until "
            "they differ: rename all but one of each with an SQL UPDATE, then start the "
            "server or run any lookahead command, which retries the upgrade"
        )

    for table, column, key_column, length, _index in KEYS:
        op.add_column(
            table,
            sa.Column(key_column, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True),
        )
        _fill_keys(connection, table, key_column, keys[(table, column)])

    for table, _column, key_column, length, index in KEYS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                key_column,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=length),
                nullable=False,
            )
        op.create_index(index, table, [key_column], unique=True)


def downgrade() -> None:
    _reject_sqlite_foreign_keys(op.get_bind())
    for table, _column, key_column, _length, index in reversed(KEYS):
        op.drop_index(index, table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column(key_column)


def _reject_sqlite_foreign_keys(connection: sa.Connection) -> None:
    # Copying a table on SQLite drops the old one, which would run ON DELETE CASCADE
    # on every referencing row while foreign keys are enforced.
    if connection.dialect.name != "sqlite":
        return
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one():
        raise RuntimeError(
            "revision 0008 copies tables, so SQLite foreign keys must be off while it runs; "
            "upgrade with server.storage.migrate.upgrade, which turns them off"
        )


def _keys_of(connection: sa.Connection, table: str, column: str) -> list[tuple[int, str, str]]:
    rows = connection.execute(sa.text(f"SELECT id, {column} FROM {table} ORDER BY id"))
    return [(row[0], row[1], name_key(row[1])) for row in rows]


def _collisions(table: str, column: str, rows: list[tuple[int, str, str]]) -> list[str]:
    by_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row_id, value, key in rows:
        by_key[key].append((row_id, value))
    return [
        f"{table} {column} " + ", ".join(f"{value!r} (id {row_id})" for row_id, value in group)
        for group in by_key.values()
        if len(group) > 1
    ]


def _fill_keys(
    connection: sa.Connection, table: str, key_column: str, rows: list[tuple[int, str, str]]
) -> None:
    if not rows:
        return
    connection.execute(
        sa.text(f"UPDATE {table} SET {key_column} = :key WHERE id = :id"),
        [{"id": row_id, "key": key} for row_id, _value, key in rows],
    )
