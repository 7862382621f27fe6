"""Vectorised checks and conversions of text cells: required values, dates, numbers, lengths.

Each function takes one column of text cells indexed by data row and adds a message
to `problems` for every bad cell. Converting functions return the column with gaps
where cells were bad, so that one pass finds every problem of a file.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from server.ingestion.row_messages import RowMessages


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
    """Parse `cells` with the strptime `date_format`. Empty and invalid dates are problems."""
    example = date(1997, 1, 31).strftime(date_format)
    parsed = pd.to_datetime(cells, format=date_format, errors="coerce")
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


def parse_numbers(cells: pd.Series, column: str, label: str, problems: RowMessages) -> pd.Series:
    """Parse `cells` as finite decimal numbers. Empty and non-numeric cells are problems."""
    numbers = pd.to_numeric(cells, errors="coerce").astype("float64")
    empty = cells == ""

    require_values(cells, column, label, problems)
    not_finite = numbers.isna() | (numbers.abs() == np.inf)
    problems.add(
        not_finite & ~empty,
        cells,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: the {label} {value!r} is not a number. Write it "
            "as a plain decimal number such as -1234.50, without currency signs or "
            "thousands separators."
        ),
    )
    return numbers


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
