"""Files that are not UTF-8, the --encoding option, and files not compressed as named."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.ingestion import IngestionError, load_orders
from tests.ingestion.test_cli_ingest import ingest
from tests.ingestion.test_hidden_characters import ORDER_ROW, ORDERS_HEADER

ORDERS_TEXT = (
    "\n".join([ORDERS_HEADER, ORDER_ROW.format(line=1, customer="C1", city="Zürich Café")]) + "\n"
)
# The byte offset of "ü", the first character outside ASCII.
FIRST_NON_ASCII = ORDERS_TEXT.index("ü")


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_single_byte_file_reported_with_offset(
    encoding: str, sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS_TEXT, encoding=encoding)

    status = ingest(sqlite_engine, "orders", str(path), "--json")

    [problem] = json.loads(capsys.readouterr().out)["problems"]
    assert status == 1
    assert "is not valid UTF-8 text" in problem["message"]
    assert f"at byte {FIRST_NON_ASCII}" in problem["message"]
    assert "resembles" not in problem["message"]


def test_utf16_file_reported(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS_TEXT, encoding="utf-16")

    status = ingest(sqlite_engine, "orders", str(path), "--format", "generated", "--json")

    [problem] = json.loads(capsys.readouterr().out)["problems"]
    assert status == 1
    assert "UTF-16 byte order mark at byte 0" in problem["message"]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_encoding_option_loads(encoding: str, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS_TEXT, encoding=encoding)

    assert ingest(engine, "orders", str(path), "--encoding", encoding) == 0

    with engine.connect() as connection:
        city = connection.execute(text("SELECT city FROM customer")).scalar_one()
    assert city == "Zürich Café"


def test_encoding_option_for_customers(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("CustomerId,City\nC1,Zürich\n", encoding="utf-16")

    assert ingest(sqlite_engine, "customers", str(path), "--encoding", "utf-16") == 0

    with sqlite_engine.connect() as connection:
        city = connection.execute(text("SELECT city FROM customer")).scalar_one()
    assert city == "Zürich"


def test_encoding_option_for_subscriptions(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.csv"
    path.write_text(
        "subscription_id,customer_id,start_date,end_date,recurrence_months,recurring_amount\n"
        "S1,Cé1,2023-01-01,,1,9.99\n",
        encoding="latin-1",
    )

    assert ingest(sqlite_engine, "subscriptions", str(path)) == 1
    assert ingest(sqlite_engine, "subscriptions", str(path), "--encoding", "latin-1") == 0


def test_unknown_encoding_rejected(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        ingest(sqlite_engine, "orders", str(tmp_path / "orders.csv"), "--encoding", "nope")

    assert "unknown encoding 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("orders.csv.gz", ORDERS_TEXT.encode(), "gzip"),
        ("orders.csv.gz", gzip.compress(ORDERS_TEXT.encode())[:30], "gzip"),
        ("orders.csv.bz2", ORDERS_TEXT.encode(), "bzip2"),
        ("orders.csv.bz2", bz2.compress(ORDERS_TEXT.encode())[:30], "bzip2"),
        ("orders.csv.zip", ORDERS_TEXT.encode(), "zip"),
    ],
)
def test_not_compressed_as_named(
    name: str, content: bytes, kind: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    for mapping in (None, "generated"):
        with pytest.raises(IngestionError) as raised:
            load_orders(sqlite_engine, path, mapping)

        [problem] = raised.value.problems
        assert f"{name} is not a valid {kind} file" in problem.message


def test_not_gzip_subscriptions(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.csv.gz"
    path.write_bytes(b"subscription_id,customer_id\n")

    status = ingest(sqlite_engine, "subscriptions", str(path))

    assert status == 1
