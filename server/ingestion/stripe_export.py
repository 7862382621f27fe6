"""The Stripe subscriptions export (Billing > Subscriptions > Export), as subscription rows.

The dashboard export has one row per subscription with amounts in the currency's
major unit ("19.00" for 19 dollars) and dates as "YYYY-MM-DD HH:MM" in UTC. A row
becomes a subscription like this:

- `id` is the subscription id, and `Customer ID` the customer (the hashed e-mail
  key, as for orders, when the id is empty).
- The start is `Start Date (UTC)`, else `Start (UTC)`, else `Created (UTC)`.
- The end is `Ended At (UTC)`; a canceled row without it ends on `Canceled At (UTC)`.
- `Canceled At (UTC)` is when the cancellation was requested. With `Cancel At Period
  End` true and no end, the subscription is still active until its period ends.
- `Interval` month or year times `Interval Count` gives the recurrence in months,
  and `Amount` times `Quantity` the amount charged per recurrence.
- Weekly and daily plans become monthly ones of the same monthly revenue, because the
  subscription table counts recurrences in whole months: 52/12 weeks, 365.25/12 days.
- Rows with status incomplete or incomplete_expired were never paid and are left out.

`Plan`, `Product` and `Currency` are kept as attributes; names and e-mails are not.
"""

from __future__ import annotations

import pandas as pd

from server.ingestion.cells import parse_numbers
from server.ingestion.customers_key import email_key
from server.ingestion.row_messages import RowMessages

NAME = "stripe"
REQUIRED_COLUMNS = (
    "id",
    "Customer ID",
    "Status",
    "Interval",
    "Interval Count",
    "Amount",
    "Currency",
    "Created (UTC)",
    "Canceled At (UTC)",
    "Ended At (UTC)",
)
ATTRIBUTE_COLUMNS = ("Plan", "Product", "Currency")
UNPAID_STATUSES = frozenset({"incomplete", "incomplete_expired"})

# Months per interval unit. Weeks and days are converted to a monthly amount.
_MONTHS_PER_UNIT = {"month": 1.0, "year": 12.0}
_UNITS_PER_MONTH = {"week": 52 / 12, "day": 365.25 / 12}
_START_COLUMNS = ("Start Date (UTC)", "Start (UTC)", "Created (UTC)")
_TRUE_WORDS = frozenset({"true", "yes", "1"})


def matches(columns: list[str]) -> bool:
    return all(column in columns for column in REQUIRED_COLUMNS)


def column_names(columns: list[str]) -> dict[str, str]:
    """Map each subscription column to the export's column that messages should name."""
    start = next(column for column in _START_COLUMNS if column in columns)
    return {
        "subscription_id": "id",
        "customer_id": "Customer ID",
        "start_date": start,
        "end_date": "Ended At (UTC)",
        "cancel_requested_at": "Canceled At (UTC)",
        "recurrence_months": "Interval Count",
        "recurring_amount": "Amount",
    }


def unpaid_rows(cells: pd.DataFrame) -> pd.Series:
    """Flag the rows of subscriptions that were never paid for, which are left out."""
    return cells["Status"].str.lower().isin(UNPAID_STATUSES)


def convert_stripe(cells: pd.DataFrame, problems: RowMessages) -> pd.DataFrame:
    """Return subscription rows as text cells, indexed like `cells`, adding bad cells to `problems`.

    A cell that cannot be converted is reported here, under its Stripe column, and
    its subscription cell gets a valid placeholder so that it is not reported twice.
    """
    rows = pd.DataFrame(index=cells.index)
    rows["subscription_id"] = cells["id"]
    rows["customer_id"] = _customer_ids(cells)
    starts = [column for column in _START_COLUMNS if column in cells.columns]
    rows["start_date"] = _first_present(cells, starts)
    rows["end_date"] = _end_dates(cells)
    rows["cancel_requested_at"] = _cancel_requests(cells, problems)

    months, monthly_factor = _recurrences(cells, problems)
    charged = _charged_amounts(cells, problems)
    recurring = charged * monthly_factor
    rows["recurrence_months"] = months.fillna(1).astype(int).astype(str)
    rows["recurring_amount"] = recurring.fillna(0.0).map(repr)
    rows["is_recurring"] = "true"
    for column in ATTRIBUTE_COLUMNS:
        if column in cells.columns:
            rows[column] = cells[column].str.upper() if column == "Currency" else cells[column]
    _check_one_currency(cells, problems)
    return rows


def _customer_ids(cells: pd.DataFrame) -> pd.Series:
    ids = cells["Customer ID"]
    if "Customer Email" not in cells.columns:
        return ids
    emails = cells["Customer Email"]
    keyed = emails.map(lambda email: email_key(email) if email else "")
    return ids.where(ids != "", keyed)


def _first_present(cells: pd.DataFrame, columns: list[str]) -> pd.Series:
    chosen = pd.Series("", index=cells.index, dtype=object)
    for column in reversed(columns):
        chosen = cells[column].where(cells[column] != "", chosen)
    return chosen


def _end_dates(cells: pd.DataFrame) -> pd.Series:
    ended = cells["Ended At (UTC)"]
    canceled = cells["Status"].str.lower() == "canceled"
    return ended.where((ended != "") | ~canceled, cells["Canceled At (UTC)"])


def _cancel_requests(cells: pd.DataFrame, problems: RowMessages) -> pd.Series:
    requested = cells["Canceled At (UTC)"]
    if "Cancel At Period End" not in cells.columns:
        return requested

    column = "Cancel At Period End"
    at_period_end = cells[column].str.lower().isin(_TRUE_WORDS)
    problems.add(
        at_period_end & (requested == ""),
        cells[column],
        column,
        lambda row, _value: (
            f"Row {row}, column {column!r}: the subscription is set to cancel at period end, "
            "but 'Canceled At (UTC)' is empty. Fill in when the cancellation was requested."
        ),
    )
    return requested


def _recurrences(cells: pd.DataFrame, problems: RowMessages) -> tuple[pd.Series, pd.Series]:
    """Return the recurrence in months and the factor that turns a charge into that period's.

    The factor is 1 for monthly and yearly plans, and the charges per month for weekly
    and daily plans, which become monthly.
    """
    units = cells["Interval"].str.lower()
    known = units.isin(list(_MONTHS_PER_UNIT) + list(_UNITS_PER_MONTH))
    problems.add(
        ~known,
        cells["Interval"],
        "Interval",
        lambda row, value: (
            f"Row {row}, column 'Interval': invalid interval {value!r}. Stripe writes month, "
            "year, week or day."
        ),
    )

    counts = parse_numbers(cells["Interval Count"], "Interval Count", "interval count", problems)
    whole = (counts % 1 == 0) & (counts >= 1)
    problems.add(
        counts.notna() & ~whole,
        cells["Interval Count"],
        "Interval Count",
        lambda row, value: (
            f"Row {row}, column 'Interval Count': interval count {value!r} is not a whole "
            "number of 1 or more."
        ),
    )
    counts = counts.where(whole)

    months = units.map(_MONTHS_PER_UNIT) * counts
    per_month = units.map(_UNITS_PER_MONTH) / counts
    months = months.where(units.isin(list(_MONTHS_PER_UNIT)), 1.0)
    factor = per_month.where(units.isin(list(_UNITS_PER_MONTH)), 1.0)
    return months.where(known & counts.notna()), factor.fillna(0.0)


def _charged_amounts(cells: pd.DataFrame, problems: RowMessages) -> pd.Series:
    amounts = parse_numbers(cells["Amount"], "Amount", "amount", problems)
    if "Quantity" not in cells.columns:
        return amounts
    quantities = parse_numbers(
        cells["Quantity"], "Quantity", "quantity", problems, required=False
    ).fillna(1.0)
    return amounts * quantities


def _check_one_currency(cells: pd.DataFrame, problems: RowMessages) -> None:
    """Add a problem for each row in another currency than most rows, which sums cannot mix."""
    currencies = cells["Currency"].str.lower()
    if currencies.nunique() <= 1:
        return
    main = str(currencies.mode().iloc[0])
    problems.add(
        currencies != main,
        cells["Currency"],
        "Currency",
        lambda row, value: (
            f"Row {row}, column 'Currency': currency {value!r} differs from {main!r}, the "
            "currency of most rows. Load each currency's subscriptions as a source of its own."
        ),
    )
