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

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
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

    # Passing `.array` keeps the converted ids as they are, because a numpy object
    # array in between would convert every id twice more.
    checked = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].astype(str).array,
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

    The group-bys run in numpy on integer customer codes and day numbers, because
    pandas group-bys on string ids took most of the time at 1,000,000 customers.
    """
    unit_days = days_per_unit(time_unit)
    end = pd.Timestamp(calibration_end).normalize()
    checked = check_order_lines(lines)
    checked = checked[checked["order_date"] <= end]
    codes, customers = pd.factorize(checked["customer_id"], sort=True)
    day_numbers = checked["order_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    days = _combine_days(codes, day_numbers, checked["amount"].to_numpy())

    count = len(customers)
    purchase_days = np.bincount(days.customer[days.is_purchase], minlength=count)
    first_line = _segment_values(days.customer, days.day, count, first=True)
    first_purchase = _segment_values(
        days.customer[days.is_purchase], days.day[days.is_purchase], count, first=True
    )
    last_purchase = _segment_values(
        days.customer[days.is_purchase], days.day[days.is_purchase], count, first=False
    )
    has_purchase = purchase_days > 0
    first_date = np.where(has_purchase, first_purchase, first_line)
    last_date = np.where(has_purchase, last_purchase, first_date)

    after_first = days.day > first_date[days.customer]
    repeat_spend = np.bincount(
        days.customer[after_first], weights=days.amount[after_first], minlength=count
    )
    frequency = np.maximum(purchase_days - 1, 0).astype(float)
    end_day = end.to_datetime64().astype("datetime64[D]").astype(np.int64)

    summary = pd.DataFrame(index=pd.Index(customers, name="customer_id"))
    summary["frequency"] = frequency
    summary["recency"] = (last_date - first_date) / unit_days
    summary["T"] = (end_day - first_date) / unit_days
    summary["monetary_value"] = np.where(
        frequency > 0, repeat_spend / np.maximum(frequency, 1.0), 0.0
    )
    summary["total_spend"] = np.bincount(days.customer, weights=days.amount, minlength=count)
    summary["purchase_days"] = purchase_days.astype(int)
    date_type = checked["order_date"].to_numpy().dtype
    summary["first_date"] = first_date.astype("datetime64[D]").astype(date_type)
    return summary[list(SUMMARY_COLUMNS)]


@dataclass(frozen=True)
class _Days:
    """One entry per customer and day, sorted by customer code (so by id), then by day."""

    customer: npt.NDArray[np.intp]
    day: npt.NDArray[np.int64]
    amount: npt.NDArray[np.float64]
    is_purchase: npt.NDArray[np.bool_]


def _combine_days(
    codes: npt.NDArray[np.intp], day_numbers: npt.NDArray[np.int64], amounts: FloatArray
) -> _Days:
    """Combine the lines of one customer and day, as `combine_same_day` does with pandas."""
    first_day = int(day_numbers.min()) if len(day_numbers) else 0
    span = int(day_numbers.max()) - first_day + 1 if len(day_numbers) else 1
    key = codes.astype(np.int64) * span + (day_numbers - first_day)
    order = np.argsort(key, kind="stable")
    starts = np.flatnonzero(np.diff(key[order], prepend=-1))

    ordered_amounts = amounts[order]
    return _Days(
        customer=codes[order][starts],
        day=day_numbers[order][starts],
        amount=np.add.reduceat(ordered_amounts, starts),
        is_purchase=np.logical_or.reduceat(ordered_amounts >= 0, starts),
    )


def _segment_values(
    customer: npt.NDArray[np.intp], values: npt.NDArray[np.int64], count: int, *, first: bool
) -> npt.NDArray[np.int64]:
    """Return each customer's first (or last) value of rows sorted by customer; 0 if none."""
    result = np.zeros(count, dtype=np.int64)
    if len(customer) == 0:
        return result
    boundaries = np.flatnonzero(np.diff(customer)) + 1
    if first:
        picks = np.concatenate([[0], boundaries])
    else:
        picks = np.concatenate([boundaries - 1, [len(customer) - 1]])
    result[customer[picks]] = values[picks]
    return result


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
