"""Features of each customer as of a cutoff date, computed only from orders up to it.

All durations are in days. As in the buy-till-you-die models, `frequency` counts
repeat purchase days (purchase days minus one) and `T` is the age of the first
purchase at the cutoff. `recency` takes its RFM meaning, the age of the last purchase
at the cutoff, while those models (lifetimes, pymc-marketing) measure it from the
first purchase to the last. `monetary_value` is the mean spend per purchase day,
first purchase included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from server.prediction.transactional_churn.orders import OrderHistory

FEATURES = (
    "recency",
    "frequency",
    "T",
    "monetary_value",
    "total_spend",
    "items_per_purchase",
    "interpurchase_mean_days",
    "interpurchase_std_days",
    "recency_to_interpurchase",
    "recent_purchases",
    "recent_spend",
    "spend_trend",
    "return_count",
    "return_amount",
)
"""Feature columns, in the order the estimator receives them."""


def build_features(history: OrderHistory, cutoff: pd.Timestamp, window_days: int) -> pd.DataFrame:
    """Return one row of `FEATURES` per customer with a purchase on or before `cutoff`.

    The index is the sorted customer_id. "Recent" means the last `window_days` days up
    to the cutoff, and `spend_trend` compares that spend with the `window_days` before
    it: (recent - earlier) / (recent + earlier), from -1 to 1, and 0 when both are 0.
    """
    purchases = history.purchases[history.purchases["order_date"] <= cutoff]
    age = (cutoff - purchases["order_date"]).dt.days.to_numpy(dtype=float)
    grouped = purchases.assign(age=age).groupby("customer_id", sort=True)

    features = pd.DataFrame(
        {
            "recency": grouped["age"].min(),
            "frequency": grouped["age"].size() - 1,
            "T": grouped["age"].max(),
            "monetary_value": grouped["spend"].mean(),
            "total_spend": grouped["spend"].sum(),
            "items_per_purchase": grouped["items"].mean(),
        }
    )
    features = features.join(_interpurchase_times(purchases))
    features = features.join(_recent_activity(purchases, age, window_days))
    features = features.join(_returns(history.returns, cutoff))
    features = features.fillna(0.0)

    overdue = features["recency"] / features["interpurchase_mean_days"].where(
        features["interpurchase_mean_days"] > 0
    )
    features["recency_to_interpurchase"] = overdue.fillna(0.0)
    return features.loc[:, list(FEATURES)].astype(float)


def _interpurchase_times(purchases: pd.DataFrame) -> pd.DataFrame:
    # Purchases are sorted by customer and day, so a diff within each customer is the
    # gap since that customer's previous purchase day (NaN on the first one).
    gaps = purchases.groupby("customer_id", sort=False)["order_date"].diff().dt.days
    grouped = gaps.groupby(purchases["customer_id"], sort=True)
    return pd.DataFrame(
        {
            "interpurchase_mean_days": grouped.mean(),
            "interpurchase_std_days": grouped.std(ddof=0),
        }
    )


def _recent_activity(purchases: pd.DataFrame, age: np.ndarray, window_days: int) -> pd.DataFrame:
    recent = age < window_days
    earlier = (age >= window_days) & (age < 2 * window_days)
    frame = pd.DataFrame(
        {
            "customer_id": purchases["customer_id"].to_numpy(),
            "recent_purchases": recent.astype(float),
            "recent_spend": np.where(recent, purchases["spend"], 0.0),
            "earlier_spend": np.where(earlier, purchases["spend"], 0.0),
        }
    )
    sums = frame.groupby("customer_id", sort=True).sum()

    total = sums["recent_spend"] + sums["earlier_spend"]
    change = sums["recent_spend"] - sums["earlier_spend"]
    sums["spend_trend"] = (change / total.where(total > 0)).fillna(0.0)
    return sums.drop(columns="earlier_spend")


def _returns(returns: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    known = returns[returns["order_date"] <= cutoff]
    grouped = known.groupby("customer_id", sort=True)["amount"]
    return pd.DataFrame({"return_count": grouped.size(), "return_amount": grouped.sum()})
