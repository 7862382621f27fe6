"""Row meanings of shop exports: order-level cells, discounts, refunds, exclusions, line keys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from server.ingestion.mapping import ColumnMapping, Exclusion
from server.ingestion.row_messages import RowMessages

REFUND_LINE = "refund"
"""The line part of the key of a refund line made from an order's refund column."""


def fill_order_columns(
    cells: pd.DataFrame, order_column: str, columns: tuple[str, ...]
) -> pd.DataFrame:
    """Give every row of an order the first non-empty value of each order-level column.

    Shopify fills order fields only on an order's first row, other exports repeat
    them; either way each row then carries the order's values once.
    """
    filled = cells.copy()
    orders = cells[order_column]
    has_order = orders != ""
    for column in columns:
        present = cells[column].where(cells[column] != "")
        first = present[has_order].groupby(orders[has_order], sort=False).transform("first")
        filled.loc[has_order, column] = first.fillna("")
    return filled


def allocate_discounts(lines: pd.DataFrame, discounts: pd.Series) -> pd.Series:
    """Spread each order's discount over its lines in proportion to their amounts.

    The discount is an order-level value, so it is taken once per order however many
    rows repeat it. Lines of an order whose amounts sum to 0 keep their amounts.
    """
    orders = lines["order_id"].fillna("")
    order_discount = discounts.groupby(orders, sort=False).transform("first")
    order_gross = lines["amount"].groupby(orders, sort=False).transform("sum")
    share = np.where(order_gross != 0, order_discount / order_gross.where(order_gross != 0, 1), 0)
    return lines["amount"] * (1 - share)


def refund_lines(lines: pd.DataFrame, refunds: pd.Series) -> pd.DataFrame:
    """Make one negative line per order with a refund, at the order's first row and date."""
    with_order = lines[lines["order_id"].notna()]
    first_rows = with_order.index.to_series().groupby(with_order["order_id"], sort=False).min()
    refunded = refunds.loc[first_rows.to_numpy()]
    first_rows = first_rows[(refunded > 0).to_numpy()]
    if first_rows.empty:
        return pd.DataFrame(columns=lines.columns)

    refund = lines.loc[first_rows.to_numpy()].copy()
    refund["amount"] = -refunds.loc[refund.index]
    refund["quantity"] = 0.0
    refund["product_id"] = None
    refund["line_key"] = refund["order_id"] + "/" + REFUND_LINE
    return refund


def line_keys(cells: pd.DataFrame, mapping: ColumnMapping, problems: RowMessages) -> pd.Series:
    """Return each line's key within its source, or None when the mapping has no keys.

    Keys are the line id, the order id and line id when line ids count within an
    order, or the order id and the row's position in its order.
    """
    if mapping.line_id is not None:
        line_ids = cells[mapping.line_id]
        if not mapping.line_id_per_order:
            return line_ids.where(line_ids != "", None)
        assert mapping.order_id is not None
        return (cells[mapping.order_id] + "/" + line_ids).where(line_ids != "", None)
    if mapping.number_lines:
        assert mapping.order_id is not None
        orders = cells[mapping.order_id]
        position = orders.groupby(orders, sort=False).cumcount() + 1
        return orders + "/" + position.astype(str)
    return pd.Series(None, index=cells.index, dtype=object)


@dataclass(frozen=True)
class ExcludedRows:
    """Rows left out by a mapping's exclusions, counted per reason, with their order ids."""

    excluded: pd.Series
    counts: dict[str, int]
    order_ids: list[str]


def exclude_orders(cells: pd.DataFrame, mapping: ColumnMapping) -> ExcludedRows:
    """Flag the rows that an exclusion matches; a row counts under its first matching reason."""
    excluded = pd.Series(False, index=cells.index)
    counts: dict[str, int] = {}
    for exclusion in mapping.exclusions:
        matched = _matches(cells[exclusion.column], exclusion) & ~excluded
        if matched.any():
            counts[exclusion.reason] = counts.get(exclusion.reason, 0) + int(matched.sum())
        excluded |= matched

    order_ids: list[str] = []
    if mapping.order_id is not None:
        ids = cells.loc[excluded, mapping.order_id]
        order_ids = ids[ids != ""].unique().tolist()
    return ExcludedRows(excluded=excluded, counts=counts, order_ids=order_ids)


def _matches(cells: pd.Series, exclusion: Exclusion) -> pd.Series:
    if exclusion.match == "not_empty":
        return cells != ""
    values = {value.lower() for value in exclusion.values}
    if exclusion.match == "equals":
        return cells.str.lower().isin(values)
    items = cells.str.lower().str.split(",")
    return items.map(lambda tags: any(tag.strip() in values for tag in tags))
