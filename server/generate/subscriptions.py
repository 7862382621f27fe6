"""Subscriptions: plans renewed every recurrence until the subscriber cancels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from server.generate.parameters import GeneratorParameters
from server.generate.purchases import Purchases

# (recurrence in months, amount per recurrence, share of subscribers, cancellation
# probability at each renewal for a subscriber of average dropout)
PLANS: tuple[tuple[int, float, float, float], ...] = (
    (1, 9.99, 0.60, 0.08),
    (3, 27.00, 0.25, 0.15),
    (12, 99.00, 0.15, 0.30),
)
MIN_CANCEL = 0.01
MAX_CANCEL = 0.90


def build_subscriptions(
    rng: np.random.Generator,
    purchases: Purchases,
    customer_ids: pa.Array,
    parameters: GeneratorParameters,
    first_subscription_id: int,
) -> pa.Table:
    """Give a `subscriber_share` of the customers a subscription from their first purchase.

    A subscription renews every recurrence until a renewal where it is cancelled. The
    cancellation probability is the plan's, scaled by the customer's dropout
    probability over its mean a / (a + b), so customers who stop buying also tend to
    cancel. The column names and layout are those the subscription loader reads.
    """
    subscriber = rng.random(len(customer_ids)) < parameters.subscriber_share
    who = np.flatnonzero(subscriber)
    shares = np.array([plan[2] for plan in PLANS])
    plan = rng.choice(len(PLANS), size=len(who), p=shares / shares.sum())
    months = np.array([item[0] for item in PLANS])[plan]
    amount = np.array([item[1] for item in PLANS])[plan]

    mean_dropout = parameters.a / (parameters.a + parameters.b)
    base_cancel = np.array([item[3] for item in PLANS])[plan]
    cancel = np.clip(base_cancel * purchases.dropout[who] / mean_dropout, MIN_CANCEL, MAX_CANCEL)
    periods = rng.geometric(cancel)

    start = np.datetime64(parameters.start, "D") + np.floor(purchases.first[who]).astype("int64")
    end = _add_months(start, periods * months)
    active = end > np.datetime64(parameters.end, "D")

    numbers = pa.array(np.arange(first_subscription_id, first_subscription_id + len(who)))
    return pa.table(
        {
            "subscription_id": pc.binary_join_element_wise("S", pc.cast(numbers, pa.string()), ""),
            "customer_id": customer_ids.take(pa.array(who)),
            "start_date": pa.array(start, type=pa.date32()),
            "end_date": pa.array(end, type=pa.date32(), mask=active),
            "recurrence_months": pa.array(months),
            "recurring_amount": pa.array(amount),
        }
    )


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Add whole months to dates, keeping the day of month or the last day of a shorter month."""
    month = days.astype("datetime64[M]")
    day_of_month = (days - month.astype("datetime64[D]")).astype("int64")
    target = month + months
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        "int64"
    )
    return target.astype("datetime64[D]") + np.minimum(day_of_month, month_length - 1)
