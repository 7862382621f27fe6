"""Purchases of one source as sparse customer x product matrices over time windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sqlalchemy import Engine, select

from server.prediction.base import PredictionDataError
from server.storage.tables import OrderLine, table_of

PURCHASE_COLUMNS = ("customer_id", "product_id", "order_date")


def load_purchase_lines(engine: Engine, source: str) -> pd.DataFrame:
    """Read the purchase lines of `source` that name a product.

    Lines with a negative amount are returns and are left out. Raises
    `PredictionDataError` when no line of the source is a purchase with a product id.
    """
    table = table_of(OrderLine)
    query = select(*(table.c[name] for name in PURCHASE_COLUMNS)).where(
        table.c.source == source, table.c.product_id.is_not(None), table.c.amount >= 0
    )
    with engine.connect() as connection:
        lines = pd.DataFrame(connection.execute(query).all(), columns=list(PURCHASE_COLUMNS))
        if lines.empty:
            sources = (
                connection.execute(
                    select(table.c.source).where(table.c.product_id.is_not(None)).distinct()
                )
                .scalars()
                .all()
            )
    if lines.empty:
        listed = ", ".join(sorted(sources)) or "none"
        raise PredictionDataError(
            f"source {source!r} has no purchase lines with a product id; load orders with "
            f"a product id column (sources with product ids: {listed})"
        )
    return lines


@dataclass(frozen=True)
class Interactions:
    """Purchase lines coded as customer row, product column and day number.

    Day numbers count days since 1970-01-01, so a window is a pair of integers.
    """

    customers: pd.Index
    products: pd.Index
    customer_codes: np.ndarray
    product_codes: np.ndarray
    days: np.ndarray

    @classmethod
    def from_lines(cls, lines: pd.DataFrame) -> Interactions:
        """Code purchase lines (the columns of `PURCHASE_COLUMNS`)."""
        customer_codes, customers = pd.factorize(lines["customer_id"].astype(str), sort=True)
        product_codes, products = pd.factorize(lines["product_id"].astype(str), sort=True)
        dates = pd.to_datetime(lines["order_date"]).to_numpy(dtype="datetime64[D]")
        return cls(
            customers=pd.Index(customers, dtype=object),
            products=pd.Index(products, dtype=object),
            customer_codes=customer_codes.astype(np.int32),
            product_codes=product_codes.astype(np.int32),
            days=dates.astype(np.int64),
        )

    @property
    def first_day(self) -> int:
        return int(self.days.min())

    @property
    def last_day(self) -> int:
        return int(self.days.max())

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.customers), len(self.products)

    def matrix(self, after: int | None, until: int) -> sp.csr_matrix:
        """Return the lines from the day after `after` to `until`, counted per cell.

        With `after` None the window has no start. Every customer and product keeps
        its row and column, so matrices of different windows line up.
        """
        keep = self.days <= until
        if after is not None:
            keep &= self.days > after
        counts = np.ones(int(keep.sum()), dtype=np.float32)
        coded = sp.coo_matrix(
            (counts, (self.customer_codes[keep], self.product_codes[keep])), shape=self.shape
        )
        matrix = coded.tocsr()
        matrix.sum_duplicates()
        return matrix


def day_label(day: int) -> str:
    """Return a day number as YYYY-MM-DD."""
    return str(np.datetime64(day, "D"))
