"""Order lines of one source, read from the database and grouped into purchases."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, select

from server.prediction.base import ParameterError
from server.storage.tables import OrderLine, table_of

ORDER_LINE_COLUMNS = ("customer_id", "order_date", "quantity", "amount")


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


def load_order_lines(engine: Engine, source: str) -> pd.DataFrame:
    """Read the order lines of `source`; raise `ParameterError` when it has none."""
    table = table_of(OrderLine)
    query = select(*(table.c[name] for name in ORDER_LINE_COLUMNS)).where(table.c.source == source)
    with engine.connect() as connection:
        lines = pd.DataFrame(connection.execute(query).all(), columns=list(ORDER_LINE_COLUMNS))
        if lines.empty:
            sources = connection.execute(select(table.c.source).distinct()).scalars().all()
    if lines.empty:
        raise ParameterError({"source": _no_rows_reason(source, sorted(sources))})
    return lines


def _no_rows_reason(source: str, sources: list[str]) -> str:
    if not sources:
        return f"no order lines have source {source!r} because none are loaded; load orders first"
    return f"no order lines have source {source!r}; valid: {', '.join(sources)}"
