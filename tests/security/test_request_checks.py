"""JSON checks of JSON and multipart bodies, subscriptions over HTTP and client-error logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest
from graphql import GraphQLError
from sqlalchemy import Engine
from starlette.applications import Starlette

from server.auth.roles import Role
from server.auth.tokens import create_token
from server.security.error_log import ClientErrorLevel
from server.security.request_json import MAX_JSON_DEPTH
from tests.security.conftest import bearer

ENTITY_BY_NAME = "query Entity($name: String!) { outputEntity(name: $name) { name } }"
VIEWER_ROLE = "{ viewer { role } }"
SUBSCRIPTION = 'subscription { runProgress(runId: "1") { status } }'


@pytest.fixture
def admin_token(sqlite_engine: Engine) -> str:
    return create_token(sqlite_engine, Role.ADMIN, "checks").secret


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def multipart(operations: str, files_map: str = "{}") -> dict[str, tuple[None, str]]:
    return {"operations": (None, operations), "map": (None, files_map)}


@pytest.mark.parametrize(
    ("name", "reason"),
    [("a\u0000b", "NUL"), ("\ud800", "surrogate")],
)
async def test_multipart_bad_text_400(
    make_app: Callable[..., Starlette], admin_token: str, name: str, reason: str
) -> None:
    operations = json.dumps({"query": ENTITY_BY_NAME, "variables": {"name": name}})
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", files=multipart(operations), headers=bearer(admin_token)
        )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert reason in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_multipart_bad_map_400(make_app: Callable[..., Starlette], admin_token: str) -> None:
    operations = json.dumps({"query": VIEWER_ROLE})
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            files=multipart(operations, '{"0": ["variables.\\u0000"]}'),
            headers=bearer(admin_token),
        )

    assert response.status_code == 400
    assert "NUL" in response.json()["errors"][0]["message"]


async def test_multipart_clean_operation_runs(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    operations = json.dumps({"query": VIEWER_ROLE})
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", files=multipart(operations), headers=bearer(admin_token)
        )

    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["role"] == "ADMIN"


async def test_multipart_batch_400(make_app: Callable[..., Starlette], admin_token: str) -> None:
    operations = json.dumps([{"query": VIEWER_ROLE}])
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", files=multipart(operations), headers=bearer(admin_token)
        )

    assert response.status_code == 400
    assert "batching is off" in response.json()["errors"][0]["message"]


async def test_deep_json_body_400(make_app: Callable[..., Starlette]) -> None:
    body = '{"query": "{ viewer { role } }", "variables": {"a": ' + nested(1500) + "}}"
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert str(MAX_JSON_DEPTH) in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_json_depth_limit_boundary(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    headers = {**bearer(admin_token), "Content-Type": "application/json"}
    # The body object and `variables` are two levels, `a` fills the rest.
    within = {"query": VIEWER_ROLE, "variables": {"a": json.loads(nested(MAX_JSON_DEPTH - 2))}}
    beyond = {"query": VIEWER_ROLE, "variables": {"a": json.loads(nested(MAX_JSON_DEPTH - 1))}}
    async with client(make_app()) as http:
        accepted = await http.post("/graphql", content=json.dumps(within), headers=headers)
        rejected = await http.post("/graphql", content=json.dumps(beyond), headers=headers)

    assert accepted.status_code == 200
    assert rejected.status_code == 400


async def test_deep_multipart_400(make_app: Callable[..., Starlette], admin_token: str) -> None:
    operations = '{"query": "{ viewer { role } }", "variables": {"a": ' + nested(1500) + "}}"
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", files=multipart(operations), headers=bearer(admin_token)
        )

    assert response.status_code == 400
    assert str(MAX_JSON_DEPTH) in response.json()["errors"][0]["message"]


async def test_deep_get_variables_400(make_app: Callable[..., Starlette], admin_token: str) -> None:
    params = {"query": VIEWER_ROLE, "variables": '{"a": ' + nested(1500) + "}"}
    async with client(make_app()) as http:
        response = await http.get("/graphql", params=params, headers=bearer(admin_token))

    assert response.status_code == 400
    assert str(MAX_JSON_DEPTH) in response.json()["errors"][0]["message"]


async def test_subscription_over_post_400(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", json={"query": SUBSCRIPTION}, headers=bearer(admin_token)
        )

    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "WebSocket" in message
    assert "graphql-transport-ws" in message


async def test_named_query_beside_subscription_runs(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    document = f"query Role {VIEWER_ROLE} subscription Progress {SUBSCRIPTION[13:]}"
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            json={"query": document, "operationName": "Role"},
            headers=bearer(admin_token),
        )

    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["role"] == "ADMIN"


@pytest.mark.parametrize(
    "query",
    [
        "{ predictions { id } }",
        "{ predictions { id ",
        "{" + " ".join(f"a{number}: __typename" for number in range(200)) + "}",
    ],
    ids=["missing token", "syntax error", "alias limit"],
)
async def test_client_error_logged_at_info(
    make_app: Callable[..., Starlette], caplog: pytest.LogCaptureFixture, query: str
) -> None:
    caplog.set_level(logging.INFO, logger="strawberry.execution")
    async with client(make_app()) as http:
        response = await http.post("/graphql", json={"query": query})

    records = [item for item in caplog.records if item.name == "strawberry.execution"]
    assert response.json()["errors"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert records[0].exc_info is None
    assert "\n" not in records[0].getMessage()


def test_unexpected_error_keeps_traceback() -> None:
    original = RuntimeError("database gone")
    error = GraphQLError("database gone", original_error=original)
    record = logging.LogRecord(
        "strawberry.execution",
        logging.ERROR,
        __file__,
        1,
        error,
        None,
        (RuntimeError, original, None),
    )

    ClientErrorLevel().filter(record)

    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
