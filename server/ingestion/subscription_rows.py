"""Checking subscription rows and converting them to typed subscriptions and profiles.

The input is a table of text cells indexed by 1-based data row, so every problem can
name its row. All cells are checked before anything is raised, so one error lists
every problem of the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from server.ingestion.cells import empty_to_none, limit_length, parse_numbers, require_values
from server.ingestion.characters import reject_control_in_text, reject_invisible_in_ids
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.row_messages import RowMessages

SUBSCRIPTION_COLUMNS = (
    "subscription_id",
    "customer_id",
    "start_date",
    "end_date",
    "recurrence_months",
    "recurring_amount",
)
OPTIONAL_COLUMNS = ("is_recurring", "cancel_requested_at")
ID_MAX_LENGTH = 64
MAX_RECURRENCE_MONTHS = 120

_COLUMN_HINTS = {
    "subscription_id": "a unique id per subscription",
    "customer_id": "the id of the customer the subscription belongs to",
    "start_date": "dates as YYYY-MM-DD",
    "end_date": "dates as YYYY-MM-DD, empty while the subscription is active",
    "recurrence_months": "months between two charges, such as 1 or 12",
    "recurring_amount": "the amount charged per recurrence",
}
_TRUE_WORDS = frozenset({"true", "yes", "1", "t", "y"})
_FALSE_WORDS = frozenset({"false", "no", "0", "f", "n"})
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_RESERVED_ATTRIBUTES = frozenset({"customerid"})


@dataclass(frozen=True)
class ValidSubscriptions:
    """Typed subscriptions indexed by data row, and the other columns of the input.

    `subscriptions` has the columns of the subscription table except `source`, with
    dates as datetime64, `end_date` NaT while active and `cancel_requested_at` NaT
    when no cancellation was requested. `extra` contains the input's
    other columns, still as given.
    """

    subscriptions: pd.DataFrame
    extra: pd.DataFrame


def check_columns(cells: pd.DataFrame, file_name: str) -> None:
    """Raise IngestionError naming each missing subscription column, and an empty input."""
    found = [str(name) for name in cells.columns]
    found_text = ", ".join(repr(name) for name in found) or "none"
    problems = [
        RowMessage(
            None,
            column,
            None,
            f"Column {column!r} is missing. Columns found: {found_text}. Add {column!r} "
            f"({_COLUMN_HINTS[column]}).",
        )
        for column in SUBSCRIPTION_COLUMNS
        if column not in found
    ]
    if not problems and cells.empty:
        problems = [RowMessage(None, None, None, f"{file_name} has no rows. Add subscriptions.")]
    if problems:
        raise IngestionError(file_name, problems, len(problems))


def validate_subscriptions(
    cells: pd.DataFrame,
    file_name: str,
    names: Mapping[str, str] | None = None,
    problems: RowMessages | None = None,
) -> ValidSubscriptions:
    """Check every subscription cell and convert the rows to typed subscriptions.

    `names` maps a subscription column to the input column that messages should name,
    when a file format renamed it. `problems` found earlier in the same input are
    raised together with these.

    Raises IngestionError listing the problems of the whole input: empty or too long
    ids, repeated subscription ids, invalid dates, an end before the start, and
    amounts or recurrences that are not valid numbers.
    """
    found = RowMessages() if problems is None else problems
    named = _Names(names or {})
    rows = pd.DataFrame(index=cells.index)

    for column, label in (("subscription_id", "subscription id"), ("customer_id", "customer id")):
        require_values(cells[column], named(column), label, found)
        reject_invisible_in_ids(cells[column], named(column), label, found)
        limit_length(cells[column], named(column), ID_MAX_LENGTH, found)
        rows[column] = cells[column]
    _find_repeated_ids(cells["subscription_id"], named("subscription_id"), found)

    rows["start_date"] = _parse_dates(
        cells["start_date"], named("start_date"), found, required=True
    )
    rows["end_date"] = _parse_dates(cells["end_date"], named("end_date"), found, required=False)
    _find_ends_before_starts(cells, rows, named, found)
    rows["cancel_requested_at"] = _parse_cancel_requests(cells, rows, named, found)

    rows["recurrence_months"] = _parse_recurrences(
        cells["recurrence_months"], named("recurrence_months"), found
    )
    rows["recurring_amount"] = _parse_amounts(
        cells["recurring_amount"], named("recurring_amount"), found
    )
    rows["is_recurring"] = _parse_flags(cells, named("is_recurring"), found)

    known = [*SUBSCRIPTION_COLUMNS, *OPTIONAL_COLUMNS]
    extra = cells[[column for column in cells.columns if column not in known]]
    for column in extra.columns:
        if pd.api.types.is_string_dtype(extra[column]):
            reject_control_in_text(extra[column], named(column), found)
    found.raise_if_any(file_name)
    return ValidSubscriptions(subscriptions=rows, extra=extra)


class _Names:
    """The input's name of each subscription column: its own name unless renamed."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names

    def __call__(self, column: str) -> str:
        return self.names.get(column, column)


def _find_repeated_ids(ids: pd.Series, column: str, problems: RowMessages) -> None:
    present = ids[ids != ""]
    row_numbers = pd.Series(present.index, index=present.index)
    first_rows = row_numbers.groupby(present.to_numpy()).transform("first")
    problems.add(
        present.duplicated(keep="first"),
        present,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: subscription id {value!r} repeats row "
            f"{first_rows[row]}. Remove one of the two rows, or give each subscription its "
            "own id."
        ),
    )


def _parse_dates(
    cells: pd.Series, column: str, problems: RowMessages, *, required: bool
) -> pd.Series:
    parsed = pd.to_datetime(cells, format="ISO8601", errors="coerce")
    empty = cells == ""
    if required:
        problems.add(
            empty,
            cells,
            column,
            lambda row, _value: (
                f"Row {row}, column {column!r}: the date is empty. Fill it in as YYYY-MM-DD, "
                "for example 2024-01-31."
            ),
        )
    problems.add(
        parsed.isna() & ~empty,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: invalid date {value!r}. Write dates as YYYY-MM-DD, "
            "for example 2024-01-31."
        ),
    )
    return parsed.dt.normalize()


def _find_ends_before_starts(
    cells: pd.DataFrame, rows: pd.DataFrame, named: _Names, problems: RowMessages
) -> None:
    starts = cells["start_date"]
    column = named("end_date")
    problems.add(
        rows["end_date"] < rows["start_date"],
        cells["end_date"],
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: end date {value!r} is before the start date "
            f"{starts[row]!r}. Correct one of the two dates, or leave the end date empty "
            "while the subscription is active."
        ),
    )


def _parse_cancel_requests(
    cells: pd.DataFrame, rows: pd.DataFrame, named: _Names, problems: RowMessages
) -> pd.Series:
    """Parse the optional request dates; a request after the subscription ended is a problem."""
    if "cancel_requested_at" not in cells.columns:
        return pd.Series(pd.NaT, index=cells.index, dtype="datetime64[us]")

    column = named("cancel_requested_at")
    requested = _parse_dates(cells["cancel_requested_at"], column, problems, required=False)
    ends = cells["end_date"]
    problems.add(
        requested > rows["end_date"],
        cells["cancel_requested_at"],
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: cancellation request {value!r} is after the end "
            f"date {ends[row]!r}. Correct one of the two dates."
        ),
    )
    return requested


def _parse_recurrences(cells: pd.Series, column: str, problems: RowMessages) -> pd.Series:
    numbers = parse_numbers(cells, column, "recurrence", problems)
    whole = (numbers % 1 == 0) & (numbers >= 1) & (numbers <= MAX_RECURRENCE_MONTHS)
    problems.add(
        numbers.notna() & ~whole,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: recurrence {value!r} is not a whole number "
            f"of months from 1 to {MAX_RECURRENCE_MONTHS}. Write 1 for monthly or 12 for "
            "yearly charges."
        ),
    )
    return numbers.where(whole).astype("Int64")


def _parse_amounts(cells: pd.Series, column: str, problems: RowMessages) -> pd.Series:
    numbers = parse_numbers(cells, column, "recurring amount", problems)
    problems.add(
        numbers < 0,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: the recurring amount {value} is negative. "
            "Write the amount charged per recurrence, 0 or more."
        ),
    )
    return numbers


def _parse_flags(cells: pd.DataFrame, column: str, problems: RowMessages) -> pd.Series:
    if "is_recurring" not in cells.columns:
        return pd.Series(True, index=cells.index)

    words = cells["is_recurring"].str.lower()
    problems.add(
        ~words.isin(_TRUE_WORDS | _FALSE_WORDS | {""}),
        cells["is_recurring"],
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: {value!r} is not true or false. Write true or "
            "false (yes/no and 1/0 work too), or leave it empty for true."
        ),
    )
    return ~words.isin(_FALSE_WORDS)


def check_attribute_names(columns: list[str], file_name: str) -> None:
    """Raise IngestionError for extra columns that cannot name a profile attribute."""
    problems = [
        RowMessage(
            None,
            column,
            None,
            f"Column {column!r} cannot name a profile attribute. Rename it to letters, digits "
            "and underscores starting with a letter, other than CustomerId.",
        )
        for column in columns
        if not _ATTRIBUTE_NAME.match(column) or column.lower() in _RESERVED_ATTRIBUTES
    ]
    if problems:
        raise IngestionError(file_name, problems, len(problems))


def build_profile(valid: ValidSubscriptions, text_input: bool) -> tuple[pd.DataFrame, int]:
    """Return one profile row per customer, and how many customers had differing values.

    Each customer's attributes come from their latest-starting subscription, and among
    rows with the same start, the last one of the input. Attributes read from a file
    are typed here: columns whose cells are all true/false become booleans, all
    numbers become numbers, and anything else stays text (empty cells are missing).
    """
    attributes = list(valid.extra.columns)
    joined = valid.subscriptions[["customer_id", "start_date"]].join(valid.extra)
    latest = joined.sort_values("start_date", kind="stable").drop_duplicates(
        "customer_id", keep="last"
    )
    profile = latest[["customer_id", *attributes]].rename(columns={"customer_id": "CustomerId"})
    profile = profile.sort_values("CustomerId").reset_index(drop=True)
    if text_input:
        for attribute in attributes:
            profile[attribute] = _typed_attribute(profile[attribute])

    distinct = joined.groupby("customer_id")[attributes].nunique(dropna=False)
    conflicting = int((distinct > 1).any(axis=1).sum()) if attributes else 0
    return profile, conflicting


def _typed_attribute(cells: pd.Series) -> pd.Series:
    present = cells[cells != ""]
    words = present.str.lower()
    if len(present) and words.isin({"true", "false"}).all():
        return cells.str.lower().map({"true": True, "false": False}).astype("boolean")

    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().all():
        typed = pd.to_numeric(cells.where(cells != ""), errors="coerce")
        if (typed.dropna() % 1 == 0).all():
            return typed.astype("Int64")
        return typed.astype("float64")
    return empty_to_none(cells)
