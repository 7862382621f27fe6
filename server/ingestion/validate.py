"""Validating one chunk of an order file and converting it to typed order lines."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Table

from server.ingestion.cells import (
    empty_to_none,
    limit_length,
    parse_dates,
    parse_numbers,
    require_values,
)
from server.ingestion.characters import reject_control_in_text, reject_invisible_in_ids
from server.ingestion.customers_key import customer_keys
from server.ingestion.duplicates import find_duplicates
from server.ingestion.mapping import ISO8601, ColumnMapping
from server.ingestion.order_rows import (
    allocate_discounts,
    exclude_orders,
    fill_order_columns,
    line_keys,
    refund_lines,
)
from server.ingestion.row_messages import RowMessages
from server.ingestion.targets import CUSTOMER_TABLE, ORDER_LINE_TABLE, max_length

LINE_COLUMNS = (
    "customer_id",
    "order_id",
    "order_date",
    "product_id",
    "quantity",
    "amount",
    "line_key",
)


@dataclass(frozen=True)
class ChunkSettings:
    """Settings shared by every chunk of one file: the date format and number style."""

    date_format: str
    decimal: str = "."
    thousands: str | None = None
    iso_date_columns: frozenset[str] = frozenset()


@dataclass
class ValidOrders:
    """Typed order lines of one chunk, indexed by data row, and what was set aside.

    `lines` has the columns of LINE_COLUMNS (order_date as datetime64, text None when
    empty), then one column per mapped profile attribute. Refund lines made from a
    refund column carry the row number of their order's first row. `excluded`
    counts the rows left out per exclusion reason, and `excluded_orders` lists their
    order ids, so an upsert can remove orders that were loaded before.
    """

    lines: pd.DataFrame
    problems: RowMessages
    returns: RowMessages
    excluded: dict[str, int] = field(default_factory=dict)
    excluded_orders: list[str] = field(default_factory=list)
    refunds: int = 0


def validate_orders(
    cells: pd.DataFrame, mapping: ColumnMapping, settings: ChunkSettings
) -> ValidOrders:
    """Check every mapped cell of `cells` and convert the rows to order lines.

    Problems are collected, not raised, so that every chunk of a file can be checked
    before the load fails.
    """
    problems = RowMessages()
    cells = _blank_missing_values(cells, mapping)
    _reject_hidden_characters(cells, mapping, problems)
    if mapping.order_id is not None and mapping.order_columns:
        require_values(cells[mapping.order_id], mapping.order_id, "order id", problems)
        cells = fill_order_columns(cells, mapping.order_id, mapping.order_columns)

    lines = pd.DataFrame(index=cells.index)
    lines["customer_id"] = customer_keys(cells, mapping, problems)
    lines["order_id"] = _optional_text(
        cells, mapping.order_id, ORDER_LINE_TABLE, "order_id", problems
    )
    lines["order_date"] = _order_dates(cells, mapping, settings, problems)
    lines["product_id"] = _optional_text(
        cells, mapping.product_id, ORDER_LINE_TABLE, "product_id", problems
    )
    lines["quantity"] = _quantities(cells, mapping, settings, problems)
    lines["amount"] = _amounts(cells, lines["quantity"], mapping, settings, problems)
    lines["line_key"] = line_keys(cells, mapping, problems)
    for attribute, column in mapping.profile.by_attribute().items():
        lines[attribute] = _optional_text(cells, column, CUSTOMER_TABLE, attribute, problems)

    if mapping.line_id is not None and mapping.duplicates == "reject":
        require_values(cells[mapping.line_id], mapping.line_id, "line id", problems)
    if mapping.line_id is None and not mapping.number_lines:
        # NOTE: rows equal in every column are found within a chunk only (CHUNK_ROWS),
        # while repeated line keys are found across the whole file.
        find_duplicates(cells, mapping, problems)

    return _finish(cells, lines, mapping, settings, problems)


def _finish(
    cells: pd.DataFrame,
    lines: pd.DataFrame,
    mapping: ColumnMapping,
    settings: ChunkSettings,
    problems: RowMessages,
) -> ValidOrders:
    if mapping.order_discount is not None:
        discounts = _order_numbers(cells, mapping.order_discount, "discount", settings, problems)
        lines["amount"] = allocate_discounts(lines, discounts)

    refunds = pd.DataFrame(columns=lines.columns)
    if mapping.refund_amount is not None:
        refunded = _order_numbers(cells, mapping.refund_amount, "refund", settings, problems)
        refunds = refund_lines(lines, refunded)

    exclusion = exclude_orders(cells, mapping)
    kept = lines.loc[~exclusion.excluded]
    kept_refunds = refunds.loc[refunds.index.isin(kept.index)]
    returns = _flag_returns(cells, kept, mapping)
    return ValidOrders(
        lines=pd.concat([kept, kept_refunds]) if len(kept_refunds) else kept,
        problems=problems,
        returns=returns,
        excluded=exclusion.counts,
        excluded_orders=exclusion.order_ids,
        refunds=len(kept_refunds),
    )


def _reject_hidden_characters(
    cells: pd.DataFrame, mapping: ColumnMapping, problems: RowMessages
) -> None:
    """Reject control and invisible characters in the ids and text the load stores."""
    ids = {
        mapping.customer_id: "customer id",
        mapping.customer_email: "e-mail",
        mapping.order_id: "order id",
        mapping.product_id: "product id",
        mapping.line_id: "line id",
    }
    for column, label in ids.items():
        if column is not None:
            reject_invisible_in_ids(cells[column], column, label, problems)
    for column in mapping.profile.by_attribute().values():
        if column not in ids:
            reject_control_in_text(cells[column], column, problems)


def _blank_missing_values(cells: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    if not mapping.missing_values:
        return cells
    return cells.mask(cells.isin(list(mapping.missing_values)), "")


def _order_dates(
    cells: pd.DataFrame, mapping: ColumnMapping, settings: ChunkSettings, problems: RowMessages
) -> pd.Series:
    column = mapping.order_date
    date_format = ISO8601 if column in settings.iso_date_columns else settings.date_format
    return parse_dates(cells[column], column, date_format, problems)


def _quantities(
    cells: pd.DataFrame, mapping: ColumnMapping, settings: ChunkSettings, problems: RowMessages
) -> pd.Series:
    if mapping.quantity is None:
        return pd.Series(1.0, index=cells.index)
    return _numbers(cells, mapping.quantity, "quantity", settings, problems)


def _amounts(
    cells: pd.DataFrame,
    quantities: pd.Series,
    mapping: ColumnMapping,
    settings: ChunkSettings,
    problems: RowMessages,
) -> pd.Series:
    if mapping.amount is not None:
        return _numbers(cells, mapping.amount, "amount", settings, problems)
    assert mapping.unit_price is not None
    prices = _numbers(cells, mapping.unit_price, "unit price", settings, problems)
    return prices * quantities


def _numbers(
    cells: pd.DataFrame,
    column: str,
    label: str,
    settings: ChunkSettings,
    problems: RowMessages,
) -> pd.Series:
    return parse_numbers(
        cells[column],
        column,
        label,
        problems,
        decimal=settings.decimal,
        thousands=settings.thousands,
    )


def _order_numbers(
    cells: pd.DataFrame, column: str, label: str, settings: ChunkSettings, problems: RowMessages
) -> pd.Series:
    """Parse an order-level amount such as a discount; empty cells count as 0."""
    numbers = parse_numbers(
        cells[column],
        column,
        label,
        problems,
        decimal=settings.decimal,
        thousands=settings.thousands,
        required=False,
    )
    return numbers.fillna(0.0)


def _optional_text(
    cells: pd.DataFrame,
    column: str | None,
    table: Table,
    target: str,
    problems: RowMessages,
) -> pd.Series:
    if column is None:
        return pd.Series(None, index=cells.index, dtype=object)
    _limit(cells[column], column, table, target, problems)
    return empty_to_none(cells[column])


def _limit(
    values: pd.Series, column: str, table: Table, target: str, problems: RowMessages
) -> None:
    length = max_length(table, target)
    if length is not None:
        limit_length(values, column, length, problems)


def _flag_returns(cells: pd.DataFrame, lines: pd.DataFrame, mapping: ColumnMapping) -> RowMessages:
    column = mapping.amount or mapping.unit_price
    assert column is not None
    returns = RowMessages()
    returns.add(
        lines["amount"] < 0,
        cells[column],
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: negative amount {value} was loaded as a return."
        ),
    )
    return returns
