"""Small input files and database snapshots for the ingestion tests."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from server.ingestion import WHITESPACE, ColumnMapping, ReaderOptions
from tests.conftest import DATA

SUPERSTORE_FILE = DATA / "superstore.csv.gz"
CDNOW_FILE = DATA / "CDNOW_master.txt.gz"

CDNOW_HEADER = "customer_id date number_of_cds dollar_value"

# The CDNOW sample has no header, and a second id column the loader does not use.
CDNOW_SAMPLE = ColumnMapping(
    name="cdnow-sample",
    customer_id="customer_id",
    order_date="date",
    date_format="%Y%m%d",
    amount="dollar_value",
    quantity="number_of_cds",
    reader=ReaderOptions(
        separator=WHITESPACE,
        header=False,
        column_names=("customer_id", "customer_index", "date", "number_of_cds", "dollar_value"),
    ),
    duplicates="keep",
)


def write_superstore_sample(
    path: Path, rows: int, edits: dict[tuple[int, str], str] | None = None
) -> Path:
    """Write the header and the first `rows` data rows of Superstore, with cells replaced.

    `edits` maps (1-based data row, column name) to the new cell text.
    """
    with gzip.open(SUPERSTORE_FILE, "rt", encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        header = next(reader)
        data = [next(reader) for _ in range(rows)]

    for (row, column), value in (edits or {}).items():
        data[row - 1][header.index(column)] = value

    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(header)
        writer.writerows(data)
    return path


def write_cdnow_sample(path: Path, lines: list[str]) -> Path:
    """Write a whitespace-separated file in the CDNOW layout, one purchase per line."""
    path.write_text("\n".join([CDNOW_HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def table_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the customer and order_line tables, in a stable order."""
    with engine.connect() as connection:
        customers = connection.execute(text("SELECT * FROM customer ORDER BY customer_id"))
        lines = connection.execute(text("SELECT * FROM order_line ORDER BY id"))
        return {
            "customer": [tuple(row) for row in customers],
            "order_line": [tuple(row) for row in lines],
        }


def count_rows(engine: Engine, table: str, source: str) -> int:
    with engine.connect() as connection:
        query = text(f"SELECT count(*) FROM {table} WHERE source = :source")
        return int(connection.execute(query, {"source": source}).scalar_one())
