"""The report of a finished load: counts, revenue, date range and warnings."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd

from server.ingestion.errors import RowMessage


@dataclass(frozen=True)
class LoadReport:
    """The outcome of one load of an order file.

    `rows_read` counts the file's data rows, blank lines included, and `rows_loaded`
    the order lines written. `orders` counts distinct order ids, and each line without
    an order id as an order of its own. `net_revenue` is the sum of all amounts,
    returns included. `warnings` lists the first 50 returned lines, and
    `warning_count` counts them all. `profile_conflicts` counts customers whose
    profile values differ between lines (the latest line's values were kept).
    """

    source: str
    file_name: str
    mapping: str
    rows_read: int
    rows_loaded: int
    customers: int
    orders: int
    returns: int
    net_revenue: float
    first_order_date: date
    last_order_date: date
    replaced_rows: int
    profile_conflicts: int
    duration_seconds: float
    warnings: tuple[RowMessage, ...]
    warning_count: int

    def summary(self) -> str:
        """Describe the load in one line, for a log."""
        return (
            f"loaded {self.rows_loaded} of {self.rows_read} rows of {self.file_name} as source "
            f"{self.source!r} in {self.duration_seconds:.2f} s: customers {self.customers}, "
            f"orders {self.orders}, returns {self.returns}, net revenue {self.net_revenue:.2f}, "
            f"order dates {self.first_order_date} to {self.last_order_date}, "
            f"lines replaced {self.replaced_rows}"
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values, with dates in ISO format."""
        values = asdict(self)
        values["first_order_date"] = self.first_order_date.isoformat()
        values["last_order_date"] = self.last_order_date.isoformat()
        values["warnings"] = [warning.as_dict() for warning in self.warnings]
        return values


def count_orders(lines: pd.DataFrame) -> int:
    order_ids = lines["order_id"]
    return int(order_ids.nunique(dropna=True) + order_ids.isna().sum())


def net_revenue(lines: pd.DataFrame) -> float:
    return math.fsum(lines["amount"].tolist())
