"""Built-in mappings of shop exports, on small made-up files in each export's real layout.

Expected values are worked out by hand from the sample files beside this module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.ingestion import IngestionError, load_orders
from server.ingestion.customers_key import email_key
from tests.ingestion.helpers import table_rows

SAMPLES = Path(__file__).parent / "samples"
SHOPIFY_FILE = SAMPLES / "shopify_orders.csv"
WOOCOMMERCE_FILE = SAMPLES / "woocommerce_orders.csv"


def _revenue_by_customer(engine: Engine, source: str) -> dict[str, float]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT customer_id, sum(amount) FROM order_line WHERE source = :source "
                "GROUP BY customer_id"
            ),
            {"source": source},
        ).all()
    return {row[0]: round(float(row[1]), 6) for row in rows}


def test_shopify_export_by_hand(engine: Engine) -> None:
    report = load_orders(engine, SHOPIFY_FILE, None, source="shop")

    ana, ben, dave = (email_key(f"{name}@example.com") for name in ("ana", "ben", "dave"))
    assert report.mapping == "shopify"
    assert report.rows_read == 7
    assert report.rows_loaded == 5
    assert report.customers == 3
    assert report.orders == 4
    assert report.order_lines == 6
    assert report.refunds == 1
    assert report.excluded_rows == {"cancelled": 1, "test order": 1}
    assert report.net_revenue == pytest.approx(131.50)
    # #1006 was placed at 00:30 at +02:00, which is 29 February in UTC.
    assert report.first_order_date.isoformat() == "2024-02-29"
    assert report.last_order_date.isoformat() == "2024-03-05"
    assert _revenue_by_customer(engine, "shop") == {ana: 40.0, ben: 61.5, dave: 30.0}


def test_shopify_discount_spread_over_lines(engine: Engine) -> None:
    load_orders(engine, SHOPIFY_FILE, "shopify", source="shop")

    with engine.connect() as connection:
        lines = connection.execute(
            text("SELECT line_key, product_id, amount FROM order_line ORDER BY line_key")
        ).all()
    amounts = {row.line_key: round(row.amount, 6) for row in lines}
    # The 5.00 discount of #1001 falls on its 20.00 and 25.00 lines as 20:25.
    assert amounts["#1001/1"] == pytest.approx(20 - 5 * 20 / 45)
    assert amounts["#1001/2"] == pytest.approx(25 - 5 * 25 / 45)
    assert amounts["#1002/refund"] == -15.0
    assert "#1003/1" not in amounts


def test_shopify_customer_profile(engine: Engine) -> None:
    load_orders(engine, SHOPIFY_FILE, "shopify", source="shop")

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT customer_id, city, state, country FROM customer ORDER BY city")
        ).all()
    # Ben's later order moved him from Boston to Cambridge. No e-mail is stored.
    assert [tuple(row[1:]) for row in rows] == [
        ("Athens", None, "GR"),
        ("Cambridge", "MA", "US"),
        ("Lisbon", None, "PT"),
    ]
    assert all(row.customer_id.startswith("email:") for row in rows)


def test_woocommerce_export_by_hand(engine: Engine) -> None:
    report = load_orders(engine, WOOCOMMERCE_FILE, None, source="woo")

    finn = email_key("finn@example.org")
    assert report.mapping == "woocommerce"
    assert report.encoding == "utf-8-sig"
    assert report.rows_read == 8
    assert report.rows_loaded == 6
    assert report.customers == 2
    assert report.orders == 4
    assert report.refunds == 2
    assert report.excluded_rows == {"cancelled": 1, "failed": 1}
    assert report.net_revenue == pytest.approx(125.0)
    assert report.date_format == "%Y-%m-%d %H:%M"
    assert _revenue_by_customer(engine, "woo") == {"12": 85.0, finn: 40.0}


def test_shopify_chunks_match_whole_file(engine: Engine) -> None:
    whole = load_orders(engine, SHOPIFY_FILE, "shopify", source="shop")
    before = table_rows(engine)

    # Chunks of 2 rows cut order #1001 and others; each order is kept whole.
    chunked = load_orders(engine, SHOPIFY_FILE, "shopify", source="shop", chunk_rows=2)

    assert chunked.rows_loaded == whole.rows_loaded
    assert chunked.order_lines == whole.order_lines
    assert chunked.net_revenue == pytest.approx(whole.net_revenue)
    assert chunked.lines_unchanged == 6
    assert table_rows(engine) == before


def test_double_load_changes_nothing(engine: Engine) -> None:
    load_orders(engine, SHOPIFY_FILE, "shopify", source="shop")
    before = table_rows(engine)

    report = load_orders(engine, SHOPIFY_FILE, "shopify", source="shop")

    assert report.mode == "upsert"
    assert report.lines_unchanged == 6
    assert report.lines_added == report.lines_updated == report.lines_removed == 0
    assert table_rows(engine) == before


def test_later_export_appends_and_updates(engine: Engine, tmp_path: Path) -> None:
    load_orders(engine, SHOPIFY_FILE, "shopify", source="shop")
    later = tmp_path / "later.csv"
    lines = SHOPIFY_FILE.read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    # Ben moves to Salem on a new order, and #1001 loses its mug line, so its tee line
    # now takes the whole discount.
    new_order = (
        rows[2]
        .replace("#1002", "#1007")
        .replace("2024-03-02 23:30:00 -0500", "2024-03-09 10:00:00 +0000")
    )
    new_order = new_order.replace("Boston", "Salem").replace("15.00", "0.00")
    later.write_text("\n".join([header, rows[0], new_order]) + "\n", encoding="utf-8")

    report = load_orders(engine, later, "shopify", source="shop")

    ben = email_key("ben@example.com")
    assert report.lines_added == 1
    assert report.lines_updated == 1
    assert report.lines_unchanged == 0
    assert report.lines_removed == 1
    assert report.customers_updated == 1
    with engine.connect() as connection:
        city = connection.execute(
            text("SELECT city FROM customer WHERE customer_id = :id"), {"id": ben}
        ).scalar_one()
        lines_left = connection.execute(text("SELECT count(*) FROM order_line")).scalar_one()
    assert city == "Salem"
    assert lines_left == 6


def test_rejected_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    load_orders(engine, SHOPIFY_FILE, "shopify", source="shop")
    before = table_rows(engine)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        SHOPIFY_FILE.read_text(encoding="utf-8").replace("5.50,,STK-3", "five,,STK-3"),
        encoding="utf-8",
    )

    with pytest.raises(IngestionError) as caught:
        load_orders(engine, bad, "shopify", source="shop")

    assert table_rows(engine) == before
    assert caught.value.rows_rejected == 1
    assert caught.value.problems[0].row == 5
    assert caught.value.problems[0].column == "Lineitem price"


def test_dry_run_writes_nothing(engine: Engine) -> None:
    report = load_orders(engine, SHOPIFY_FILE, "shopify", source="shop", dry_run=True)

    assert report.dry_run
    assert report.lines_added == 6
    assert table_rows(engine) == {"customer": [], "order_line": []}


def test_unknown_header_lists_resemblances(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    lines = SHOPIFY_FILE.read_text(encoding="utf-8").splitlines()
    path.write_text(lines[0].replace("Lineitem sku", "SKU") + "\n" + lines[1] + "\n")

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, None, source="shop")

    message = caught.value.problems[0].message
    assert message.startswith("The header of export.csv matches no built-in mapping.")
    assert "It resembles shopify (" in message
    assert "lacks 'Lineitem sku'" in message
    assert "--mapping" in message


def test_recognised_from_copy(sqlite_engine: Engine, tmp_path: Path) -> None:
    copy = tmp_path / "orders_export_1.csv"
    shutil.copy(WOOCOMMERCE_FILE, copy)

    report = load_orders(sqlite_engine, copy, None)

    assert report.source == "woocommerce"
