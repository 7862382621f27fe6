"""Builders of small subscription histories for the subscription churn tests."""

from __future__ import annotations

import pandas as pd

from server.prediction.subscription_churn.history import SubscriptionHistory

Row = tuple[str, str, str | None, int, float]
"""customer_id, start_date, end_date (None while active), recurrence_months, recurring_amount."""


def subscription_frame(*rows: Row, is_recurring: bool = True) -> pd.DataFrame:
    """Return subscriptions in the shape `load_history` reads them."""
    frame = pd.DataFrame(
        rows,
        columns=["customer_id", "start_date", "end_date", "recurrence_months", "recurring_amount"],
    )
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    frame["is_recurring"] = is_recurring
    return frame


def history_of(*rows: Row, profile: pd.DataFrame | None = None) -> SubscriptionHistory:
    empty = pd.DataFrame(index=pd.Index([], name="CustomerId", dtype=object))
    return SubscriptionHistory(
        subscriptions=subscription_frame(*rows), profile=empty if profile is None else profile
    )
