from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import Engine

from server.auth.roles import Role
from server.auth.tokens import create_token, revoke_token
from tests.graphql.conftest import GraphQLCaller
from tests.graphql.test_create_segment import CREATE, segment_count, segment_input

PREDICTIONS = "{ predictions { id name } }"


async def test_missing_token_unauthenticated(anonymous: GraphQLCaller) -> None:
    body = await anonymous(PREDICTIONS)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "missing API token" in body["errors"][0]["message"]


async def test_bad_tokens_unauthenticated(client: httpx.AsyncClient, engine: Engine) -> None:
    revoked = create_token(engine, Role.ADMIN, "old")
    revoke_token(engine, revoked.id)
    expired = create_token(engine, Role.ADMIN, "short", expires_in=timedelta(seconds=-1))
    cases = {
        "malformed": "Bearer not-a-token",
        "unknown": "Bearer lka_" + "A" * 43,
        "wrong scheme": "Basic abc",
        "revoked": f"Bearer {revoked.secret}",
        "expired": f"Bearer {expired.secret}",
    }
    for case, header in cases.items():
        response = await client.post(
            "/graphql", json={"query": PREDICTIONS}, headers={"Authorization": header}
        )
        body = response.json()
        assert body["data"] is None, case
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", case


async def test_viewer_cannot_create_segment(
    viewer: GraphQLCaller, prediction_id: int, engine: Engine
) -> None:
    body = await viewer(CREATE, {"predictionId": str(prediction_id), "input": segment_input()})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert segment_count(engine) == (0, 0)


async def test_viewer_reads_predictions(viewer: GraphQLCaller, prediction_id: int) -> None:
    body = await viewer(PREDICTIONS)

    assert body["data"]["predictions"] == [{"id": str(prediction_id), "name": "Churn"}]


async def test_internal_errors_are_masked(viewer: GraphQLCaller, prediction_id: int) -> None:
    body = await viewer('{ segments(after: "bm90LWEtY3Vyc29y") { totalCount } }')

    message = body["errors"][0]["message"]
    assert "Traceback" not in message
    assert "SELECT" not in message
