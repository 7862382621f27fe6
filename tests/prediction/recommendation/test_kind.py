"""The PRODUCT_RECOMMENDATION kind end to end: planted data, Superstore and the runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from server.ingestion import load_orders
from server.prediction.base import KindResult, ParameterError, PredictionDataError
from server.prediction.recommendation import ProductRecommendation
from server.prediction.recommendation.catalog import load_products_from_orders, replace_products
from server.prediction.recommendation.evaluation import relative_gain
from server.prediction.recommendation.results import OUTPUT_COLUMNS
from server.prediction.registry import get_kind
from server.prediction.runner import run_prediction
from server.storage.engine import make_engine
from server.storage.migrate import upgrade
from server.storage.tables import Prediction, table_of
from tests.conftest import DATA
from tests.prediction.conftest import create_prediction
from tests.prediction.recommendation.data import insert_purchases, planted_catalog, planted_lines

KIND = ProductRecommendation()
FURNITURE = {"attribute": "category", "operator": "EQ", "value": "Furniture"}


def run_kind(engine: Engine, **parameters: object) -> KindResult:
    checked = KIND.validate_parameters({"source": "planted", **parameters})
    return KIND.run(engine, checked, lambda step: None)


@pytest.fixture
def planted(sqlite_engine: Engine) -> Engine:
    insert_purchases(sqlite_engine, planted_lines(), "planted")
    replace_products(sqlite_engine, "planted", planted_catalog())
    return sqlite_engine


def test_kind_registered() -> None:
    assert get_kind("PRODUCT_RECOMMENDATION").name == "PRODUCT_RECOMMENDATION"


def test_planted_structure_graded_a(planted: Engine) -> None:
    result = run_kind(planted)

    success, precision = result.metrics
    print(f"\nplanted data: Success@5 {success.value:.3f} vs {success.baseline:.3f}")
    assert success.name == "success_at_5"
    assert precision.name == "precision_at_5"
    assert success.baseline is not None
    assert precision.baseline is not None
    assert success.value >= 1.1 * success.baseline
    assert precision.value > precision.baseline
    assert result.grade == "A"
    assert f"{success.value:.3f}" in result.grade_reason
    assert result.details["similarity_weight"] > 0


def test_planted_rows(planted: Engine) -> None:
    rows = run_kind(planted, k=4).rows

    assert list(rows.columns) == list(OUTPUT_COLUMNS)
    assert rows["CustomerId"].nunique() == 300
    assert rows.groupby("CustomerId")["Rank"].apply(list).map(tuple).unique().tolist() == [
        (1, 2, 3, 4)
    ]
    ordered = rows.groupby("CustomerId")["Score"].apply(lambda s: s.is_monotonic_decreasing)
    assert ordered.all()
    assert set(rows["Reason"]) <= {"similar products", "popular"}
    assert (rows["Reason"] == "similar products").any()
    assert rows["ProductName"].notna().all()

    lines = planted_lines()
    bought = set(zip(lines["customer_id"], lines["product_id"], strict=True))
    recommended = set(zip(rows["CustomerId"], rows["ProductId"], strict=True))
    assert not bought & recommended


def test_repeat_purchases_recommend_past_products(planted: Engine) -> None:
    rows = run_kind(planted, repeat_purchases=True).rows

    assert (rows["Reason"] == "past purchase").any()
    lines = planted_lines()
    bought = set(zip(lines["customer_id"], lines["product_id"], strict=True))
    past = rows[rows["Reason"] == "past purchase"]
    assert set(zip(past["CustomerId"], past["ProductId"], strict=True)) <= bought


def test_product_filters_restrict_recommendations(planted: Engine) -> None:
    result = run_kind(
        planted,
        product_filters={
            "any": [FURNITURE, {"attribute": "attributes.price", "operator": "LT", "value": 10}]
        },
    )

    rows = result.rows
    catalog = planted_catalog().set_index("product_id")
    chosen = catalog.loc[rows["ProductId"]]
    assert ((chosen["category"] == "Furniture") | (chosen["price"] < 10)).all()
    assert result.details["data"]["allowed_products"] == int(
        ((catalog["category"] == "Furniture") | (catalog["price"] < 10)).sum()
    )


def test_unknown_further_attribute_named(planted: Engine) -> None:
    with pytest.raises(ParameterError) as raised:
        run_kind(
            planted,
            product_filters={"attribute": "attributes.colour", "operator": "EQ", "value": "red"},
        )

    message = raised.value.problems["product_filters"]
    assert "unknown attribute 'attributes.colour'" in message
    assert "attributes.price" in message


def test_filters_without_catalog_rejected(sqlite_engine: Engine) -> None:
    insert_purchases(sqlite_engine, planted_lines(customers=20), "planted")

    with pytest.raises(ParameterError, match="no product catalog"):
        run_kind(sqlite_engine, product_filters=FURNITURE)


def test_without_catalog_names_are_empty(sqlite_engine: Engine) -> None:
    insert_purchases(sqlite_engine, planted_lines(customers=30), "planted")

    rows = run_kind(sqlite_engine).rows

    assert rows["ProductName"].isna().all()
    assert len(rows) == 30 * 5


def test_filters_that_allow_nothing(planted: Engine) -> None:
    with pytest.raises(PredictionDataError, match="allow none"):
        run_kind(planted, product_filters={**FURNITURE, "value": "Garden"})


def test_source_without_products(sqlite_engine: Engine) -> None:
    with pytest.raises(PredictionDataError, match="no purchase lines with a product id"):
        run_kind(sqlite_engine)


def test_short_history_not_graded(planted: Engine) -> None:
    result = run_kind(planted, holdout_days=1000)

    assert result.grade is None
    assert "lower holdout_days" in result.grade_reason
    assert len(result.rows) == 300 * 5


def test_runner_writes_output_entity(engine: Engine) -> None:
    insert_purchases(engine, planted_lines(customers=120), "planted")
    replace_products(engine, "planted", planted_catalog())
    prediction_id = create_prediction(
        engine,
        {"source": "planted", "k": 3},
        name="Recommendations",
        entity="Recommendations",
        kind="PRODUCT_RECOMMENDATION",
    )

    run = run_prediction(engine, prediction_id)

    assert run.status == "SUCCEEDED", run.error
    assert run.row_count == 120 * 3
    with engine.connect() as connection:
        results = connection.execute(
            select(table_of(Prediction).c.results).where(table_of(Prediction).c.id == prediction_id)
        ).scalar_one()
        stored = pd.read_sql_table("oe_recommendations", connection)
    assert results["metrics"][0]["name"] == "success_at_3"
    assert list(stored.columns) == list(OUTPUT_COLUMNS)
    assert len(stored) == 120 * 3


@pytest.fixture(scope="module")
def superstore_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("superstore") / "lookahead.db"
    created = make_engine(f"sqlite:///{path.as_posix()}")
    upgrade(created)
    load_orders(created, DATA / "superstore.csv.gz", "superstore", source="superstore")
    load_products_from_orders(created, DATA / "superstore.csv.gz", "superstore")
    yield created
    created.dispose()


def superstore_graded_customers(holdout_days: int) -> int:
    """Count customers with a purchase before the holdout and a new product in it."""
    lines = pd.read_csv(DATA / "superstore.csv.gz", parse_dates=["Order Date"])
    cutoff = lines["Order Date"].max() - pd.Timedelta(days=holdout_days)
    before = lines[lines["Order Date"] <= cutoff]
    after = lines[lines["Order Date"] > cutoff]
    known = set(zip(before["Customer ID"], before["Product ID"], strict=True))
    new = after[
        [pair not in known for pair in zip(after["Customer ID"], after["Product ID"], strict=True)]
    ]
    return int(
        new["Customer ID"].isin(before["Customer ID"]).groupby(new["Customer ID"]).any().sum()
    )


def test_superstore_against_popularity(superstore_engine: Engine) -> None:
    checked = KIND.validate_parameters({"source": "superstore"})

    result = KIND.run(superstore_engine, checked, lambda step: None)

    success, precision = result.metrics
    assert success.baseline is not None
    print(
        f"\nSuperstore Success@5: model {success.value:.4f}, popularity {success.baseline:.4f}; "
        f"precision@5: model {precision.value:.4f}, popularity {precision.baseline:.4f}; "
        f"grade {result.grade}; similarity weight {result.details['similarity_weight']}, "
        f"sign test p {result.details['tuning_p_value']:.2f}"
    )
    assert result.details["graded_customers"] == superstore_graded_customers(180)
    gain = relative_gain(success.value, success.baseline)
    expected = "C"
    if gain >= 0:
        expected = "B"
    if gain >= 0.10:
        expected = "A"
    assert result.grade == expected
    rows = result.rows
    assert rows["CustomerId"].nunique() == 793
    assert len(rows) == 793 * 5
    assert rows["ProductName"].notna().all()
    assert set(rows["Category"]) <= {"Furniture", "Office Supplies", "Technology"}
