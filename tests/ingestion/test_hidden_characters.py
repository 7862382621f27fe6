"""Control and invisible characters in cells: rejected by row and column, nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.ingestion.test_cli_ingest import count, ingest

ORDERS_HEADER = (
    "LineId,OrderId,OrderDate,CustomerId,ProductId,Quantity,Amount,"
    "Segment,Country,City,State,Region"
)
ORDER_ROW = "{line},O{line},2023-01-0{line},{customer},P1,1,10.5,Consumer,US,{city},CO,West"


def write_orders(path: Path, rows: list[tuple[str, str]]) -> Path:
    """Write generated-layout order lines, one per (CustomerId, City) pair."""
    lines = [ORDERS_HEADER]
    for number, (customer, city) in enumerate(rows, start=1):
        lines.append(ORDER_ROW.format(line=number, customer=customer, city=city))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def failed_report(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    return report


def test_nul_in_customer_id_rejected(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_orders(tmp_path / "orders.csv", [("C1", "Denver"), ("C\x002", "Denver")])

    status = ingest(engine, "orders", str(path), "--json")

    report = failed_report(capsys)
    assert status == 1
    assert report["rows_rejected"] == 1
    [problem] = report["problems"]
    assert problem["row"] == 2
    assert problem["column"] == "CustomerId"
    assert problem["value"] == "C\\x002"
    assert "control or invisible character U+0000 at position 2" in problem["message"]
    assert count(engine, "order_line") == 0
    assert count(engine, "customer") == 0


@pytest.mark.parametrize(
    ("customer", "code"),
    [("C\u202e1", "U+202E"), ("C\u200b1", "U+200B"), ("C\x071", "U+0007"), ("C\t1", "U+0009")],
)
def test_invisible_in_customer_id_rejected(
    customer: str, code: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_orders(tmp_path / "orders.csv", [(customer, "Denver")])

    status = ingest(engine, "orders", str(path), "--json")

    [problem] = failed_report(capsys)["problems"]
    assert status == 1
    assert problem["column"] == "CustomerId"
    assert code in problem["message"]
    assert count(engine, "order_line") == 0


def test_control_in_text_rejected_tab_kept(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_orders(tmp_path / "orders.csv", [("C1", "Den\x00ver"), ("C2", "Den\tver")])

    status = ingest(engine, "orders", str(path), "--json")

    [problem] = failed_report(capsys)["problems"]
    assert status == 1
    assert (problem["row"], problem["column"]) == (1, "City")
    assert "U+0000" in problem["message"]
    assert count(engine, "order_line") == 0


def test_tab_in_text_loads(engine: Engine, tmp_path: Path) -> None:
    path = write_orders(tmp_path / "orders.csv", [("C1", '"Den\tver"')])

    assert ingest(engine, "orders", str(path), "--json") == 0

    with engine.connect() as connection:
        city = connection.execute(text("SELECT city FROM customer")).scalar_one()
    assert city == "Den\tver"


def test_nul_in_customer_file_rejected(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("CustomerId,City\nC1,Denver\nC2,Den\x00ver\nC\u202e3,Paris\n", encoding="utf-8")

    status = ingest(engine, "customers", str(path), "--json")

    report = failed_report(capsys)
    assert status == 1
    assert [(item["row"], item["column"]) for item in report["problems"]] == [
        (2, "City"),
        (3, "CustomerId"),
    ]
    assert count(engine, "customer") == 0


def test_nul_in_product_file_rejected(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "product_id,name,category,sub_category,colour\n"
        "P1,Desk,Furniture,Tables,red\n"
        "P2,Chair,Furniture,Chairs,bl\x00ue\n",
        encoding="utf-8",
    )

    status = ingest(engine, "products", str(path), "--json")

    [problem] = failed_report(capsys)["problems"]
    assert status == 1
    assert (problem["row"], problem["column"]) == (2, "colour")
    assert count(engine, "product") == 0


def test_nul_in_subscription_file_rejected(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "subscriptions.csv"
    path.write_text(
        "subscription_id,customer_id,start_date,end_date,recurrence_months,"
        "recurring_amount,plan\n"
        "S1,C\x001,2023-01-01,,1,9.99,basic\n"
        "S2,C2,2023-01-01,,1,9.99,pro\x00\n",
        encoding="utf-8",
    )

    status = ingest(engine, "subscriptions", str(path), "--json")

    report = failed_report(capsys)
    assert status == 1
    assert [(item["row"], item["column"]) for item in report["problems"]] == [
        (1, "customer_id"),
        (2, "plan"),
    ]
    assert count(engine, "subscription") == 0
