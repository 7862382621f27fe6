"""Churn labels: who had stopped buying a prediction window after a cutoff."""

from __future__ import annotations

import pandas as pd

from server.prediction.transactional_churn.orders import OrderHistory


def churn_labels(
    history: OrderHistory,
    cutoff: pd.Timestamp,
    window_days: int,
    definition_days: int,
) -> pd.Series:
    """Label each customer with a purchase on or before `cutoff` as churned or not.

    With W = `window_days` and D = `definition_days`, a customer is churned when, at
    the horizon c + W, their last purchase is at least D days old, that is when they
    have no purchase day in (c + W - D, c + W]. When D > W that interval starts before
    the cutoff, so a customer who bought in the last D - W days before c is never
    churned. Returns a boolean Series named "churned", indexed by sorted customer_id.
    """
    purchases = history.purchases
    known = pd.Index(
        purchases.loc[purchases["order_date"] <= cutoff, "customer_id"].unique(), name="customer_id"
    ).sort_values()

    horizon = cutoff + pd.Timedelta(days=window_days)
    active_since = horizon - pd.Timedelta(days=definition_days)
    in_interval = (purchases["order_date"] > active_since) & (purchases["order_date"] <= horizon)
    active = purchases.loc[in_interval, "customer_id"].unique()

    return pd.Series(~known.isin(active), index=known, name="churned")
