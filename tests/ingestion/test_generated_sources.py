"""`lookahead ingest` gives every generated file the source "generated", in any order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text

from server.cli import main
from server.ingestion.generated_files import GENERATED_HEADERS, is_generated_file

ORDERS = ("orders", "order_lines")
PRODUCTS = ("products", "products")
CUSTOMERS = ("customers", "customers")
SUBSCRIPTIONS = ("subscriptions", "subscriptions")
LOAD_ORDERS = {
    "customers first": (CUSTOMERS, SUBSCRIPTIONS, PRODUCTS, ORDERS),
    "orders first": (ORDERS, PRODUCTS, CUSTOMERS, SUBSCRIPTIONS),
    "subscriptions first": (SUBSCRIPTIONS, ORDERS, CUSTOMERS, PRODUCTS),
}


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOOKAHEAD_DATABASE_URL", db_url)
    return db_url


def generate(folder: Path, file_format: str = "csv") -> Path:
    code = main(
        ["generate", str(folder), "--customers", "40", "--seed", "3", "--format", file_format]
    )
    assert code == 0
    return folder


def ingest(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["ingest", *argv, "--json"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0, report
    return report


def sources(db_url: str, table: str) -> list[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            query = text(f"SELECT DISTINCT source FROM {table} ORDER BY source")
            return [str(value) for value in connection.execute(query).scalars()]
    finally:
        engine.dispose()


@pytest.mark.parametrize("order", LOAD_ORDERS.values(), ids=LOAD_ORDERS.keys())
def test_generated_files_load_in_any_order(
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    order: tuple[tuple[str, str], ...],
) -> None:
    folder = generate(tmp_path / "gen")

    for kind, stem in order:
        report = ingest(capsys, kind, str(folder / f"{stem}.csv"))
        assert report["source"] == "generated", (kind, report)
        assert report["rows_rejected"] == 0, (kind, report)

    for table in ("customer", "order_line", "product", "subscription"):
        assert sources(database, table) == ["generated"], table


def test_generated_parquet_files_default_to_generated(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = generate(tmp_path / "gen", "parquet")

    assert is_generated_file("subscriptions", folder / "subscriptions.parquet")
    for kind, stem in (CUSTOMERS, ORDERS, PRODUCTS, SUBSCRIPTIONS):
        report = ingest(capsys, kind, str(folder / f"{stem}.parquet"))
        assert report["source"] == "generated", (kind, report)


@pytest.mark.parametrize("kind", ["customers", "subscriptions"])
def test_generated_headers_match_generator(tmp_path: Path, kind: str) -> None:
    folder = generate(tmp_path / "gen", "parquet")
    path = folder / f"{kind}.parquet"

    assert tuple(pq.ParquetFile(path).schema_arrow.names) == GENERATED_HEADERS[kind]
    assert is_generated_file(kind, path)


def test_hand_made_files_keep_their_defaults(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "CustomerId,Segment,Country,Region,State,City\nK1,Consumer,France,West,Brittany,Brest\n"
    )
    subscriptions = tmp_path / "subscriptions.csv"
    subscriptions.write_text(
        "subscription_id,customer_id,start_date,end_date,recurrence_months,recurring_amount\n"
        "S1,T1,2023-01-01,,1,9.99\n"
    )

    assert ingest(capsys, "customers", str(customers))["source"] == "customers"
    assert ingest(capsys, "subscriptions", str(subscriptions))["source"] == "subscriptions"


def test_source_option_overrides_generated(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = generate(tmp_path / "gen")

    report = ingest(capsys, "customers", str(folder / "customers.csv"), "--source", "shop")

    assert report["source"] == "shop"
    assert sources(database, "customer") == ["shop"]


def test_unreadable_file_is_not_generated(tmp_path: Path) -> None:
    assert not is_generated_file("customers", tmp_path / "missing.csv")
    assert not is_generated_file("orders", tmp_path / "missing.csv")
