"""Deriving one customer profile row per customer from the order lines."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Profiles:
    """One row per customer, and how many customers had differing profile values."""

    customers: pd.DataFrame
    conflicting: int


def build_profiles(lines: pd.DataFrame, attributes: list[str]) -> Profiles:
    """Take each customer's profile attributes from their latest order line.

    A source such as Superstore repeats the customer's address on every line, and it
    changes when the customer moves, so the latest line is the current one. "Latest"
    means the latest order date, and among lines of that date the last in the file.
    `lines` must be indexed by data row in file order.
    """
    by_date = lines.sort_values("order_date", kind="stable")
    latest = by_date.drop_duplicates("customer_id", keep="last")
    customers = latest[["customer_id", *attributes]].sort_values("customer_id")
    return Profiles(
        customers=customers.reset_index(drop=True),
        conflicting=_count_conflicting(lines, attributes),
    )


def _count_conflicting(lines: pd.DataFrame, attributes: list[str]) -> int:
    if not attributes:
        return 0
    distinct = lines.groupby("customer_id")[attributes].nunique(dropna=False)
    return int((distinct > 1).any(axis=1).sum())
