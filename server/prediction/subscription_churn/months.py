"""Calendar-month arithmetic on date columns, as subscriptions renew by the month."""

from __future__ import annotations

import numpy as np
import pandas as pd


def add_months(dates: pd.Series, months: pd.Series | np.ndarray) -> pd.Series:
    """Return each date moved by whole calendar months, clipped to the month's last day.

    For example 2024-01-31 plus one month is 2024-02-29.
    """
    month_index = dates.dt.year * 12 + (dates.dt.month - 1) + np.asarray(months)
    firsts = pd.to_datetime(
        pd.DataFrame({"year": month_index // 12, "month": month_index % 12 + 1, "day": 1})
    )
    days = np.minimum(dates.dt.day.to_numpy(), firsts.dt.days_in_month.to_numpy())
    moved = firsts + pd.to_timedelta(days - 1, unit="D")
    moved.index = dates.index
    return moved


def months_between(starts: pd.Series, stops: pd.Series) -> pd.Series:
    """Return the whole calendar months from each start to its stop (at least 0).

    A month counts once `add_months(start, n)` is on or before the stop, so the
    result agrees with `add_months` at month ends.
    """
    months = (stops.dt.year - starts.dt.year) * 12 + (stops.dt.month - starts.dt.month)
    overshoot = add_months(starts, months) > stops
    return (months - overshoot.astype(int)).clip(lower=0)
