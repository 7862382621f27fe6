"""A hand-made order history and a plain-Python reference for features and labels."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

CUTOFF = pd.Timestamp("2024-03-31")
WINDOW_DAYS = 30
DEFINITION_DAYS = 60


def order_lines(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """Build order lines from (customer_id, order_date, amount, quantity) tuples."""
    return pd.DataFrame(
        {
            "customer_id": [row[0] for row in rows],
            "order_date": pd.to_datetime([row[1] for row in rows]),
            "amount": [row[2] for row in rows],
            "quantity": [row[3] for row in rows],
        }
    )


@pytest.fixture
def hand_lines() -> pd.DataFrame:
    """Order lines whose features and labels at CUTOFF were worked out by hand.

    With W = 30 and D = 60, the label interval is (2024-03-01, 2024-04-30].
    """
    return order_lines(
        [
            # a: two lines on 01-01 make one purchase; a return; a purchase after the cutoff.
            ("a", "2024-01-01", 10.0, 1.0),
            ("a", "2024-01-01", 5.0, 2.0),
            ("a", "2024-02-15", 20.0, 1.0),
            ("a", "2024-03-20", 30.0, 1.0),
            ("a", "2024-03-21", -8.0, 1.0),
            ("a", "2024-04-20", 12.0, 1.0),
            # b: one purchase long ago, nothing since: churned.
            ("b", "2023-12-01", 50.0, 2.0),
            # c: back within the prediction window: not churned.
            ("c", "2024-02-10", 40.0, 1.0),
            ("c", "2024-04-25", 10.0, 1.0),
            # d: first purchase after the cutoff: neither scored nor labelled.
            ("d", "2024-04-05", 25.0, 1.0),
            # e: purchases exactly on the open start of the interval and one day after
            # its closed end: churned.
            ("e", "2024-01-20", 15.0, 1.0),
            ("e", "2024-03-01", 15.0, 1.0),
            ("e", "2024-05-01", 15.0, 1.0),
            # f: a return before buying on the cutoff day itself.
            ("f", "2024-02-01", -5.0, 1.0),
            ("f", "2024-03-31", 60.0, 3.0),
            # g: a purchase exactly on the horizon c + W: not churned.
            ("g", "2024-01-05", 8.0, 1.0),
            ("g", "2024-04-30", 8.0, 1.0),
            # h: a zero-amount line still counts as a purchase.
            ("h", "2024-01-10", 0.0, 1.0),
        ]
    )


def random_lines(seed: int, customers: int = 60) -> pd.DataFrame:
    """Seeded random order lines over 2023-2024 with returns and zero amounts."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 12, size=customers)
    customer_ids = np.repeat([f"c{i:03d}" for i in range(customers)], counts)
    size = len(customer_ids)
    days = rng.integers(0, 730, size=size)
    amounts = np.round(rng.gamma(2.0, 20.0, size=size), 2)
    amounts[rng.random(size) < 0.08] *= -1
    amounts[rng.random(size) < 0.03] = 0.0
    return pd.DataFrame(
        {
            "customer_id": customer_ids,
            "order_date": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": amounts,
            "quantity": rng.integers(1, 5, size=size).astype(float),
        }
    )


def reference_features(lines: pd.DataFrame, cutoff: pd.Timestamp, window: int) -> pd.DataFrame:
    """Compute the features one customer at a time, the slow and obvious way."""
    rows: dict[str, dict[str, float]] = {}
    for customer, own in lines.groupby("customer_id"):
        bought = own[(own["amount"] >= 0) & (own["order_date"] <= cutoff)]
        if bought.empty:
            continue
        days = bought.groupby("order_date").agg(spend=("amount", "sum"), items=("quantity", "sum"))
        dates = sorted(days.index)
        ages = [(cutoff - day).days for day in dates]
        gaps = [(later - earlier).days for earlier, later in pairwise(dates)]
        spends = [float(days.loc[day, "spend"]) for day in dates]
        recent = sum(s for s, age in zip(spends, ages, strict=True) if age < window)
        earlier = sum(s for s, age in zip(spends, ages, strict=True) if window <= age < 2 * window)
        returned = own[(own["amount"] < 0) & (own["order_date"] <= cutoff)]
        gap_mean = float(np.mean(gaps)) if gaps else 0.0

        rows[str(customer)] = {
            "recency": float(min(ages)),
            "frequency": float(len(dates) - 1),
            "T": float(max(ages)),
            "monetary_value": float(np.mean(spends)),
            "total_spend": float(sum(spends)),
            "items_per_purchase": float(days["items"].mean()),
            "interpurchase_mean_days": gap_mean,
            "interpurchase_std_days": float(np.std(gaps)) if gaps else 0.0,
            "recency_to_interpurchase": min(ages) / gap_mean if gap_mean > 0 else 0.0,
            "recent_purchases": float(sum(1 for age in ages if age < window)),
            "recent_spend": recent,
            "spend_trend": (recent - earlier) / (recent + earlier) if recent + earlier else 0.0,
            "return_count": float(len(returned)),
            "return_amount": float(-returned["amount"].sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def reference_labels(
    lines: pd.DataFrame, cutoff: pd.Timestamp, window: int, definition: int
) -> dict[str, bool]:
    """Label customers one at a time: churned when the last purchase by c + W is D days old."""
    horizon = cutoff + pd.Timedelta(days=window)
    labels: dict[str, bool] = {}
    for customer, own in lines.groupby("customer_id"):
        bought = own[own["amount"] >= 0]
        if not (bought["order_date"] <= cutoff).any():
            continue
        last_by_horizon = bought.loc[bought["order_date"] <= horizon, "order_date"].max()
        labels[str(customer)] = (horizon - last_by_horizon).days >= definition
    return labels
