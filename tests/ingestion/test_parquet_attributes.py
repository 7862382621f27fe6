"""Parquet files load the same attribute columns and values as CSV files of the same data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text

from server.cli import main
from server.generate.generator import generate
from server.generate.writer import FileFormat
from server.ingestion.mapping import ReaderOptions
from server.ingestion.reader import SourceReader

CUSTOMERS = 300
SEED = 7
FORMATS: tuple[FileFormat, ...] = ("csv", "parquet")
# (ingest kind, generated file stem, table, columns to compare)
KINDS = (
    ("customers", "customers", "customer", "customer_id, segment, country, city, state, region"),
    ("products", "products", "product", "product_id, name, category, sub_category, attributes"),
    (
        "orders",
        "order_lines",
        "order_line",
        "customer_id, order_id, order_date, product_id, quantity, amount, line_key",
    ),
)


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOOKAHEAD_DATABASE_URL", db_url)
    return db_url


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    folders = {file_format: tmp_path / file_format for file_format in FORMATS}
    for file_format, folder in folders.items():
        generate(folder, CUSTOMERS, SEED, file_format)
    return folders


def ingest(capsys: pytest.CaptureFixture[str], kind: str, path: Path) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["ingest", kind, str(path), "--json"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0, report
    return report


def stored_rows(db_url: str, table: str, columns: str) -> list[tuple[Any, ...]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = [
                tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM {table}"))
            ]
    finally:
        engine.dispose()
    return sorted(rows, key=repr)


@pytest.mark.parametrize("kind, stem, table, columns", KINDS, ids=[kind[0] for kind in KINDS])
def test_parquet_loads_like_csv(
    database: str,
    folders: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    kind: str,
    stem: str,
    table: str,
    columns: str,
) -> None:
    # Customer ids belong to one source, so the Parquet file is loaded over the CSV
    # file under the same source ("generated"), and must change nothing.
    csv_report = ingest(capsys, kind, folders["csv"] / f"{stem}.csv")
    csv_rows = stored_rows(database, table, columns)
    parquet_report = ingest(capsys, kind, folders["parquet"] / f"{stem}.parquet")
    parquet_rows = stored_rows(database, table, columns)

    assert parquet_report["source"] == csv_report["source"]
    assert parquet_report["rows_loaded"] == csv_report["rows_loaded"]
    assert parquet_report["rows_rejected"] == 0
    assert parquet_report.get("attributes") == csv_report.get("attributes")
    assert parquet_report.get("ignored_columns") == csv_report.get("ignored_columns")
    assert parquet_report.get("updated", 0) == 0
    assert parquet_report.get("lines_updated", 0) == 0
    assert len(csv_rows) > 0
    assert parquet_rows == csv_rows


def test_parquet_customers_keep_profile_attributes(
    database: str, folders: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    report = ingest(capsys, "customers", folders["parquet"] / "customers.parquet")

    assert report["attributes"] == ["segment", "country", "city", "state", "region"]
    assert report["ignored_columns"] == []


def test_parquet_products_keep_extra_attributes(
    database: str, folders: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    report = ingest(capsys, "products", folders["parquet"] / "products.parquet")

    assert "Price" in report["attributes"]
    assert "PopularityRank" in report["attributes"]
    assert report["ignored_columns"] == []


class OneColumnLayout:
    name = "one column"
    reader = ReaderOptions()

    def source_columns(self) -> list[str]:
        return ["id"]


def test_parquet_reader_reads_unnamed_columns(tmp_path: Path) -> None:
    path = tmp_path / "cells.parquet"
    table = pa.table(
        [pa.array(["a", "b"]), pa.array([1.5, 2.0]), pa.array([3, None])],
        names=["id", "note", "note"],
    )
    pq.write_table(table, path)

    reader = SourceReader(path, OneColumnLayout())
    chunks = list(reader)

    assert reader.columns == ["id", "note", "note.1"]
    assert len(chunks) == 1
    assert chunks[0].to_dict("list") == {
        "id": ["a", "b"],
        "note": ["1.5", "2.0"],
        "note.1": ["3", ""],
    }
