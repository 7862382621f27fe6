"""A seeded subscription history with churn spread over time, for the temporal holdout.

Customers on the Basic plan churn more often than those on Pro, a price increase
(booked as a new subscription that starts the day the old one ends) doubles the
churn hazard, and some churned customers come back months later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DATA_END = pd.Timestamp("2024-01-01")
FIRST_START = pd.Timestamp("2021-01-01")
MONTHLY_HAZARD = {"Basic": 0.06, "Pro": 0.015}
MONTHLY_PRICE = {"Basic": 10.0, "Pro": 30.0}


def synthetic_subscriptions(customers: int = 800, seed: int = 7) -> pd.DataFrame:
    """Return subscription rows (text dates, empty end while active) with Plan and Region."""
    rng = np.random.default_rng(seed)
    months_of_data = (DATA_END.year - FIRST_START.year) * 12 + DATA_END.month - FIRST_START.month
    rows: list[dict[str, object]] = []
    for number in range(1, customers + 1):
        plan = str(rng.choice(["Basic", "Pro"]))
        region = str(rng.choice(["North", "South"]))
        start_month = int(rng.integers(0, months_of_data - 3))
        rows += _customer_rows(rng, f"C{number:04d}", plan, region, start_month, months_of_data)
    return pd.DataFrame(rows)


def _customer_rows(
    rng: np.random.Generator,
    customer_id: str,
    plan: str,
    region: str,
    start_month: int,
    months_of_data: int,
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    price = MONTHLY_PRICE[plan]
    raise_at = start_month + 12 if rng.random() < 0.3 else None
    hazard = MONTHLY_HAZARD[plan]
    opened = start_month
    month = start_month
    while month < months_of_data:
        month += 1
        if month == raise_at and month < months_of_data:
            rows.append(_row(customer_id, len(rows), opened, month, price, plan, region))
            price, hazard, opened = price * 1.2, hazard * 2, month
            continue
        if rng.random() < hazard and month < months_of_data:
            rows.append(_row(customer_id, len(rows), opened, month, price, plan, region))
            if rng.random() >= 0.1:
                return rows
            # A returning customer starts again 3 to 6 months later.
            month += int(rng.integers(3, 7))
            opened = month
            if month >= months_of_data:
                return rows
    rows.append(_row(customer_id, len(rows), opened, None, price, plan, region))
    return rows


def _row(
    customer_id: str,
    index: int,
    start_month: int,
    end_month: int | None,
    price: float,
    plan: str,
    region: str,
) -> dict[str, object]:
    def month_date(month: int) -> str:
        return (FIRST_START + pd.DateOffset(months=month)).date().isoformat()

    return {
        "subscription_id": f"{customer_id}-{index + 1}",
        "customer_id": customer_id,
        "start_date": month_date(start_month),
        "end_date": "" if end_month is None else month_date(end_month),
        "recurrence_months": 1,
        "recurring_amount": round(price, 2),
        "is_recurring": True,
        "Plan": plan,
        "Region": region,
    }
