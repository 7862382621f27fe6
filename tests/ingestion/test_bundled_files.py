"""Full loads of the bundled demo files, checked against pandas readings of the same files."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from server.ingestion import load_orders
from tests.conftest import DATA
from tests.ingestion.helpers import (
    CDNOW_FILE,
    CDNOW_SAMPLE,
    SUPERSTORE_FILE,
    count_rows,
    table_rows,
)

PROFILE_COLUMNS = {
    "segment": "Segment",
    "country": "Country",
    "city": "City",
    "state": "State",
    "region": "Region",
}


def _read_superstore() -> pd.DataFrame:
    return pd.read_csv(SUPERSTORE_FILE, dtype=str, keep_default_na=False)


def _latest_profiles(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    # ISO dates sort as text. Among lines of one date, the last in the file wins.
    ordered = frame.assign(position=range(len(frame))).sort_values(["Order Date", "position"])
    latest = ordered.groupby("Customer ID").tail(1)
    columns = list(PROFILE_COLUMNS.values())
    return {
        str(customer_id): tuple(str(value) for value in values)
        for customer_id, *values in latest[["Customer ID", *columns]].itertuples(index=False)
    }


def test_cdnow_full_load(engine: Engine) -> None:
    expected = pd.read_csv(CDNOW_FILE, sep=r"\s+", dtype=str)
    amounts = expected["dollar_value"].astype(float)

    report = load_orders(engine, CDNOW_FILE, "cdnow", source="cdnow")

    assert report.rows_read == 69_659
    assert report.rows_loaded == 69_659
    assert report.customers == 23_570
    assert report.orders == 69_659
    assert report.returns == 0
    assert report.net_revenue == pytest.approx(amounts.sum(), rel=1e-12)
    assert report.first_order_date.isoformat() == "1997-01-01"
    assert report.last_order_date.isoformat() == "1998-06-30"
    assert count_rows(engine, "order_line", "cdnow") == 69_659
    assert count_rows(engine, "customer", "cdnow") == 23_570

    with engine.connect() as connection:
        first_id = connection.execute(text("SELECT min(customer_id) FROM customer")).scalar_one()
        total = connection.execute(text("SELECT sum(amount) FROM order_line")).scalar_one()
        quantity = connection.execute(text("SELECT sum(quantity) FROM order_line")).scalar_one()
        with_profile = connection.execute(
            text("SELECT count(*) FROM customer WHERE region IS NOT NULL OR segment IS NOT NULL")
        ).scalar_one()
        repeated = connection.execute(
            text(
                "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM order_line "
                "GROUP BY customer_id, order_date, quantity, amount HAVING count(*) > 1) AS g"
            )
        ).scalar_one()
    assert first_id == "00001"
    assert total == pytest.approx(amounts.sum(), rel=1e-9)
    assert quantity == pytest.approx(expected["number_of_cds"].astype(float).sum())
    assert with_profile == 0
    # Equal rows are separate purchases, so every one of them is stored.
    assert int(repeated) == int(expected.duplicated().sum()) == 255


def test_superstore_full_load(engine: Engine) -> None:
    expected = _read_superstore()

    report = load_orders(engine, SUPERSTORE_FILE, "superstore", source="superstore")

    assert report.rows_read == 9_994
    assert report.rows_loaded == 9_994
    assert report.customers == 793
    assert report.orders == expected["Order ID"].nunique() == 5_009
    assert report.returns == 0
    assert report.net_revenue == pytest.approx(expected["Sales"].astype(float).sum(), rel=1e-12)
    assert report.first_order_date.isoformat() == expected["Order Date"].min()
    assert report.last_order_date.isoformat() == expected["Order Date"].max()
    assert count_rows(engine, "order_line", "superstore") == 9_994
    assert count_rows(engine, "customer", "superstore") == 793

    with engine.connect() as connection:
        distinct_orders = connection.execute(
            text("SELECT count(DISTINCT order_id) FROM order_line")
        ).scalar_one()
        distinct_products = connection.execute(
            text("SELECT count(DISTINCT product_id) FROM order_line")
        ).scalar_one()
    assert distinct_orders == 5_009
    assert distinct_products == expected["Product ID"].nunique()


def test_superstore_profile_matches_pandas(engine: Engine) -> None:
    expected_frame = _read_superstore()
    expected = _latest_profiles(expected_frame)
    varying = expected_frame.groupby("Customer ID")[list(PROFILE_COLUMNS.values())].nunique()

    report = load_orders(engine, SUPERSTORE_FILE, "superstore", source="superstore")

    columns = ", ".join(PROFILE_COLUMNS)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT customer_id, {columns} FROM customer")).all()
    loaded = {row[0]: tuple(row[1:]) for row in rows}
    assert len(loaded) == len(expected) == 793
    assert loaded == expected
    # Without customers whose address changed, the latest-line rule would go untested.
    assert report.profile_conflicts == int((varying > 1).any(axis=1).sum())
    assert report.profile_conflicts > 0


def test_double_load_changes_nothing(engine: Engine) -> None:
    load_orders(engine, SUPERSTORE_FILE, "superstore", source="superstore")
    before = table_rows(engine)

    report = load_orders(engine, SUPERSTORE_FILE, "superstore", source="superstore")

    # Superstore's lines are keyed by Row ID, so the second load matches every line.
    assert report.mode == "upsert"
    assert report.lines_unchanged == 9_994
    assert report.lines_added == report.lines_updated == report.lines_removed == 0
    assert report.customers_added == report.customers_updated == 0
    assert table_rows(engine) == before


def test_cdnow_reload_leaves_one_copy(engine: Engine) -> None:
    load_orders(engine, DATA / "CDNOW_sample.txt.gz", CDNOW_SAMPLE, source="cdnow")

    report = load_orders(engine, DATA / "CDNOW_sample.txt.gz", CDNOW_SAMPLE, source="cdnow")

    assert report.mode == "replace"
    assert report.replaced_rows == 6_919
    assert count_rows(engine, "order_line", "cdnow") == 6_919


def test_reload_keeps_other_sources(engine: Engine) -> None:
    sample = load_orders(engine, DATA / "CDNOW_sample.txt.gz", CDNOW_SAMPLE, source="sample")
    load_orders(engine, SUPERSTORE_FILE, "superstore", source="superstore")
    load_orders(engine, SUPERSTORE_FILE, "superstore", source="superstore")

    assert sample.rows_loaded == 6_919
    assert count_rows(engine, "order_line", "sample") == 6_919
    assert count_rows(engine, "customer", "sample") == sample.customers
    assert count_rows(engine, "order_line", "superstore") == 9_994
