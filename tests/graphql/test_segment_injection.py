"""Injection attempts through every part of a segment input are rejected or inert."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from server.storage.tables import Segment
from tests.graphql.conftest import GraphQLCaller
from tests.graphql.test_segment_rules import CREATE

PAYLOAD = "x'); DROP TABLE segment; --"


def segment_total(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Segment)).scalar_one())


async def submit(
    caller: GraphQLCaller, prediction_id: int, condition: dict[str, Any]
) -> dict[str, Any]:
    input = {"name": f"Probe {condition}"[:100], "conditions": [condition]}
    return await caller(CREATE, {"predictionId": str(prediction_id), "input": input})


async def test_identifiers_rejected(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    cases = [
        ({"attribute": PAYLOAD, "operator": "IS_NULL"}, "UNKNOWN_ATTRIBUTE"),
        ({"attribute": 'ChurnScore" OR 1=1 --', "operator": "IS_NULL"}, "UNKNOWN_ATTRIBUTE"),
        ({"entity": PAYLOAD, "attribute": "Region", "operator": "IS_NULL"}, "UNKNOWN_ENTITY"),
        (
            {"entity": "output_entity", "attribute": "table_name", "operator": "IS_NULL"},
            "UNKNOWN_ENTITY",
        ),
    ]
    for condition, code in cases:
        body = await submit(contributor, prediction_id, condition)
        payload = body["data"]["createSegmentFromPrediction"]
        assert payload["errors"][0]["code"] == code, condition
    assert segment_total(engine) == 0


async def test_operator_outside_enum_rejected(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    body = await submit(
        contributor, prediction_id, {"attribute": "ChurnScore", "operator": "GT; DROP"}
    )

    assert body["data"] is None
    assert "SELECT" not in body["errors"][0]["message"]
    assert segment_total(engine) == 0


async def test_values_rejected_or_inert(
    contributor: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    inert: list[dict[str, Any]] = [
        {"attribute": "ChurnRiskBand", "operator": "EQ", "value": PAYLOAD},
        {"attribute": "ChurnRiskBand", "operator": "IN", "values": ["Nope", PAYLOAD]},
        {"attribute": "ChurnRiskBand", "operator": "CONTAINS", "value": "%' OR '1'='1"},
        {"attribute": "ChurnRiskBand", "operator": "STARTS_WITH", "value": "_%/\\"},
    ]
    rejected: list[dict[str, Any]] = [
        {"attribute": "ChurnScore", "operator": "GT", "value": {"$gt": PAYLOAD}},
        {"attribute": "ChurnScore", "operator": "IN", "values": [[0.5], {"a": PAYLOAD}]},
        {"attribute": "ChurnScore", "operator": "GT", "value": 10**30},
        {"attribute": "ChurnRiskBand", "operator": "IN", "values": [["High"]]},
        {"attribute": "ScoredAt", "operator": "BEFORE", "value": "2024-01-01' OR 1=1"},
        {"attribute": "ChurnScore", "operator": "TOP_PERCENT", "value": "10; --"},
    ]
    for condition in inert:
        payload = (await submit(contributor, prediction_id, condition))["data"][
            "createSegmentFromPrediction"
        ]
        assert payload["errors"] == [], condition
        assert payload["segment"]["memberCount"] == 0, condition
    for condition in rejected:
        payload = (await submit(contributor, prediction_id, condition))["data"][
            "createSegmentFromPrediction"
        ]
        assert payload["segment"] is None, condition
        assert payload["errors"][0]["field"].startswith("conditions.0.value"), condition
    assert segment_total(engine) == len(inert)


async def test_nul_in_value_rejected_before_graphql(
    client: httpx.AsyncClient, tokens: dict[str, str], prediction_id: int, engine: Engine
) -> None:
    condition = {"attribute": "ChurnRiskBand", "operator": "EQ", "value": "High\u0000"}
    response = await client.post(
        "/graphql",
        json={
            "query": CREATE,
            "variables": {
                "predictionId": str(prediction_id),
                "input": {"name": "nul", "conditions": [condition]},
            },
        },
        headers={"Authorization": f"Bearer {tokens['contributor']}"},
    )

    assert response.status_code == 400
    assert "NUL" in response.json()["errors"][0]["message"]
    assert segment_total(engine) == 0
