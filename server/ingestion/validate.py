"""Validating the text cells of an order file and converting them to typed order lines."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Table

from server.ingestion.cells import (
    empty_to_none,
    limit_length,
    parse_dates,
    parse_numbers,
    require_values,
)
from server.ingestion.duplicates import find_duplicates
from server.ingestion.mapping import ColumnMapping
from server.ingestion.row_messages import RowMessages
from server.ingestion.targets import CUSTOMER_TABLE, ORDER_LINE_TABLE, max_length


@dataclass(frozen=True)
class ValidOrders:
    """Typed order lines indexed by data row, and the warnings about returned lines.

    `lines` has the columns customer_id, order_date (datetime64), amount, quantity,
    order_id and product_id (None when empty), then one column per mapped profile
    attribute (None when empty).
    """

    lines: pd.DataFrame
    returns: RowMessages


def validate_orders(cells: pd.DataFrame, mapping: ColumnMapping, file_name: str) -> ValidOrders:
    """Check every mapped cell and convert the rows to order lines.

    Raises IngestionError listing the problems of the whole file when any cell is
    invalid or a row repeats another one that the duplicate policy rejects.
    """
    problems = RowMessages()
    lines = pd.DataFrame(index=cells.index)

    customer_ids = cells[mapping.customer_id]
    require_values(customer_ids, mapping.customer_id, "customer id", problems)
    _limit(customer_ids, mapping.customer_id, CUSTOMER_TABLE, "customer_id", problems)
    lines["customer_id"] = customer_ids

    order_dates = cells[mapping.order_date]
    lines["order_date"] = parse_dates(
        order_dates, mapping.order_date, mapping.date_format, problems
    )
    lines["amount"] = parse_numbers(cells[mapping.amount], mapping.amount, "amount", problems)
    lines["quantity"] = _quantities(cells, mapping, problems)
    lines["order_id"] = _optional_text(
        cells, mapping.order_id, ORDER_LINE_TABLE, "order_id", problems
    )
    lines["product_id"] = _optional_text(
        cells, mapping.product_id, ORDER_LINE_TABLE, "product_id", problems
    )
    for attribute, column in mapping.profile.by_attribute().items():
        lines[attribute] = _optional_text(cells, column, CUSTOMER_TABLE, attribute, problems)

    if mapping.line_id is not None and mapping.duplicates == "reject":
        require_values(cells[mapping.line_id], mapping.line_id, "line id", problems)
    find_duplicates(cells, mapping, problems)

    problems.raise_if_any(file_name)
    return ValidOrders(lines=lines, returns=_flag_returns(cells[mapping.amount], lines, mapping))


def _quantities(cells: pd.DataFrame, mapping: ColumnMapping, problems: RowMessages) -> pd.Series:
    if mapping.quantity is None:
        return pd.Series(1.0, index=cells.index)
    return parse_numbers(cells[mapping.quantity], mapping.quantity, "quantity", problems)


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


def _flag_returns(amounts: pd.Series, lines: pd.DataFrame, mapping: ColumnMapping) -> RowMessages:
    returns = RowMessages()
    returns.add(
        lines["amount"] < 0,
        amounts,
        mapping.amount,
        lambda row, value: (
            f"Row {row}, column {mapping.amount!r}: negative amount {value} was loaded as a return."
        ),
    )
    return returns
