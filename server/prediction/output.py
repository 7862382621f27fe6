"""Writing entity tables (output entities and source profiles) with a safe swap.

New rows go to a staging table under a name of their own. One transaction then swaps
them in and updates the registry. When the live table has the staging table's columns,
the swap deletes the live rows and copies the staged ones in, so the table keeps its
identity: both databases version rows (MVCC), so readers neither wait for the swap nor
see it before it commits. When the columns differ (a new kind version, other
parameters), the swap drops the live table and renames the staging table into its
place. Either way a reader sees the old rows or the new rows, never a mix or nothing,
and a run that fails before the swap leaves the previous table untouched.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.types import TypeEngine

from server.storage.engine import write_transaction
from server.storage.tables import OutputEntityRecord, table_of, utc_now

logger = logging.getLogger(__name__)

ENTITY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}\Z")
TABLE_PREFIX = "oe_"
STAGING_PREFIX = TABLE_PREFIX + "_staging_"
"""Start of every staging table name. No entity table starts with it, because an entity
name starts with a letter, so `oe__staging_` can never be `oe_<entity name>`."""
LEGACY_STAGING_NAME = re.compile(r"^oe_[a-z][a-z0-9_]*__staging_[0-9a-f]{8}$")
"""Staging table names of earlier versions: `oe_<entity name>__staging_<8 hex digits>`."""
MAX_IDENTIFIER_BYTES = 63
"""PostgreSQL's maximum identifier length (NAMEDATALEN - 1). SQLAlchemy raises
IdentifierError for a longer table or index name."""
INSERT_CHUNK_ROWS = 20_000


def validate_entity_name(name: str) -> str:
    """Return `name` if it can name an entity; raise ValueError saying why it cannot."""
    if not ENTITY_NAME.match(name):
        raise ValueError(
            f"invalid entity name {name!r}: use 1 to 60 letters, digits or underscores, "
            "starting with a letter (for example ChurnPredictions)"
        )
    return name


def table_name_for(entity_name: str) -> str:
    return TABLE_PREFIX + validate_entity_name(entity_name).lower()


def _column_type(series: pd.Series) -> TypeEngine[Any]:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Boolean()
    if pd.api.types.is_integer_dtype(dtype):
        return Integer()
    if pd.api.types.is_float_dtype(dtype):
        return Float()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DateTime()
    if series.name == "CustomerId":
        return String(64)
    return Text()


def _staging_table(rows: pd.DataFrame, table_name: str) -> Table:
    if list(rows.columns[:1]) != ["CustomerId"]:
        raise ValueError(
            f"the first column of an entity must be CustomerId, got {list(rows.columns[:1])}"
        )
    # The staging name carries a random suffix instead of the entity name, so it and its
    # index name stay within MAX_IDENTIFIER_BYTES for every valid entity name. The index
    # keeps its name when the swap renames the table, so the name must be unique.
    staging_name = f"{STAGING_PREFIX}{uuid.uuid4().hex[:16]}"
    columns = [Column(str(name), _column_type(rows[name])) for name in rows.columns]
    table = Table(staging_name, MetaData(), *columns)
    Index(f"ix_{staging_name}_customer", table.c.CustomerId)
    return table


def _records(rows: pd.DataFrame, start: int, stop: int) -> list[dict[str, object]]:
    chunk = rows.iloc[start:stop]
    chunk = chunk.astype(object).where(chunk.notna(), None)
    return chunk.to_dict(orient="records")  # type: ignore[return-value]


def replace_entity(
    engine: Engine,
    entity_name: str,
    rows: pd.DataFrame,
    *,
    prediction_id: int | None,
    role: str = "output",
) -> int:
    """Replace the rows of entity `entity_name` with `rows`; return the new row count."""
    table_name = table_name_for(entity_name)
    staging = _staging_table(rows, table_name)

    with write_transaction(engine) as connection:
        staging.create(connection)
    try:
        for start in range(0, len(rows), INSERT_CHUNK_ROWS):
            with write_transaction(engine) as connection:
                records = _records(rows, start, start + INSERT_CHUNK_ROWS)
                connection.execute(insert(staging), records)
        _swap(engine, staging, table_name, entity_name, len(rows), prediction_id, role)
    except BaseException:
        with write_transaction(engine) as connection:
            staging.drop(connection, checkfirst=True)
        raise
    logger.info("entity %s replaced with %s rows", entity_name, len(rows))
    return len(rows)


def _swap(
    engine: Engine,
    staging: Table,
    table_name: str,
    entity_name: str,
    row_count: int,
    prediction_id: int | None,
    role: str,
) -> None:
    registry = table_of(OutputEntityRecord)
    with write_transaction(engine) as connection:
        live = _same_columns_table(connection, staging.name, table_name)
        if live is not None:
            connection.execute(delete(live))
            names = [column.name for column in live.columns]
            connection.execute(
                insert(live).from_select(names, select(*(staging.c[name] for name in names)))
            )
            staging.drop(connection)
        else:
            _replace_table(connection, staging.name, table_name)
        known = connection.execute(
            select(registry.c.version).where(registry.c.name == entity_name)
        ).scalar_one_or_none()
        values = {
            "table_name": table_name,
            "prediction_id": prediction_id,
            "row_count": row_count,
            "role": role,
            "updated_at": utc_now(),
        }
        if known is None:
            connection.execute(insert(registry).values(name=entity_name, version=1, **values))
        else:
            connection.execute(
                update(registry)
                .where(registry.c.name == entity_name)
                .values(version=known + 1, **values)
            )


def _same_columns_table(connection: Connection, staging_name: str, table_name: str) -> Table | None:
    """Reflect the live table when its columns and types equal the staging table's."""
    inspector = inspect(connection)
    if not inspector.has_table(table_name):
        return None
    live_columns = [(c["name"], str(c["type"])) for c in inspector.get_columns(table_name)]
    staged_columns = [(c["name"], str(c["type"])) for c in inspector.get_columns(staging_name)]
    if live_columns != staged_columns:
        return None
    return Table(table_name, MetaData(), autoload_with=connection)


def _replace_table(connection: Connection, staging_name: str, table_name: str) -> None:
    preparer = connection.dialect.identifier_preparer
    if inspect(connection).has_table(table_name):
        connection.exec_driver_sql(f"DROP TABLE {preparer.quote(table_name)}")
    connection.exec_driver_sql(
        f"ALTER TABLE {preparer.quote(staging_name)} RENAME TO {preparer.quote(table_name)}"
    )


def drop_stale_staging_tables(engine: Engine) -> list[str]:
    """Drop staging tables left by runs that died before their swap; return their names.

    A table named in the legacy staging form is kept when the registry lists it, because
    an entity such as `Churn__staging_0123abcd` has a table of that form.
    """
    registry = table_of(OutputEntityRecord)
    with engine.connect() as connection:
        registered = set(connection.execute(select(registry.c.table_name)).scalars())
    stale = [
        name
        for name in inspect(engine).get_table_names()
        if name.startswith(STAGING_PREFIX)
        or (LEGACY_STAGING_NAME.match(name) and name not in registered)
    ]
    with write_transaction(engine) as connection:
        preparer = connection.dialect.identifier_preparer
        for name in stale:
            connection.exec_driver_sql(f"DROP TABLE {preparer.quote(name)}")
    if stale:
        logger.warning("dropped %s staging tables of interrupted runs: %s", len(stale), stale)
    return stale
