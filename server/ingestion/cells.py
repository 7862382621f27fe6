"""Vectorised checks and conversions of text cells: required values, dates, numbers, lengths.

Each function takes one column of text cells indexed by data row and adds a message
to `problems` for every bad cell. Converting functions return the column with gaps
where cells were bad, so that one pass finds every problem of a file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from server.ingestion.dates import example_of, parse_timestamps
from server.ingestion.row_messages import RowMessages

# A number with optional sign and thousands groups, written with "." as the decimal
# point after the file's separators were swapped to "." and "," if needed.
_GROUPED_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[+-]?\.\d+"


# Amounts and quantities beyond this are typing or separator mistakes, and sums of a
# few of them would overflow a float.
MAX_NUMBER = 1e15


def require_values(cells: pd.Series, column: str, label: str, problems: RowMessages) -> None:
    """Add a problem for each empty cell, calling the value by `label` ("customer id")."""
    problems.add(
        cells == "",
        cells,
        column,
        lambda row, _value: (
            f"Row {row}, column {column!r}: the {label} is empty. Fill it in or remove the row."
        ),
    )


def parse_dates(
    cells: pd.Series, column: str, date_format: str, problems: RowMessages
) -> pd.Series:
    """Parse `cells` with `date_format` to naive UTC timestamps; see `dates`.

    Empty and invalid dates are problems.
    """
    example = example_of(date_format)
    parsed = parse_timestamps(cells, date_format)
    empty = cells == ""

    problems.add(
        empty,
        cells,
        column,
        lambda row, _value: (
            f"Row {row}, column {column!r}: the order date is empty. Fill it in as "
            f"{date_format}, for example {example}."
        ),
    )
    problems.add(
        parsed.isna() & ~empty,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: invalid date {value!r}. Write dates as "
            f"{date_format}, for example {example}, or fix the mapping's date_format."
        ),
    )
    return parsed


def parse_numbers(
    cells: pd.Series,
    column: str,
    label: str,
    problems: RowMessages,
    *,
    decimal: str = ".",
    thousands: str | None = None,
    required: bool = True,
) -> pd.Series:
    """Parse `cells` as finite decimal numbers. Non-numeric cells are problems.

    Empty cells are problems when `required`, and NaN otherwise. With a `thousands`
    separator, a number's groups must have three digits ("1.234,50" with "." and ",").
    """
    numbers = pd.to_numeric(_plain_numbers(cells, decimal, thousands), errors="coerce")
    numbers = numbers.astype("float64")
    empty = cells == ""

    if required:
        require_values(cells, column, label, problems)
    not_finite = numbers.isna() | (numbers.abs() == np.inf)
    problems.add(
        not_finite & ~empty,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: the {label} {value!r} is not a number. Write it "
            f"as a plain decimal number such as {_example_number(decimal, thousands)}, "
            "without currency signs, or declare the reader's decimal and thousands separators."
        ),
    )
    too_large = ~not_finite & (numbers.abs() > MAX_NUMBER)
    problems.add(
        too_large,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: the {label} {value!r} is larger than "
            f"{MAX_NUMBER:.0e} in size; check the value and the decimal separator."
        ),
    )
    return numbers


def _plain_numbers(cells: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """Rewrite numbers to "1234.5" form; a badly grouped number becomes empty (invalid)."""
    if decimal == "." and thousands is None:
        return cells
    text = cells
    if thousands is not None:
        text = text.str.replace(thousands, "\x00", regex=False)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    text = text.str.replace("\x00", ",", regex=False)
    well_formed = text.str.fullmatch(_GROUPED_NUMBER)
    return text.str.replace(",", "", regex=False).where(well_formed, "x")


def _example_number(decimal: str, thousands: str | None) -> str:
    grouped = f"1{thousands}234" if thousands else "1234"
    return f"-{grouped}{decimal}50"


def limit_length(cells: pd.Series, column: str, max_length: int, problems: RowMessages) -> None:
    problems.add(
        cells.str.len() > max_length,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: the value {_shorten(value)!r} has {len(value)} "
            f"characters, more than the {max_length} the database column allows. Shorten it."
        ),
    )


def _shorten(value: str, keep: int = 20) -> str:
    return value if len(value) <= keep else value[:keep] + "…"


def empty_to_none(cells: pd.Series) -> pd.Series:
    """Return `cells` as Python objects, with None for empty cells."""
    return cells.astype(object).where(cells != "", None)
