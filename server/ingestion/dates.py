"""Parsing order dates in a declared format, or detecting the format when only one fits.

Dates with a UTC offset ("2024-03-01 00:30:00 +0200") are converted to UTC before
the time is dropped, so that order falls on 2024-02-29. Dates without an offset are
taken as they are.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import ISO8601

_DAY_FIRST = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y")
_MONTH_FIRST = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")
_YEAR_FIRST = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
_TIMES = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S %z", " %H:%M:%S%z", "T%H:%M:%S", "T%H:%M:%S%z")

CANDIDATE_FORMATS = tuple(
    day + time for day in (*_YEAR_FIRST, *_DAY_FIRST, *_MONTH_FIRST) for time in _TIMES
)
"""The formats detection tries; a file in any other format must declare it."""

SAMPLE_VALUES = 10_000


def parse_timestamps(cells: pd.Series, date_format: str) -> pd.Series:
    """Parse `cells` to naive UTC timestamps; invalid and empty cells become NaT."""
    parsed = pd.to_datetime(cells, format=date_format, errors="coerce", utc=True)
    return parsed.dt.tz_localize(None)


def example_of(date_format: str) -> str:
    if date_format == ISO8601:
        return "2024-01-31T12:00:00+01:00"
    return date(1997, 1, 31).strftime(date_format).strip()


def detect_date_format(cells: pd.Series, column: str, file_name: str) -> str:
    """Return the one candidate format that parses every sampled date in `cells`.

    Raises IngestionError when no candidate fits, or when formats that fit read the
    same text as different dates (03/04/2024 as 3 April or 4 March): the mapping must
    then declare date_format, because a guess would shift dates silently.
    """
    values = pd.Series(cells[cells != ""].unique()[:SAMPLE_VALUES], dtype=object)
    if values.empty:
        return ISO8601

    fitting: dict[str, pd.Series] = {}
    for date_format in CANDIDATE_FORMATS:
        parsed = parse_timestamps(values, date_format)
        if parsed.notna().all():
            fitting[date_format] = parsed
    if not fitting:
        _fail(file_name, column, _no_format_message(column, str(values.iloc[0])))

    readings = list(fitting.items())
    first_format, first = readings[0]
    for other_format, other in readings[1:]:
        differs = (first.dt.normalize() != other.dt.normalize()).to_numpy()
        if differs.any():
            example = str(values[differs].iloc[0])
            _fail(
                file_name,
                column,
                f"Column {column!r}: dates such as {example!r} fit both {first_format!r} and "
                f"{other_format!r}, which read them as different days. Declare the mapping's "
                "date_format (for example with --mapping) so no date is guessed.",
            )
    return first_format


def _no_format_message(column: str, example: str) -> str:
    return (
        f"Column {column!r}: no known date format reads every date, for example {example!r}. "
        "Declare the mapping's date_format with strptime codes such as '%d/%m/%Y %H:%M'."
    )


def _fail(file_name: str, column: str, message: str) -> None:
    raise IngestionError(file_name, [RowMessage(None, column, None, message)], 1)
