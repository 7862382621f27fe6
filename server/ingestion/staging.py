"""Temporary staging tables that hold a file's checked rows until the load merges them.

The tables live in the load's own transaction and connection, so a failed load
rolls them back with everything else, and two loads never see each other's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
)

from server.ingestion.store import insert_frame
from server.ingestion.targets import PROFILE_ATTRIBUTES

_metadata = MetaData()


def _temporary(name: str, *columns: Column) -> Table:
    return Table(
        name,
        _metadata,
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


STAGED_LINE = _temporary(
    "ingest_line",
    Column("source_row", Integer, nullable=False),
    Column("customer_id", String, nullable=False),
    Column("order_id", String),
    Column("order_date", Date, nullable=False),
    Column("product_id", String),
    Column("quantity", Float, nullable=False),
    Column("amount", Float, nullable=False),
    Column("line_key", String),
)
STAGED_CUSTOMER = _temporary(
    "ingest_customer",
    Column("customer_id", String, nullable=False),
    Column("order_date", Date, nullable=False),
    Column("source_row", Integer, nullable=False),
    *(Column(attribute, String) for attribute in PROFILE_ATTRIBUTES),
)
STAGED_PROFILE = _temporary(
    "ingest_profile",
    Column("customer_id", String, primary_key=True),
    *(Column(attribute, String) for attribute in PROFILE_ATTRIBUTES),
)
STAGED_EXCLUDED = _temporary("ingest_excluded_order", Column("order_id", String, nullable=False))

_TABLES = (STAGED_LINE, STAGED_CUSTOMER, STAGED_PROFILE, STAGED_EXCLUDED)
# Created once the rows are in, which is faster than keeping them up to date.
_INDEXES = {"ix_ingest_line_key": "line_key", "ix_ingest_line_order": "order_id"}


@dataclass(frozen=True)
class StagedChunk:
    lines: pd.DataFrame
    attributes: list[str]


def create_staging(connection: Connection) -> None:
    for table in _TABLES:
        table.create(connection)


def index_staging(connection: Connection) -> None:
    """Index staged lines by key and order, once all rows are in, for the merge's lookups."""
    table = connection.dialect.identifier_preparer.format_table(STAGED_LINE)
    for name, column in _INDEXES.items():
        connection.exec_driver_sql(f"CREATE INDEX {name} ON {table} ({column})")


def drop_staging(connection: Connection) -> None:
    """Drop the staging tables; PostgreSQL would drop them at commit, SQLite would not."""
    for table in reversed(_TABLES):
        table.drop(connection)


def stage_chunk(connection: Connection, chunk: StagedChunk) -> None:
    """Stage a chunk's lines, and for each customer its latest line of each profile value.

    Keeping one line per distinct profile value bounds the staged customer rows
    while still letting the merge find the latest profile and count conflicts.
    """
    lines = chunk.lines
    staged = pd.DataFrame(
        {
            "source_row": lines.index.to_numpy(),
            "customer_id": lines["customer_id"].to_numpy(),
            "order_id": lines["order_id"].to_numpy(),
            "order_date": lines["order_date"].dt.date.to_numpy(),
            "product_id": lines["product_id"].to_numpy(),
            "quantity": lines["quantity"].to_numpy(),
            "amount": lines["amount"].to_numpy(),
            "line_key": lines["line_key"].to_numpy(),
        }
    )
    insert_frame(connection, STAGED_LINE, staged)

    customers = staged[["customer_id", "order_date", "source_row"]].copy()
    for attribute in chunk.attributes:
        customers[attribute] = lines[attribute].to_numpy()
    customers = customers.sort_values(["order_date", "source_row"], kind="stable")
    distinct = customers.drop_duplicates(["customer_id", *chunk.attributes], keep="last")
    insert_frame(connection, STAGED_CUSTOMER, distinct)


def stage_excluded_orders(connection: Connection, order_ids: list[str]) -> None:
    if order_ids:
        insert_frame(connection, STAGED_EXCLUDED, pd.DataFrame({"order_id": order_ids}))
