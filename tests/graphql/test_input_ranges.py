"""Out-of-range arguments, settings and operation names: clear errors, never empty lists."""

from __future__ import annotations

import pytest

from server.settings import Settings
from tests.graphql.conftest import ENTITY, GraphQLCaller

STATISTICS = """
query Statistics($name: String!, $top: Int!) {
  outputEntity(name: $name) {
    attributes { name statistics(topValues: $top) { topValues { value count } } }
  }
}
"""
RUNS = "query Runs($id: ID!, $first: Int!) { prediction(id: $id) { runs(first: $first) { id } } }"
TWO_OPERATIONS = "query A { viewer { role } } query B { predictions { id } }"


@pytest.mark.parametrize("top", [-1, 101, 100000])
async def test_top_values_out_of_range(viewer: GraphQLCaller, prediction_id: int, top: int) -> None:
    body = await viewer(STATISTICS, {"name": ENTITY, "top": top})

    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == f"topValues must be between 0 and 100, got {top}"


@pytest.mark.parametrize("top", [0, 2, 100])
async def test_top_values_in_range(viewer: GraphQLCaller, prediction_id: int, top: int) -> None:
    body = await viewer(STATISTICS, {"name": ENTITY, "top": top})

    assert "errors" not in body, body
    attributes = {item["name"]: item for item in body["data"]["outputEntity"]["attributes"]}
    assert len(attributes["ChurnRiskBand"]["statistics"]["topValues"]) == min(top, 3)


@pytest.mark.parametrize("first", [-1, 0, 101, 100000])
async def test_runs_first_out_of_range(
    viewer: GraphQLCaller, prediction_id: int, first: int
) -> None:
    body = await viewer(RUNS, {"id": str(prediction_id), "first": first})

    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == f"first must be between 1 and 100, got {first}"


async def test_runs_first_in_range(viewer: GraphQLCaller, prediction_id: int) -> None:
    body = await viewer(RUNS, {"id": str(prediction_id), "first": 100})

    assert "errors" not in body, body
    assert body["data"]["prediction"]["runs"] == []


async def test_two_operations_need_name(viewer: GraphQLCaller) -> None:
    body = await viewer(TWO_OPERATIONS)

    assert body["data"] is None
    error = body["errors"][0]
    assert error["message"] == (
        "Must provide operation name if query contains multiple operations."
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_two_operations_with_name(viewer: GraphQLCaller) -> None:
    response = await viewer.http.post(
        "/graphql",
        json={"query": TWO_OPERATIONS, "operationName": "B"},
        headers={"Authorization": f"Bearer {viewer.token}"},
    )

    assert response.json() == {"data": {"predictions": []}}


async def test_one_named_operation_needs_no_name(viewer: GraphQLCaller) -> None:
    body = await viewer("query A { viewer { role } }")

    assert body == {"data": {"viewer": {"role": "VIEWER"}}}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOOKAHEAD_MAX_PAGE_SIZE", "0"),
        ("LOOKAHEAD_MAX_PAGE_SIZE", "-3"),
        ("LOOKAHEAD_PORT", "0"),
        ("LOOKAHEAD_PORT", "70000"),
        ("LOOKAHEAD_SQLITE_BUSY_TIMEOUT_MS", "-1"),
        ("LOOKAHEAD_MAX_QUERY_DEPTH", "0"),
        ("LOOKAHEAD_MAX_ALIASES", "-1"),
        ("LOOKAHEAD_MAX_QUERY_TOKENS", "0"),
        ("LOOKAHEAD_MAX_BODY_BYTES", "0"),
        ("LOOKAHEAD_MAX_UPLOAD_BYTES", "0"),
        ("LOOKAHEAD_RATE_LIMIT_PER_MINUTE", "-1"),
        ("LOOKAHEAD_RATE_LIMIT_BURST", "0"),
        ("LOOKAHEAD_REQUEST_TIMEOUT_SECONDS", "0"),
        ("LOOKAHEAD_REQUEST_TIMEOUT_SECONDS", "-1"),
        ("LOOKAHEAD_REQUEST_TIMEOUT_SECONDS", "nan"),
        ("LOOKAHEAD_REQUEST_TIMEOUT_SECONDS", "inf"),
    ],
)
def test_setting_out_of_range(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValueError) as raised:
        Settings.from_env()

    assert f"{variable}={value!r} is out of range" in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("LOOKAHEAD_MAX_PAGE_SIZE", "1", "max_page_size", 1),
        ("LOOKAHEAD_SQLITE_BUSY_TIMEOUT_MS", "0", "sqlite_busy_timeout_ms", 0),
        ("LOOKAHEAD_MAX_ALIASES", "0", "max_aliases", 0),
        ("LOOKAHEAD_RATE_LIMIT_PER_MINUTE", "0", "rate_limit_per_minute", 0),
        ("LOOKAHEAD_REQUEST_TIMEOUT_SECONDS", "0.5", "request_timeout_seconds", 0.5),
    ],
)
def test_setting_at_limit_accepted(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: float
) -> None:
    monkeypatch.setenv(variable, value)

    assert getattr(Settings.from_env(), field) == expected
