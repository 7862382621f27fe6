"""Set-based database writes for a load: ownership checks, deletes and bulk inserts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

import pandas as pd
import pyarrow as pa
from pyarrow import csv
from sqlalchemy import Connection, Table, delete, insert, select

from server.ingestion.targets import CUSTOMER_TABLE, ORDER_LINE_TABLE

# Ids per IN (...) lookup, well below the bound-parameter limits of SQLite (32766
# since 3.32) and PostgreSQL (65535).
LOOKUP_CHUNK_IDS = 5_000
INSERT_CHUNK_ROWS = 50_000

_Item = TypeVar("_Item")


def lock_customers(connection: Connection) -> None:
    """Make a load on PostgreSQL wait for other loads, as `BEGIN IMMEDIATE` does on SQLite.

    Without the lock, two loads that share a customer id could both pass the ownership
    check, and the later one would fail on the primary key instead of with a message.
    SHARE ROW EXCLUSIVE blocks other writers of the table and itself, never readers.
    """
    if connection.dialect.name != "postgresql":
        return
    table = connection.dialect.identifier_preparer.format_table(CUSTOMER_TABLE)
    connection.exec_driver_sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def find_foreign_customers(
    connection: Connection, customer_ids: Sequence[str], source: str
) -> dict[str, str]:
    """Return the ids among `customer_ids` that belong to another source, with that source."""
    customer = CUSTOMER_TABLE.c
    owners: dict[str, str] = {}
    for chunk in _chunks(list(customer_ids), LOOKUP_CHUNK_IDS):
        query = select(customer.customer_id, customer.source).where(
            customer.customer_id.in_(chunk), customer.source != source
        )
        owners.update({row.customer_id: row.source for row in connection.execute(query)})
    return owners


def delete_source(connection: Connection, source: str) -> int:
    """Delete the order lines and customers of `source`, and return the lines deleted."""
    deleted = connection.execute(
        delete(ORDER_LINE_TABLE).where(ORDER_LINE_TABLE.c.source == source)
    )
    connection.execute(delete(CUSTOMER_TABLE).where(CUSTOMER_TABLE.c.source == source))
    return deleted.rowcount


def insert_frame(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert the rows of `frame` into the same-named columns of `table`, NaN as NULL.

    PostgreSQL through psycopg receives the rows with COPY as CSV that Arrow's C++
    writer renders. Other databases get executemany batches of plain tuples, which
    the driver binds without per-row SQLAlchemy work.
    """
    if frame.empty:
        return
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy_rows(connection, table, frame)
    elif connection.dialect.paramstyle in _PLACEHOLDERS:
        _executemany_rows(connection, table, frame)
    else:
        _insert_rows(connection, table, frame)


# The positional placeholder of each DB-API paramstyle that `_executemany_rows` supports.
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _executemany_rows(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    dialect = connection.dialect
    preparer = dialect.identifier_preparer
    names = [str(name) for name in frame.columns]
    placeholder = _PLACEHOLDERS[dialect.paramstyle]
    statement = (
        f"INSERT INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.quote(name) for name in names)}) "
        f"VALUES ({', '.join(placeholder for _ in names)})"
    )

    columns = []
    for name in names:
        values = _python_values(frame[name])
        # The column type's own conversion, such as a date to ISO text on SQLite.
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        columns.append([process(value) for value in values] if process else values)
    rows = list(zip(*columns, strict=True))
    for chunk in _chunks(rows, INSERT_CHUNK_ROWS):
        connection.exec_driver_sql(statement, chunk)


def _python_values(values: pd.Series) -> list[Any]:
    """Return the values as Python objects, with None for NaN, NaT and NA."""
    return cast(list[Any], values.astype(object).where(values.notna(), None).tolist())


def _insert_rows(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    rows = frame.astype(object).where(frame.notna(), None)
    records = cast(list[dict[str, Any]], rows.to_dict("records"))
    for chunk in _chunks(records, INSERT_CHUNK_ROWS):
        connection.execute(insert(table), chunk)


def _copy_rows(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    # The raw psycopg connection is the one SQLAlchemy's transaction runs on, so the
    # copied rows commit or roll back with the rest of the load.
    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(str(name)) for name in frame.columns)
    target = f"{preparer.format_table(table)} ({columns})"
    try:
        batches = pa.Table.from_pandas(frame, preserve_index=False).to_batches(INSERT_CHUNK_ROWS)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # A column of mixed Python types has no Arrow type, so it goes row by row.
        batches = None

    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    with driver_connection.cursor() as cursor:
        if batches is None:
            with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in _python_rows(frame):
                    copy.write_row(row)
            return
        with cursor.copy(f"COPY {target} FROM STDIN WITH (FORMAT csv)") as copy:
            for batch in batches:
                copy.write(copy_csv(batch))


def copy_csv(batch: pa.RecordBatch) -> bytes:
    """Render `batch` as CSV that PostgreSQL's COPY reads with NULL for every null.

    Arrow's writer quotes every string, so an empty string is `""`, and it writes
    a null as nothing, which COPY's CSV format reads as NULL.
    """
    sink = pa.BufferOutputStream()
    csv.write_csv(batch, sink, csv.WriteOptions(include_header=False))
    return bytes(sink.getvalue())


def _python_rows(frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    columns = [_python_values(frame[name]) for name in frame.columns]
    return zip(*columns, strict=True)


def _chunks(items: list[_Item], size: int) -> Iterator[list[_Item]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
