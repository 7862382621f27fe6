"""Order lines of one source, read from the database and grouped into purchases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Row, Select, func, select

from server.prediction.base import ParameterError
from server.storage.tables import OrderLine, table_of

ORDER_LINE_COLUMNS = ("customer_id", "order_date", "quantity", "amount")
# Rows per fetch when reading purchase days, which bounds the Python objects held at once.
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class OrderHistory:
    """The purchases and returns of one source.

    `purchases` has one row per customer and purchase day (columns customer_id,
    order_date, spend, items), because several orders on one day count as one
    purchase, as in the buy-till-you-die models. Lines with a negative amount are
    returns: they go to `returns` (customer_id, order_date, amount > 0) and never
    count as a purchase. Lines with a zero amount do count as a purchase.
    """

    purchases: pd.DataFrame
    returns: pd.DataFrame

    @property
    def first_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.purchases["order_date"].min())

    @property
    def last_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.purchases["order_date"].max())

    @classmethod
    def from_order_lines(cls, lines: pd.DataFrame) -> OrderHistory:
        """Group order lines (the columns of `ORDER_LINE_COLUMNS`) into purchases and returns."""
        missing = [name for name in ORDER_LINE_COLUMNS if name not in lines.columns]
        if missing:
            raise ValueError(
                f"order lines lack the column {missing[0]!r}; required: "
                f"{', '.join(ORDER_LINE_COLUMNS)}"
            )

        lines = lines.assign(
            customer_id=lines["customer_id"].astype(str),
            order_date=pd.to_datetime(lines["order_date"]).dt.normalize(),
            amount=lines["amount"].astype(float),
            quantity=lines["quantity"].astype(float),
        )
        bought = lines[lines["amount"] >= 0]
        purchases = bought.groupby(["customer_id", "order_date"], as_index=False, sort=True).agg(
            spend=("amount", "sum"), items=("quantity", "sum")
        )

        returned = lines[lines["amount"] < 0]
        returns = pd.DataFrame(
            {
                "customer_id": returned["customer_id"].to_numpy(),
                "order_date": returned["order_date"].to_numpy(),
                "amount": -returned["amount"].to_numpy(),
            }
        )
        return cls(purchases=purchases, returns=returns)


def load_order_history(engine: Engine, source: str, chunk_rows: int = CHUNK_ROWS) -> OrderHistory:
    """Read the purchases and returns of `source`; raise `ParameterError` when it has none.

    The database groups the lines into purchase days, so Python keeps one row per
    customer and day rather than one per line. Rows arrive in chunks of `chunk_rows`
    and become typed columns chunk by chunk. The result equals
    `OrderHistory.from_order_lines` on the same lines, up to float rounding of the sums.
    """
    table = table_of(OrderLine)
    line = table.c
    day_spend = func.sum(line.amount).label("spend")
    day_items = func.coalesce(func.sum(line.quantity), 0.0).label("items")
    purchases_query = (
        select(line.customer_id, line.order_date, day_spend, day_items)
        .where(line.source == source, line.amount >= 0)
        .group_by(line.customer_id, line.order_date)
    )
    returns_query = select(line.customer_id, line.order_date, (-line.amount).label("amount")).where(
        line.source == source, line.amount < 0
    )

    with engine.connect() as connection:
        purchases = _read_typed(connection, purchases_query, chunk_rows)
        returns = _read_typed(connection, returns_query, chunk_rows)
        if purchases.empty and returns.empty:
            sources = connection.execute(select(line.source).distinct()).scalars().all()
            raise ParameterError({"source": _no_rows_reason(source, sorted(sources))})

    # Sorting here, not in SQL, keeps pandas' string order whatever the database collation.
    purchases = purchases.sort_values(["customer_id", "order_date"], ignore_index=True)
    return OrderHistory(purchases=purchases, returns=returns)


def _read_typed(connection: Connection, query: Select[Any], chunk_rows: int) -> pd.DataFrame:
    """Read `query` in chunks: a string customer_id, a datetime order_date, then floats."""
    result = connection.execution_options(yield_per=chunk_rows).execute(query)
    names = list(result.keys())
    chunks = [_typed_chunk(rows, names) for rows in result.partitions()]
    if not chunks:
        return _typed_chunk([], names)
    return pd.concat(chunks, ignore_index=True)


def _typed_chunk(rows: Sequence[Row[Any]], names: list[str]) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    frame = {
        names[0]: pd.array(columns[0], dtype="str"),
        names[1]: pd.to_datetime(pd.Series(columns[1], dtype=object)),
    }
    for name, values in zip(names[2:], columns[2:], strict=True):
        frame[name] = np.fromiter(values, dtype=float, count=len(values))
    return pd.DataFrame(frame)


def _no_rows_reason(source: str, sources: list[str]) -> str:
    if not sources:
        return f"no order lines have source {source!r} because none are loaded; load orders first"
    return f"no order lines have source {source!r}; valid: {', '.join(sources)}"
