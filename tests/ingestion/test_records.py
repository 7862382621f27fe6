"""Loading customer profile and product catalog files: upserts, replaces and rejections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from server.ingestion.customer_profiles import CustomerMapping, load_customers
from server.ingestion.customers_key import email_key
from server.ingestion.errors import IngestionError
from server.ingestion.loader import load_orders
from server.ingestion.products import load_products
from tests.ingestion.helpers import write_superstore_sample

PROFILE_TEXT = """CustomerId,Segment,Country,City,Region,Loyalty
C1,Consumer,France,Lyon,West,gold
C2,Corporate,Spain,Madrid,South,
C3,Consumer,Italy,Rome,South,silver
"""
CATALOG_TEXT = """product_id,name,category,sub_category,price,color
P1,Desk lamp,Furniture,Lamps,19.5,black
P2,Ink,Office,Supplies,3,
P3,Chair,Furniture,Chairs,120,grey
"""


def write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def rows_of(engine: Engine, query: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def customer_rows(engine: Engine) -> list[tuple[Any, ...]]:
    return rows_of(
        engine,
        "SELECT customer_id, source, segment, country, city, state, region FROM customer "
        "ORDER BY customer_id",
    )


def product_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """Return the stored products, with the JSON attributes decoded on every backend."""
    rows = rows_of(
        engine,
        "SELECT source, product_id, name, category, sub_category, attributes FROM product "
        "ORDER BY source, product_id",
    )
    return [(*row[:5], json.loads(row[5]) if isinstance(row[5], str) else row[5]) for row in rows]


def test_customers_loaded_with_profile(engine: Engine, tmp_path: Path) -> None:
    report = load_customers(engine, write(tmp_path, "profile.csv", PROFILE_TEXT))

    assert report.mapping == "profile"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 3, 0)
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    assert report.attributes == ("segment", "country", "city", "region")
    assert report.ignored_columns == ("Loyalty",)
    assert customer_rows(engine)[0] == (
        "C1",
        "customers",
        "Consumer",
        "France",
        "Lyon",
        None,
        "West",
    )


def test_customers_upsert_changed_only(engine: Engine, tmp_path: Path) -> None:
    load_customers(engine, write(tmp_path, "profile.csv", PROFILE_TEXT))
    changed = PROFILE_TEXT.replace("C2,Corporate,Spain,Madrid", "C2,Corporate,Spain,Seville")
    partial = "\n".join(changed.splitlines()[:3]) + "\nC4,Home Office,Chile,Lima,North,\n"

    report = load_customers(engine, write(tmp_path, "update.csv", partial))

    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    stored = {row[0]: row for row in customer_rows(engine)}
    assert stored["C2"][4] == "Seville"
    # C3 is not in the second file and stays as it was.
    assert stored["C3"][3] == "Italy"
    assert stored["C4"][2] == "Home Office"


def test_customers_double_load_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "profile.csv", PROFILE_TEXT)
    load_customers(engine, path)
    before = customer_rows(engine)

    report = load_customers(engine, path)

    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
    assert customer_rows(engine) == before


def test_customers_keyed_by_email(engine: Engine, tmp_path: Path) -> None:
    mapping = CustomerMapping(name="crm", customer_id="Id", customer_email="Email")
    content = "Id,Email\nK1,k1@example.com\n, Mia@Example.com \n"

    load_customers(engine, write(tmp_path, "crm.csv", content), mapping, "crm")

    ids = [row[0] for row in customer_rows(engine)]
    assert ids == sorted(["K1", email_key("mia@example.com")])


def test_customers_of_other_source_rejected(engine: Engine, tmp_path: Path) -> None:
    load_orders(engine, write_superstore_sample(tmp_path / "orders.csv", 5), "superstore")
    owned = customer_rows(engine)[0][0]
    before = customer_rows(engine)

    with pytest.raises(IngestionError) as caught:
        load_customers(engine, write(tmp_path, "p.csv", f"CustomerId,Region\n{owned},East\n"))

    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (1, "CustomerId", owned)
    assert "already belongs to source 'superstore'" in problem.message
    assert customer_rows(engine) == before


@pytest.mark.parametrize(
    ("content", "row", "message"),
    [
        ("CustomerId,Region\nC1,West\nC1,East\n", 2, "repeats row 1"),
        ("CustomerId,Region\nC1,West\n,East\n", 2, "customer id is empty"),
        ("CustomerId,Region\nC1," + "x" * 65 + "\n", 1, "more than the 64"),
    ],
    ids=["repeated id", "empty id", "too long"],
)
def test_bad_customer_file_writes_nothing(
    engine: Engine, tmp_path: Path, content: str, row: int, message: str
) -> None:
    load_customers(engine, write(tmp_path, "profile.csv", PROFILE_TEXT))
    before = customer_rows(engine)

    with pytest.raises(IngestionError) as caught:
        load_customers(engine, write(tmp_path, "bad.csv", content))

    assert caught.value.problems[0].row == row
    assert message in caught.value.problems[0].message
    assert caught.value.rows_rejected == 1
    assert customer_rows(engine) == before


def test_customers_dry_run_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    report = load_customers(engine, write(tmp_path, "profile.csv", PROFILE_TEXT), dry_run=True)

    assert report.added == 3
    assert customer_rows(engine) == []


def test_catalog_loaded_with_typed_attributes(engine: Engine, tmp_path: Path) -> None:
    report = load_products(engine, write(tmp_path, "catalog.csv", CATALOG_TEXT))

    assert report.mapping == "catalog"
    assert report.source == "catalog"
    assert (report.rows_read, report.rows_loaded, report.added) == (3, 3, 3)
    stored = {row[1]: row for row in product_rows(engine)}
    assert stored["P1"][2:5] == ("Desk lamp", "Furniture", "Lamps")
    assert stored["P1"][5] == {"price": 19.5, "color": "black"}
    assert stored["P2"][5] == {"price": 3.0}


def test_catalog_reload_counts_and_replaces(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, write(tmp_path, "catalog.csv", CATALOG_TEXT))
    before = product_rows(engine)
    again = load_products(engine, write(tmp_path, "catalog.csv", CATALOG_TEXT))
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    assert product_rows(engine) == before

    changed = CATALOG_TEXT.replace("Chair,", "Armchair,").replace("P2,Ink,Office,Supplies,3,\n", "")
    report = load_products(engine, write(tmp_path, "changed.csv", changed))

    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 1, 1)
    assert [row[1] for row in product_rows(engine)] == ["P1", "P3"]


def test_superstore_products_from_order_lines(engine: Engine, tmp_path: Path) -> None:
    path = write_superstore_sample(tmp_path / "orders.csv", 30)

    report = load_products(engine, path, "superstore")

    distinct = len({row[1] for row in product_rows(engine)})
    assert report.source == "superstore"
    assert report.added == distinct
    assert report.rows_loaded == 30


def test_bad_catalog_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    load_products(engine, write(tmp_path, "catalog.csv", CATALOG_TEXT))
    before = product_rows(engine)
    bad = CATALOG_TEXT + "P1,Lamp again,Furniture,Lamps,20,white\n,No id,Office,Paper,1,\n"

    with pytest.raises(IngestionError) as caught:
        load_products(engine, write(tmp_path, "bad.csv", bad))

    found = [(problem.row, problem.column) for problem in caught.value.problems]
    assert found == [(4, "product_id"), (5, "product_id")]
    assert caught.value.rows_rejected == 2
    assert product_rows(engine) == before
