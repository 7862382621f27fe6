"""Nested rules, entities, previews, quick segments and the segment lifecycle over GraphQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from server.segments.service import segments_reading
from tests.graphql.conftest import ENTITY, GraphQLCaller, churn_rows

SEGMENT_FIELDS = "id name kind memberCount entities lastEvaluatedAt"
CREATE = f"""
mutation Create($predictionId: ID!, $input: SegmentInput!) {{
  createSegmentFromPrediction(predictionId: $predictionId, input: $input) {{
    segment {{ {SEGMENT_FIELDS} }}
    errors {{ field code message }}
  }}
}}
"""
PREVIEW = """
query Preview($predictionId: ID, $input: SegmentInput!) {
  previewSegment(predictionId: $predictionId, input: $input, sampleSize: 5) {
    preview { memberCount ruleCounts sample }
    errors { field code message }
  }
}
"""
QUICK_PREVIEW = """
query Quick($input: QuickSegmentInput!) {
  previewQuickSegment(input: $input) { preview { memberCount } errors { field code } }
}
"""
QUICK_CREATE = f"""
mutation Quick($input: QuickSegmentInput!) {{
  createQuickSegment(input: $input) {{ segment {{ {SEGMENT_FIELDS} }} errors {{ field code }} }}
}}
"""
UPDATE = f"""
mutation Update($id: ID!, $input: SegmentInput!) {{
  updateSegment(id: $id, input: $input) {{
    segment {{ {SEGMENT_FIELDS} }} errors {{ field code message }}
  }}
}}
"""
REFRESH = f"""
mutation Refresh($id: ID!) {{
  refreshSegment(id: $id) {{ segment {{ {SEGMENT_FIELDS} }} errors {{ field code message }} }}
}}
"""
DELETE = """
mutation Delete($id: ID!) { deleteSegment(id: $id) { deletedId errors { field code } } }
"""
HISTORY = """
query History($id: ID!) {
  segment(id: $id) { memberCountHistory(first: 10) { edges { node { memberCount } } } }
}
"""
ENTITIES = """
{
  entities {
    name role rowCount
    attributes {
      name dataType
      statistics { rowCount nullCount distinctCount min max quartiles topValues { value count } }
    }
  }
}
"""

HIGH_RISK_IN_WEST = {
    "name": "High risk in the west",
    "rules": [
        {
            "group": {
                "combinator": "AND",
                "conditions": [
                    {"attribute": "ChurnScore", "operator": "GTE", "value": 0.6},
                    {
                        "entity": "CustomerProfile",
                        "attribute": "Region",
                        "operator": "EQ",
                        "value": "West",
                    },
                ],
                "groups": [
                    {
                        "negate": True,
                        "conditions": [
                            {"attribute": "ChurnScore", "operator": "TOP_PERCENT", "value": 5}
                        ],
                    }
                ],
            }
        },
        {
            "setOperator": "UNION",
            "group": {"conditions": [{"attribute": "ChurnScore", "operator": "LT", "value": 0.01}]},
        },
    ],
}


def expected_members() -> set[str]:
    rows = churn_rows()
    west = rows.index % 2 == 1
    top = rows.ChurnScore.rank(method="max", ascending=False, pct=True) <= 0.05
    first = rows[(rows.ChurnScore >= 0.6) & west & ~top]
    second = rows[rows.ChurnScore < 0.01]
    return set(first.CustomerId) | set(second.CustomerId)


async def create(caller: GraphQLCaller, prediction_id: int, **input: Any) -> dict[str, Any]:
    body = await caller(CREATE, {"predictionId": str(prediction_id), "input": input})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createSegmentFromPrediction"]
    return payload


async def test_nested_rules_match_pandas(contributor: GraphQLCaller, prediction_id: int) -> None:
    payload = await create(contributor, prediction_id, **HIGH_RISK_IN_WEST)

    assert payload["errors"] == []
    assert payload["segment"]["memberCount"] == len(expected_members())
    assert payload["segment"]["entities"] == ["ChurnPredictions", "CustomerProfile"]
    assert payload["segment"]["kind"] == "DYNAMIC"


async def test_preview_counts_rules(viewer: GraphQLCaller, prediction_id: int) -> None:
    body = await viewer(PREVIEW, {"predictionId": str(prediction_id), "input": HIGH_RISK_IN_WEST})

    preview = body["data"]["previewSegment"]["preview"]
    rows = churn_rows()
    assert preview["memberCount"] == len(expected_members())
    assert preview["ruleCounts"][1] == int((rows.ChurnScore < 0.01).sum())
    assert preview["sample"] == sorted(expected_members())[:5]


async def test_preview_writes_nothing(
    viewer: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    await viewer(PREVIEW, {"predictionId": str(prediction_id), "input": HIGH_RISK_IN_WEST})

    assert segments_reading(engine, ENTITY) == []


async def test_group_depth_limit_named(contributor: GraphQLCaller, prediction_id: int) -> None:
    group: dict[str, Any] = {"conditions": [{"attribute": "IsChurn", "operator": "IS_TRUE"}]}
    for _ in range(5):
        group = {"groups": [group]}

    payload = await create(contributor, prediction_id, name="Deep", rules=[{"group": group}])

    error = payload["errors"][0]
    assert error["code"] == "TOO_DEEP"
    assert "at most 5 levels" in error["message"]
    assert error["field"].startswith("rules.0.group.groups.0.groups.0")


async def test_unknown_entity_lists_valid(contributor: GraphQLCaller, prediction_id: int) -> None:
    condition = {"entity": "Nope", "attribute": "Region", "operator": "IS_NULL"}

    payload = await create(contributor, prediction_id, name="X", conditions=[condition])

    error = payload["errors"][0]
    assert error["field"] == "conditions.0.entity"
    assert error["code"] == "UNKNOWN_ENTITY"
    assert "CustomerProfile" in error["message"]


async def test_conditions_and_rules_exclusive(
    contributor: GraphQLCaller, prediction_id: int
) -> None:
    payload = await create(
        contributor,
        prediction_id,
        name="Both",
        conditions=[{"attribute": "IsChurn", "operator": "IS_TRUE"}],
        rules=HIGH_RISK_IN_WEST["rules"],
    )

    assert payload["errors"][0]["field"] == "rules"


async def test_quick_segment_preview_then_save(
    contributor: GraphQLCaller, prediction_id: int
) -> None:
    quick = {
        "name": "West",
        "entity": "CustomerProfile",
        "attribute": "Region",
        "operator": "EQ",
        "value": "west",
        "caseInsensitive": True,
    }

    preview = await contributor(QUICK_PREVIEW, {"input": quick})
    saved = await contributor(QUICK_CREATE, {"input": quick})

    assert preview["data"]["previewQuickSegment"]["preview"]["memberCount"] == 100
    assert saved["data"]["createQuickSegment"]["segment"]["memberCount"] == 100
    assert saved["data"]["createQuickSegment"]["segment"]["entities"] == ["CustomerProfile"]


async def test_quick_segment_unknown_entity(contributor: GraphQLCaller, prediction_id: int) -> None:
    quick = {"name": "Q", "entity": "Missing", "attribute": "A", "operator": "IS_NULL"}

    body = await contributor(QUICK_PREVIEW, {"input": quick})

    assert body["data"]["previewQuickSegment"]["errors"] == [
        {"field": "entity", "code": "UNKNOWN_ENTITY"}
    ]


async def test_update_refresh_delete(
    contributor: GraphQLCaller, viewer: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    created = await create(
        contributor,
        prediction_id,
        name="Risky",
        conditions=[{"attribute": "ChurnScore", "operator": "GTE", "value": 0.9}],
    )
    segment_id = created["segment"]["id"]

    updated = await contributor(
        UPDATE,
        {
            "id": segment_id,
            "input": {
                "name": "Risky",
                "conditions": [{"attribute": "ChurnScore", "operator": "GTE", "value": 0.5}],
            },
        },
    )
    refreshed = await contributor(REFRESH, {"id": segment_id})
    history = await viewer(HISTORY, {"id": segment_id})
    reading = segments_reading(engine, ENTITY)
    deleted = await contributor(DELETE, {"id": segment_id})
    again = await contributor(DELETE, {"id": segment_id})

    rows = churn_rows()
    assert updated["data"]["updateSegment"]["segment"]["memberCount"] == int(
        (rows.ChurnScore >= 0.5).sum()
    )
    assert refreshed["data"]["refreshSegment"]["errors"] == []
    counts = [
        edge["node"]["memberCount"]
        for edge in history["data"]["segment"]["memberCountHistory"]["edges"]
    ]
    assert counts == [
        int((rows.ChurnScore >= 0.5).sum()),
        int((rows.ChurnScore >= 0.5).sum()),
        int((rows.ChurnScore >= 0.9).sum()),
    ]
    assert reading == ["Risky"]
    assert deleted["data"]["deleteSegment"] == {"deletedId": segment_id, "errors": []}
    assert again["data"]["deleteSegment"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert segments_reading(engine, ENTITY) == []


async def test_static_segment_refuses_refresh(
    contributor: GraphQLCaller, prediction_id: int
) -> None:
    created = await create(
        contributor,
        prediction_id,
        name="Frozen",
        kind="STATIC",
        conditions=[{"attribute": "IsChurn", "operator": "IS_TRUE"}],
    )

    refreshed = await contributor(REFRESH, {"id": created["segment"]["id"]})

    error = refreshed["data"]["refreshSegment"]["errors"][0]
    assert created["segment"]["kind"] == "STATIC"
    assert error["code"] == "STATIC_SEGMENT"


async def test_viewer_cannot_change_segments(viewer: GraphQLCaller, prediction_id: int) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        (REFRESH, {"id": "1"}),
        (DELETE, {"id": "1"}),
        (UPDATE, {"id": "1", "input": {"name": "x", "conditions": []}}),
    ]
    for document, variables in cases:
        body = await viewer(document, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_entities_have_exact_statistics(viewer: GraphQLCaller, prediction_id: int) -> None:
    body = await viewer(ENTITIES)

    entities = {item["name"]: item for item in body["data"]["entities"]}
    assert list(entities) == ["CustomerProfile", ENTITY]
    attributes = {item["name"]: item for item in entities[ENTITY]["attributes"]}
    score = attributes["ChurnScore"]["statistics"]
    rows = churn_rows()
    assert score["min"] == rows.ChurnScore.min()
    assert score["max"] == rows.ChurnScore.max()
    assert score["quartiles"] == [
        rows.ChurnScore.quantile(0.25),
        rows.ChurnScore.quantile(0.5),
        rows.ChurnScore.quantile(0.75),
    ]
    band = attributes["ChurnRiskBand"]["statistics"]["topValues"]
    counts = rows.ChurnRiskBand.value_counts()
    assert band == [{"value": value, "count": int(counts[value])} for value in counts.index]
    region = {item["name"]: item for item in entities["CustomerProfile"]["attributes"]}["Region"]
    assert region["statistics"]["topValues"] == [
        {"value": "East", "count": 100},
        {"value": "West", "count": 100},
    ]
