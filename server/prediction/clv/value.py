"""Value of a customer over a horizon: expected purchases times expected spend, discounted.

The horizon is cut into months of `DAYS_PER_MONTH` (30.44) days. The purchases
expected in month m are E[Y(t_m)] - E[Y(t_(m-1))] from the BG/NBD model, and their
value is divided by (1 + monthly_discount_rate)^m, so money expected next month is
worth more today than money expected in a year. A horizon that is not a whole number
of months ends with a shorter last step, discounted at its end.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from server.prediction.clv.bgnbd import BGNBDModel
from server.prediction.clv.fitting import FloatArray
from server.prediction.clv.summary import DAYS_PER_MONTH


def month_ends(horizon_months: float) -> FloatArray:
    """Return the ends of the monthly steps of a horizon, in months: 1, 2, ..., horizon."""
    if not (math.isfinite(horizon_months) and horizon_months > 0):
        raise ValueError(f"the horizon must be a positive number of months, got {horizon_months}")
    steps = np.arange(1.0, math.ceil(horizon_months) + 1.0)
    return np.minimum(steps, horizon_months)


def cumulative_purchases(
    model: BGNBDModel,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    horizon_months: float,
    unit_days: float,
) -> FloatArray:
    """Return E[Y(t)] at the end of each monthly step, shape (customers, steps).

    `unit_days` is the length in days of the time unit that `model` was fitted in.
    The last column is the expected number of purchases over the whole horizon.
    """
    ends = month_ends(horizon_months)
    count = np.asarray(frequency).shape[0]
    columns = [
        model.expected_purchases(end * DAYS_PER_MONTH / unit_days, frequency, recency, T)
        for end in ends
    ]
    return np.column_stack(columns).reshape(count, len(ends))


def discounted_purchases(
    cumulative: FloatArray, horizon_months: float, monthly_discount_rate: float
) -> FloatArray:
    """Return the purchases of each monthly step, each divided by (1 + rate)^(step end)."""
    if not (math.isfinite(monthly_discount_rate) and monthly_discount_rate >= 0):
        raise ValueError(
            f"the monthly discount rate must be a number >= 0, got {monthly_discount_rate}"
        )
    ends = month_ends(horizon_months)
    per_month = np.diff(cumulative, axis=1, prepend=0.0)
    return np.asarray(per_month @ (1.0 + monthly_discount_rate) ** -ends)


def customer_value(
    expected_purchases: npt.ArrayLike, expected_spend: npt.ArrayLike, total_spend: npt.ArrayLike
) -> FloatArray:
    """Return expected purchases times expected spend per purchase, per customer.

    A customer whose net spend so far is zero or negative (returns as large as the
    purchases) gets 0: the model projects no value from a history that produced none.
    """
    value = np.asarray(expected_purchases, dtype=float) * np.asarray(expected_spend, dtype=float)
    return np.where(np.asarray(total_spend, dtype=float) > 0, value, 0.0)
