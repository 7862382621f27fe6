"""Recency-frequency-monetary summaries of order lines, for the buy-till-you-die models.

The words are those of the literature (Fader, Hardie and Lee 2005):

- `frequency`: the number of repeat purchases, that is purchase days after the first.
- `recency`: the time from the first to the last purchase day (`t_x`).
- `T`: the time from the first purchase day to the end of the calibration period.
- `monetary_value`: the mean spend of the repeat purchases (0 without any).

Order lines of one customer on the same day are combined into one purchase. A line
with a negative amount is a return. A day with at least one line of zero or positive
amount is a purchase day, and a day with only returns is not, so returns never add
purchases. Returns still count in money: `total_spend` is the net of all lines, and
`monetary_value` is the net spend of the days after the first purchase divided by
`frequency`, so returns made after the first purchase lower it.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd

TimeUnit = Literal["days", "weeks", "months"]
TIME_UNITS: tuple[str, ...] = get_args(TimeUnit)
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH}

ORDER_LINE_COLUMNS = ("customer_id", "order_date", "amount")
SUMMARY_COLUMNS = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "total_spend",
    "purchase_days",
    "first_date",
)


def days_per_unit(time_unit: str) -> float:
    """Return the length of `time_unit` in days; raise ValueError for an unknown unit."""
    try:
        return DAYS_PER_UNIT[time_unit]
    except KeyError:
        raise ValueError(
            f"unknown time unit {time_unit!r}; valid: {', '.join(TIME_UNITS)}"
        ) from None


def check_order_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Return `lines` with string ids, dates at midnight and float amounts.

    Raises ValueError naming the first missing column, or the first amount that is
    not a finite number.
    """
    missing = [name for name in ORDER_LINE_COLUMNS if name not in lines.columns]
    if missing:
        raise ValueError(
            f"order lines lack the column {missing[0]!r}; required: {', '.join(ORDER_LINE_COLUMNS)}"
        )

    checked = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].astype(str).to_numpy(),
            "order_date": pd.to_datetime(lines["order_date"]).dt.normalize().to_numpy(),
            "amount": lines["amount"].astype(float).to_numpy(),
        }
    )
    bad = ~np.isfinite(checked["amount"].to_numpy())
    if bad.any():
        row = checked[bad].iloc[0]
        raise ValueError(
            f"order line of customer {row['customer_id']} on {row['order_date']:%Y-%m-%d} "
            f"has the amount {row['amount']}; amounts must be finite numbers"
        )
    return checked


def combine_same_day(lines: pd.DataFrame) -> pd.DataFrame:
    """Combine each customer's lines of one day into one row.

    Returns columns customer_id, order_date, amount (the net of the day's lines) and
    is_purchase (true when the day has a line of zero or positive amount), sorted by
    customer and date.
    """
    checked = check_order_lines(lines)
    checked["is_purchase"] = checked["amount"] >= 0
    return checked.groupby(["customer_id", "order_date"], as_index=False, sort=True).agg(
        amount=("amount", "sum"), is_purchase=("is_purchase", "any")
    )


def rfm_summary(
    lines: pd.DataFrame,
    calibration_end: pd.Timestamp | str,
    *,
    time_unit: str = "weeks",
) -> pd.DataFrame:
    """Summarise the order lines dated up to `calibration_end` (inclusive), one row per customer.

    Returns a frame indexed by customer_id with the columns of `SUMMARY_COLUMNS`; times
    are in `time_unit`. A customer with lines but no purchase day in the period (only
    returns) has `purchase_days` 0, frequency and recency 0, and `T` counted from the
    first return. Lines after `calibration_end` are ignored.
    """
    unit_days = days_per_unit(time_unit)
    end = pd.Timestamp(calibration_end).normalize()
    days = combine_same_day(lines)
    days = days[days["order_date"] <= end]

    purchases = days[days["is_purchase"]]
    by_customer = purchases.groupby("customer_id", sort=True)
    first_purchase = by_customer["order_date"].min()
    last_purchase = by_customer["order_date"].max()
    purchase_days = by_customer.size()

    everyone = days.groupby("customer_id", sort=True)
    total_spend = everyone["amount"].sum()
    first_line = everyone["order_date"].min()

    first_date = first_purchase.reindex(total_spend.index).fillna(first_line)
    after_first = days["order_date"] > days["customer_id"].map(first_date)
    repeat_spend = days[after_first].groupby("customer_id")["amount"].sum()

    summary = pd.DataFrame(index=total_spend.index)
    summary.index.name = "customer_id"
    summary["purchase_days"] = purchase_days.reindex(summary.index, fill_value=0).astype(int)
    summary["frequency"] = (summary["purchase_days"] - 1).clip(lower=0).astype(float)
    span = last_purchase.reindex(summary.index).fillna(first_date) - first_date
    summary["recency"] = span.dt.days / unit_days
    summary["T"] = (end - first_date).dt.days / unit_days
    repeat = repeat_spend.reindex(summary.index, fill_value=0.0)
    summary["monetary_value"] = np.where(
        summary["frequency"] > 0, repeat / summary["frequency"].clip(lower=1.0), 0.0
    )
    summary["total_spend"] = total_spend
    summary["first_date"] = first_date
    return summary[list(SUMMARY_COLUMNS)]


def holdout_actuals(
    lines: pd.DataFrame, calibration_end: pd.Timestamp | str, holdout_end: pd.Timestamp | str
) -> pd.DataFrame:
    """Count what each customer did after `calibration_end` up to `holdout_end` (inclusive).

    Returns a frame indexed by customer_id with `frequency_holdout` (purchase days) and
    `spend_holdout` (net spend, returns included), for customers with a line in the
    holdout period.
    """
    start = pd.Timestamp(calibration_end).normalize()
    end = pd.Timestamp(holdout_end).normalize()
    days = combine_same_day(lines)
    days = days[(days["order_date"] > start) & (days["order_date"] <= end)]

    by_customer = days.groupby("customer_id", sort=True)
    actuals = pd.DataFrame(
        {
            "frequency_holdout": by_customer["is_purchase"].sum().astype(float),
            "spend_holdout": by_customer["amount"].sum(),
        }
    )
    actuals.index.name = "customer_id"
    return actuals
