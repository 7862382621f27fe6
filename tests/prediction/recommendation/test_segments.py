"""Segments over the recommendation output entity, compared with pandas."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from server.prediction.recommendation.catalog import replace_products
from server.prediction.runner import run_prediction
from server.segments.definition import Definition
from server.segments.operators import Operator
from server.segments.rules import Condition, Rule
from server.segments.service import SegmentRequest, create_segment
from server.storage.tables import SegmentMember, table_of
from tests.prediction.conftest import create_prediction
from tests.prediction.recommendation.data import insert_purchases, planted_catalog, planted_lines

ENTITY = "Recommendations"


def recommendations(engine: Engine) -> tuple[int, pd.DataFrame]:
    insert_purchases(engine, planted_lines(customers=150), "planted")
    replace_products(engine, "planted", planted_catalog())
    prediction_id = create_prediction(
        engine,
        {"source": "planted"},
        name="Recommendations",
        entity=ENTITY,
        kind="PRODUCT_RECOMMENDATION",
    )
    run = run_prediction(engine, prediction_id)
    assert run.status == "SUCCEEDED", run.error
    with engine.connect() as connection:
        rows = pd.read_sql_table("oe_recommendations", connection)
    return prediction_id, rows


def members_of(
    engine: Engine, prediction_id: int, name: str, conditions: list[Condition]
) -> set[str]:
    request = SegmentRequest(
        name=name,
        description=None,
        entity_name=ENTITY,
        definition=Definition.from_rule(Rule("AND", conditions)),
        prediction_id=prediction_id,
    )
    segment_id = create_segment(engine, request)
    assert isinstance(segment_id, int), segment_id
    members = table_of(SegmentMember)
    with engine.connect() as connection:
        found = connection.execute(
            select(members.c.customer_id).where(members.c.segment_id == segment_id)
        ).scalars()
        return set(found)


def test_product_in_top_three(engine: Engine) -> None:
    prediction_id, rows = recommendations(engine)
    product = rows.loc[rows["Rank"] == 1, "ProductId"].value_counts().index[0]

    members = members_of(
        engine,
        prediction_id,
        f"{product} in top 3",
        [
            Condition("ProductId", Operator.EQ, product),
            Condition("Rank", Operator.LTE, 3),
        ],
    )

    expected = set(rows.loc[(rows["ProductId"] == product) & (rows["Rank"] <= 3), "CustomerId"])
    assert expected
    assert members == expected


def test_first_recommendation_in_furniture(engine: Engine) -> None:
    prediction_id, rows = recommendations(engine)

    members = members_of(
        engine,
        prediction_id,
        "First recommendation is furniture",
        [
            Condition("Rank", Operator.EQ, 1),
            Condition("Category", Operator.EQ, "Furniture"),
        ],
    )

    expected = set(rows.loc[(rows["Rank"] == 1) & (rows["Category"] == "Furniture"), "CustomerId"])
    assert expected
    assert len(expected) < rows["CustomerId"].nunique()
    assert members == expected
