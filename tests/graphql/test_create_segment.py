from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from server.storage.tables import Segment, SegmentMember
from tests.graphql.conftest import ENTITY, GraphQLCaller, add_prediction, churn_rows

CREATE = """
mutation Create($predictionId: ID!, $input: SegmentInput!) {
  createSegmentFromPrediction(predictionId: $predictionId, input: $input) {
    segment { id name memberCount members(first: 100) { totalCount edges { node { customerId } } } }
    errors { field code message }
  }
}
"""

MEMBERS_PAGE = """
query Members($id: ID!, $after: String) {
  segment(id: $id) {
    members(first: 30, after: $after) {
      edges { cursor node { customerId region } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

PREDICTION = """
query One($id: ID!) {
  prediction(id: $id) {
    name kind status
    outputEntity { name rowCount attributes { name dataType operators } }
  }
}
"""


def segment_input(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "High risk",
        "conditions": [{"attribute": "ChurnScore", "operator": "GTE", "value": 0.6}],
    }
    base.update(overrides)
    return base


def segment_count(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        segments = connection.execute(select(func.count()).select_from(Segment)).scalar_one()
        members = connection.execute(select(func.count()).select_from(SegmentMember)).scalar_one()
    return segments, members


async def create(
    caller: GraphQLCaller, prediction_id: int | str, **overrides: Any
) -> dict[str, Any]:
    body = await caller(
        CREATE, {"predictionId": str(prediction_id), "input": segment_input(**overrides)}
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createSegmentFromPrediction"]
    return payload


async def test_attributes_come_from_live_table(viewer: GraphQLCaller, prediction_id: int) -> None:
    body = await viewer(PREDICTION, {"id": str(prediction_id)})

    entity = body["data"]["prediction"]["outputEntity"]
    types = {item["name"]: item["dataType"] for item in entity["attributes"]}
    assert entity["rowCount"] == 200
    assert types == {
        "CustomerId": "STRING",
        "ChurnScore": "NUMBER",
        "IsChurn": "BOOLEAN",
        "ChurnRiskBand": "STRING",
        "ScoredAt": "DATETIME",
    }
    operators = {item["name"]: item["operators"] for item in entity["attributes"]}
    assert "TOP_PERCENT" in operators["ChurnScore"]
    assert "CONTAINS" not in operators["ChurnScore"]
    assert operators["IsChurn"] == ["IS_TRUE", "IS_FALSE", "IS_NULL", "IS_NOT_NULL"]


async def test_members_equal_pandas_filter(contributor: GraphQLCaller, prediction_id: int) -> None:
    payload = await create(
        contributor,
        prediction_id,
        combinator="AND",
        conditions=[
            {"attribute": "ChurnScore", "operator": "GTE", "value": 0.6},
            {"attribute": "ChurnRiskBand", "operator": "IN", "values": ["High", "Medium"]},
        ],
    )

    rows = churn_rows()
    expected = rows[(rows.ChurnScore >= 0.6) & rows.ChurnRiskBand.isin(["High", "Medium"])]
    assert payload["errors"] == []
    assert payload["segment"]["memberCount"] == len(expected)
    members = {edge["node"]["customerId"] for edge in payload["segment"]["members"]["edges"]}
    assert members == set(expected.CustomerId)


async def test_or_and_percent_match_pandas(contributor: GraphQLCaller, prediction_id: int) -> None:
    payload = await create(
        contributor,
        prediction_id,
        combinator="OR",
        conditions=[
            {"attribute": "ChurnScore", "operator": "TOP_PERCENT", "value": 10},
            {
                "attribute": "ChurnRiskBand",
                "operator": "EQ",
                "value": "low",
                "caseInsensitive": True,
            },
        ],
    )

    rows = churn_rows()
    top = rows.ChurnScore.rank(method="max", ascending=False, pct=True) <= 0.10
    expected = rows[top | (rows.ChurnRiskBand.str.lower() == "low")]
    assert payload["segment"]["memberCount"] == len(expected)


async def test_members_paginate_in_id_order(
    contributor: GraphQLCaller, viewer: GraphQLCaller, prediction_id: int
) -> None:
    payload = await create(
        contributor, prediction_id, conditions=[{"attribute": "IsChurn", "operator": "IS_TRUE"}]
    )
    segment_id = payload["segment"]["id"]

    seen: list[str] = []
    after = None
    while True:
        body = await viewer(MEMBERS_PAGE, {"id": segment_id, "after": after})
        connection = body["data"]["segment"]["members"]
        seen += [edge["node"]["customerId"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    rows = churn_rows()
    assert seen == sorted(rows[rows.IsChurn].CustomerId)


async def test_unknown_prediction_writes_nothing(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    for unknown in ["999999", "abc", "-1"]:
        payload = await create(contributor, unknown)
        assert payload["segment"] is None
        assert payload["errors"][0]["code"] == "NOT_FOUND"
        assert payload["errors"][0]["field"] == "predictionId"
    assert segment_count(engine) == (0, 0)


async def test_missing_output_entity_is_reported(
    contributor: GraphQLCaller, engine: Engine
) -> None:
    pending = add_prediction(engine, name="Not run yet", entity="NotRunYet")

    payload = await create(contributor, pending)

    assert payload["errors"][0]["code"] == "NO_OUTPUT_ENTITY"
    assert "run the prediction first" in payload["errors"][0]["message"]
    assert segment_count(engine) == (0, 0)


async def test_unknown_attribute_lists_valid(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    payload = await create(
        contributor,
        prediction_id,
        conditions=[{"attribute": "ChurnScor", "operator": "GT", "value": 1}],
    )

    error = payload["errors"][0]
    assert error["field"] == "conditions.0.attribute"
    assert error["code"] == "UNKNOWN_ATTRIBUTE"
    assert f"unknown attribute 'ChurnScor' on entity {ENTITY}" in error["message"]
    assert "ChurnScore, IsChurn, ChurnRiskBand" in error["message"]
    assert segment_count(engine) == (0, 0)


async def test_operator_must_fit_type(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    payload = await create(
        contributor,
        prediction_id,
        conditions=[{"attribute": "ChurnScore", "operator": "CONTAINS", "value": "0.5"}],
    )

    error = payload["errors"][0]
    assert error["code"] == "INVALID_OPERATOR"
    assert "CONTAINS is not valid for ChurnScore (NUMBER)" in error["message"]
    assert segment_count(engine) == (0, 0)


async def test_string_value_on_number_rejected(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    for value in ["0.6", True, None, [0.6], {"x": 1}]:
        payload = await create(
            contributor,
            prediction_id,
            conditions=[{"attribute": "ChurnScore", "operator": "GTE", "value": value}],
        )
        assert payload["segment"] is None, value
        assert payload["errors"][0]["field"] == "conditions.0.value"
    assert segment_count(engine) == (0, 0)


async def test_every_problem_reported_at_once(
    contributor: GraphQLCaller, prediction_id: int
) -> None:
    payload = await create(
        contributor,
        prediction_id,
        name="  ",
        conditions=[
            {"attribute": "Nope", "operator": "EQ", "value": 1},
            {"attribute": "ChurnScore", "operator": "BETWEEN", "values": [0.9, 0.1]},
        ],
    )

    fields = [error["field"] for error in payload["errors"]]
    assert fields == ["name", "conditions.0.attribute", "conditions.1.values"]


async def test_duplicate_name_rejected(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    first = await create(contributor, prediction_id)
    second = await create(contributor, prediction_id, name="HIGH RISK ")

    assert first["errors"] == []
    assert second["errors"][0]["code"] == "DUPLICATE_NAME"
    assert segment_count(engine)[0] == 1


async def test_empty_conditions_rejected(contributor: GraphQLCaller, prediction_id: int) -> None:
    payload = await create(contributor, prediction_id, conditions=[])

    assert payload["errors"][0]["field"] == "conditions"


async def test_injection_in_values_is_inert(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    payload = await create(
        contributor,
        prediction_id,
        conditions=[
            {
                "attribute": "ChurnRiskBand",
                "operator": "EQ",
                "value": "High'; DROP TABLE segment; --",
            }
        ],
    )

    assert payload["errors"] == []
    assert payload["segment"]["memberCount"] == 0
    assert segment_count(engine)[0] == 1


def test_churn_rows_are_seeded() -> None:
    pd.testing.assert_frame_equal(churn_rows(), churn_rows())


async def test_large_whole_numbers_on_float_column(
    contributor: GraphQLCaller, prediction_id: int
) -> None:
    payload = await create(
        contributor,
        prediction_id,
        conditions=[{"attribute": "ChurnScore", "operator": "IN", "values": [1, 3_000_000_000]}],
    )

    assert payload["errors"] == []
    assert payload["segment"]["memberCount"] == 0
