"""Recognising the customers and subscriptions files that `lookahead generate` writes.

Orders and products files of the generated layout have headers of their own, and their
built-in mapping, named "generated", names their default source. The generated
customers and subscriptions files use the general profile and plain layouts, so a file
counts as generated only when its header equals the generator's header, column for
column, and its first row has ids of the generator's form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from server.ingestion.mapping import ReaderOptions
from server.ingestion.sniff import is_parquet, open_binary, resolve_options

GENERATED_SOURCE = "generated"
"""Default source of every generated file, the name of the generated orders mapping."""

# Kept in step with server.generate.customers and server.generate.subscriptions, which
# are not imported here because importing server.generate loads the whole generator.
# tests/ingestion/test_generated_sources.py checks both against generated files.
GENERATED_HEADERS = {
    "customers": ("CustomerId", "Segment", "Country", "Region", "State", "City"),
    "subscriptions": (
        "subscription_id",
        "customer_id",
        "start_date",
        "end_date",
        "recurrence_months",
        "recurring_amount",
    ),
}
# Customer ids are "C" and a number padded to at least 7 digits. Subscription ids are
# "S" and a number.
_CUSTOMER_ID = re.compile(r"C\d{7,}")
_ID_FORMS = {
    "customers": {"CustomerId": _CUSTOMER_ID},
    "subscriptions": {"subscription_id": re.compile(r"S\d+"), "customer_id": _CUSTOMER_ID},
}


def is_generated_file(kind: str, path: Path, encoding: str | None = None) -> bool:
    """Return whether the `kind` file at `path` is one that `lookahead generate` wrote.

    NOTE: only the header and the first data row are read, so a hand-made file with the
    generator's header and ids of its form in its first row also counts as generated.
    """
    header = GENERATED_HEADERS.get(kind)
    if header is None:
        return False
    first = _first_row(path, encoding)
    if first is None or tuple(first) != header:
        return False
    return all(
        form.fullmatch(str(first[column])) is not None for column, form in _ID_FORMS[kind].items()
    )


def _first_row(path: Path, encoding: str | None) -> dict[str, object] | None:
    """Return the first data row by column name, or None when the file has none or is unreadable."""
    try:
        if is_parquet(path):
            batch = next(pq.ParquetFile(path).iter_batches(batch_size=1), None)
            rows = batch.to_pylist() if batch is not None else []
            return rows[0] if rows else None
        options = ReaderOptions() if encoding is None else ReaderOptions(encoding=encoding)
        resolved = resolve_options(path, options)
        with open_binary(path) as (stream, _raw):
            first = pd.read_csv(
                stream,
                sep=resolved.separator,
                dtype=str,
                na_filter=False,
                nrows=1,
                encoding=resolved.encoding,
            )
    except (OSError, ValueError, UnicodeError, pd.errors.ParserError):
        # The loader reads the file again and reports why it cannot.
        return None
    if first.empty:
        return None
    return {str(name).strip(): value for name, value in first.iloc[0].items()}
