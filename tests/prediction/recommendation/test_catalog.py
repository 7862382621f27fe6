"""Loading and reading the product catalog."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from server.prediction.recommendation.catalog import (
    load_catalog_csv,
    load_products_from_orders,
    products_from_order_lines,
    read_catalog,
)
from tests.conftest import DATA


def test_superstore_products_loaded(engine: Engine) -> None:
    count = load_products_from_orders(engine, DATA / "superstore.csv.gz", "superstore")

    catalog = read_catalog(engine, "superstore")
    lines = pd.read_csv(DATA / "superstore.csv.gz", dtype=str)
    assert count == lines["Product ID"].nunique() == 1862
    assert len(catalog) == 1862
    chair = catalog.loc["FUR-CH-10000454"]
    assert chair["category"] == "Furniture"
    assert chair["sub_category"] == "Chairs"
    assert chair["name"].startswith("Hon Deluxe Fabric Upholstered Stacking Chairs")


def test_conflicting_names_take_the_most_frequent(engine: Engine) -> None:
    lines = pd.read_csv(DATA / "superstore.csv.gz", dtype=str)
    names = lines.groupby("Product ID")["Product Name"]
    conflicting = names.nunique()
    product = conflicting[conflicting > 1].index[0]
    expected = lines.loc[lines["Product ID"] == product, "Product Name"].value_counts().index[0]

    load_products_from_orders(engine, DATA / "superstore.csv.gz", "superstore")

    assert read_catalog(engine, "superstore").loc[product, "name"] == expected


def test_catalog_csv_keeps_further_attributes(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "product_id,name,category,sub_category,price,brand\n"
        "A1,Oak Desk,Furniture,Tables,300.5,Bush\n"
        "B1,Copy Paper,Office Supplies,Paper,8,\n"
    )

    assert load_catalog_csv(engine, path, "shop") == 2

    catalog = read_catalog(engine, "shop")
    assert catalog.loc["A1", "attributes.price"] == 300.5
    assert catalog.loc["A1", "attributes.brand"] == "Bush"
    assert catalog["attributes.brand"].isna().tolist() == [False, True]
    assert catalog.loc["B1", "category"] == "Office Supplies"


def test_catalog_reload_replaces_only_its_source(engine: Engine, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("product_id,name\nA1,Desk\nA2,Lamp\n")
    second = tmp_path / "second.csv"
    second.write_text("product_id,name\nA1,Oak Desk\n")
    load_catalog_csv(engine, first, "shop")
    load_catalog_csv(engine, first, "other")

    load_catalog_csv(engine, second, "shop")

    assert read_catalog(engine, "shop")["name"].to_dict() == {"A1": "Oak Desk"}
    assert len(read_catalog(engine, "other")) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,category\nDesk,Furniture\n", "lacks the column 'product_id'"),
        ("product_id,name\nA1,Desk\nA1,Lamp\n", "lists product_id 'A1' more than once"),
        ("product_id,name\nA1,Desk\n,Lamp\n", "empty product_id on line 3"),
    ],
)
def test_bad_catalog_csv_rejected(
    sqlite_engine: Engine, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(text)

    with pytest.raises(ValueError, match=message):
        load_catalog_csv(sqlite_engine, path, "shop")


def test_equal_counts_take_the_first_seen() -> None:
    lines = pd.DataFrame(
        {
            "Product ID": ["B2", "A1", "A1", "B2", "A1", "C3"],
            "Product Name": ["Lamp", "Desk", "Table", "Light", "Table", None],
            "Category": ["Office", "Furniture", "Furniture", None, "Furniture", None],
            "Sub-Category": [None, "Tables", "Tables", "Lamps", "Chairs", None],
        }
    )

    products = products_from_order_lines(lines).set_index("product_id")

    assert list(products.index) == ["A1", "B2", "C3"]
    assert products.loc["A1", "name"] == "Table"
    assert products.loc["A1", "sub_category"] == "Tables"
    assert products.loc["B2", "name"] == "Lamp"
    assert products.loc["B2", "category"] == "Office"
    assert products.loc["B2", "sub_category"] == "Lamps"
    assert products.loc["C3", "name"] is None
