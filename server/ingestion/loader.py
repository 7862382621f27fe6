"""Loading an order file into the customer and order_line tables in one transaction."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from server.ingestion.builtin import get_mapping
from server.ingestion.mapping import ColumnMapping
from server.ingestion.profiles import build_profiles
from server.ingestion.reader import read_source
from server.ingestion.report import LoadReport, count_orders, net_revenue
from server.ingestion.row_messages import RowMessages
from server.ingestion.store import (
    delete_source,
    find_foreign_customers,
    insert_frame,
    lock_customers,
)
from server.ingestion.targets import CUSTOMER_TABLE, ORDER_LINE_TABLE, max_length
from server.ingestion.validate import validate_orders
from server.storage.engine import write_transaction

logger = logging.getLogger(__name__)


def load_orders(
    engine: Engine, path: str | Path, mapping: ColumnMapping | str, source: str
) -> LoadReport:
    """Load the order file at `path` as `source`, replacing that source's previous rows.

    `mapping` is a ColumnMapping or the name of a built-in one. Customers (with the
    profile attributes the mapping has) and order lines are written in one
    transaction, so a failed load leaves the database as it was.

    Raises IngestionError listing the file's problems (invalid cells, rejected
    duplicates, customer ids owned by another source), ValueError for an unknown
    mapping name or an invalid source, and OSError when the file cannot be read.
    """
    started = time.perf_counter()
    path = Path(path)
    resolved = get_mapping(mapping) if isinstance(mapping, str) else mapping
    _check_source(source)
    logger.info("loading %s as source %r with mapping %r", path.name, source, resolved.name)

    rows = read_source(path, resolved)
    valid = validate_orders(rows.cells, resolved, path.name)
    profiles = build_profiles(valid.lines, list(resolved.profile.by_attribute()))

    with write_transaction(engine) as connection:
        lock_customers(connection)
        _reject_foreign_customers(connection, valid.lines, resolved, source, path.name)
        replaced_rows = delete_source(connection, source)
        insert_frame(connection, CUSTOMER_TABLE, profiles.customers.assign(source=source))
        insert_frame(connection, ORDER_LINE_TABLE, _order_line_rows(valid.lines, source))

    order_dates = valid.lines["order_date"]
    report = LoadReport(
        source=source,
        file_name=path.name,
        mapping=resolved.name,
        rows_read=rows.rows_read,
        rows_loaded=len(valid.lines),
        customers=len(profiles.customers),
        orders=count_orders(valid.lines),
        returns=valid.returns.count,
        net_revenue=net_revenue(valid.lines),
        first_order_date=order_dates.min().date(),
        last_order_date=order_dates.max().date(),
        replaced_rows=replaced_rows,
        profile_conflicts=profiles.conflicting,
        duration_seconds=time.perf_counter() - started,
        warnings=tuple(valid.returns.listed()),
        warning_count=valid.returns.count,
    )
    logger.info("%s", report.summary())
    return report


def _check_source(source: str) -> None:
    length = max_length(ORDER_LINE_TABLE, "source") or 0
    if not source.strip() or len(source) > length:
        raise ValueError(
            f"invalid source {source!r}; use 1 to {length} characters, such as 'cdnow'"
        )


def _reject_foreign_customers(
    connection: Connection,
    lines: pd.DataFrame,
    mapping: ColumnMapping,
    source: str,
    file_name: str,
) -> None:
    customer_ids = lines["customer_id"]
    owners = find_foreign_customers(connection, customer_ids.unique().tolist(), source)
    if not owners:
        return

    column = mapping.customer_id
    problems = RowMessages()
    problems.add(
        ~customer_ids.duplicated() & customer_ids.isin(list(owners)),
        customer_ids,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: customer id {value!r} already belongs to source "
            f"{owners[value]!r}. A customer belongs to one source only, so delete that "
            "source's rows or change the id in this file."
        ),
    )
    problems.raise_if_any(file_name)


def _order_line_rows(lines: pd.DataFrame, source: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": source,
            "customer_id": lines["customer_id"],
            "order_id": lines["order_id"],
            "order_date": lines["order_date"].dt.date,
            "product_id": lines["product_id"],
            "quantity": lines["quantity"],
            "amount": lines["amount"],
        }
    )
