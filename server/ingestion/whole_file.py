"""Reading a small file (a customer profile or catalog) whole, as text cells by data row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from server.ingestion.errors import IngestionError
from server.ingestion.reader import FileLayout, SourceReader
from server.ingestion.row_messages import RowMessages


def read_whole(path: Path, layout: FileLayout) -> tuple[pd.DataFrame, SourceReader]:
    """Return every non-blank row of `path`, indexed by data row, and the finished reader.

    NOTE: the whole file is in memory at once, so a file of many millions of rows
    needs gigabytes. Order files are read in chunks instead.
    """
    reader = SourceReader(path, layout)
    chunks = list(reader)
    cells = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
    return cells, reader


def reject(reader: SourceReader, problems: RowMessages) -> None:
    """Raise IngestionError for `problems`, with the rows read and rejected, if there are any."""
    if problems.count:
        raise IngestionError(
            reader.path.name,
            problems.listed(),
            problems.count,
            rows_read=reader.rows_read,
            rows_rejected=problems.rejected_rows(),
        )


def find_repeated(keys: pd.Series, column: str, label: str, problems: RowMessages) -> None:
    """Add a problem for each non-empty key that repeats an earlier row's, naming that row."""
    present = keys[keys != ""]
    row_numbers = pd.Series(present.index, index=present.index)
    first_rows = row_numbers.groupby(present.to_numpy()).transform("first")
    problems.add(
        present.duplicated(keep="first"),
        present,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: {label} {value!r} repeats row {first_rows[row]}. "
            "Keep one row per record."
        ),
    )
