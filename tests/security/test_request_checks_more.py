"""Request checks for NUL in GraphQL literals, huge integers, multipart map paths and GET names."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import httpx
import pytest
from graphql import parse, validate
from sqlalchemy import Engine, func, select
from starlette.applications import Starlette

from server.auth.roles import Role
from server.auth.tokens import create_token
from server.graphql.schema import schema
from server.security.limits import StorableStrings, limit_rules
from server.storage.tables import Segment
from tests.graphql.conftest import GraphQLCaller
from tests.security.conftest import bearer

VIEWER_ROLE = "{ viewer { role } }"
ROLE_NAMED = "query Role { viewer { role } }"
NUL_ENTITY_NAME = '{ outputEntity(name: "a\\u0000b") { name } }'
NUL_BLOCK_ENTITY_NAME = '{ outputEntity(name: """a\x00b""") { name } }'
NUL_DESCRIPTION = """
mutation Create($predictionId: ID!) {
  createSegmentFromPrediction(predictionId: $predictionId, input: {
    name: "Nul", description: "x\\u0000y",
    conditions: [{attribute: "ChurnScore", operator: GTE, value: 0.6}]
  }) {
    segment { id }
    errors { field message }
  }
}
"""
LONG_INTEGER = "1" * (sys.get_int_max_str_digits() + 1)


@pytest.fixture
def admin_token(sqlite_engine: Engine) -> str:
    return create_token(sqlite_engine, Role.ADMIN, "checks").secret


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def multipart(operations: object, files_map: object) -> dict[str, tuple[str | None, str]]:
    return {
        "operations": (None, json.dumps(operations)),
        "map": (None, json.dumps(files_map)),
        "0": ("a.csv", "CustomerId\n1\n"),
    }


def segment_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Segment)).scalar_one())


async def test_nul_escape_in_literal_rejected(admin: GraphQLCaller) -> None:
    body = await admin(NUL_ENTITY_NAME)

    assert body["data"] is None
    error = body["errors"][0]
    assert "NUL" in error["message"]
    assert "line 1, column 22" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 22}]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_nul_in_mutation_literal_stores_nothing(
    admin: GraphQLCaller, engine: Engine, prediction_id: int
) -> None:
    body = await admin(NUL_DESCRIPTION, {"predictionId": str(prediction_id)})

    assert body["data"] is None
    error = body["errors"][0]
    assert "NUL" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert segment_count(engine) == 0


async def test_clean_literal_still_runs(admin: GraphQLCaller) -> None:
    body = await admin('{ outputEntity(name: "a\\u0041b") { name } }')

    assert "errors" not in body
    assert body["data"] == {"outputEntity": None}


def test_rule_rejects_nul_in_block_string() -> None:
    # Over HTTP the JSON and GET checks reject a raw NUL before parsing, so this
    # test calls the rule directly.
    document = parse(NUL_BLOCK_ENTITY_NAME)

    errors = validate(schema._schema, document, [StorableStrings])

    assert len(errors) == 1
    assert "NUL" in errors[0].message
    assert errors[0].extensions == {"code": "BAD_USER_INPUT"}


def test_limit_rules_cached_with_string_rule() -> None:
    rules = limit_rules(10, 10, False)

    assert StorableStrings in rules
    assert limit_rules(10, 10, False) is rules


async def test_get_block_string_nul_400(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    async with client(make_app()) as http:
        response = await http.get(
            "/graphql", params={"query": NUL_BLOCK_ENTITY_NAME}, headers=bearer(admin_token)
        )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert "'query'" in error["message"]
    assert "NUL" in error["message"]


async def test_nul_escape_in_get_query_rejected(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    async with client(make_app()) as http:
        response = await http.get(
            "/graphql", params={"query": NUL_ENTITY_NAME}, headers=bearer(admin_token)
        )

    error = response.json()["errors"][0]
    assert response.json()["data"] is None
    assert "NUL" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("where", ["body", "get", "multipart"])
async def test_long_integer_400(
    make_app: Callable[..., Starlette], admin_token: str, where: str
) -> None:
    variables = '{"x": ' + LONG_INTEGER + "}"
    async with client(make_app()) as http:
        if where == "body":
            response = await http.post(
                "/graphql",
                content='{"query": "{ viewer { role } }", "variables": ' + variables + "}",
                headers={**bearer(admin_token), "Content-Type": "application/json"},
            )
        elif where == "get":
            response = await http.get(
                "/graphql",
                params={"query": VIEWER_ROLE, "variables": variables},
                headers=bearer(admin_token),
            )
        else:
            operations = '{"query": "{ viewer { role } }", "variables": ' + variables + "}"
            response = await http.post(
                "/graphql",
                files={"operations": (None, operations), "map": (None, "{}")},
                headers=bearer(admin_token),
            )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert str(sys.get_int_max_str_digits()) in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_integer_at_digit_limit_runs(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    body = '{"query": "{ viewer { role } }", "variables": {"x": ' + LONG_INTEGER[1:] + "}}"
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            content=body,
            headers={**bearer(admin_token), "Content-Type": "application/json"},
        )

    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["role"] == "ADMIN"


@pytest.mark.parametrize(
    ("variables", "path", "reason"),
    [
        ({"f": None}, "variables.f.x.y", "variables.f is null"),
        ({"f": "text"}, "variables.f.x", "variables.f is a string"),
        ({"f": None}, "query", "does not start with 'variables.'"),
        ({"f": None}, "operationName.f", "does not start with 'variables.'"),
        ({"f": None}, "variables", "does not start with 'variables.'"),
        ({"f": None}, "variables.g", "variables has no key 'g'"),
        ({"f": [None]}, "variables.f.1", "without index '1'"),
        ({"f": [None]}, "variables.f.-1", "without index '-1'"),
        ({"f": [None]}, "variables.f." + LONG_INTEGER, "a list of 1 items"),
        ({"f": "text"}, "variables.f", "ends at a string"),
        ({"f": {"a": None}}, "variables.f", "ends at an object"),
        (None, "variables.f", "the operation has no key 'variables'"),
    ],
)
async def test_multipart_bad_map_path_400(
    make_app: Callable[..., Starlette],
    admin_token: str,
    variables: object,
    path: str,
    reason: str,
) -> None:
    operations: dict[str, object] = {"query": VIEWER_ROLE}
    if variables is not None:
        operations["variables"] = variables
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            files=multipart(operations, {"0": [path]}),
            headers=bearer(admin_token),
        )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert reason in error["message"]
    assert repr(path) in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("paths", ["variables.f", [1], {"a": "variables.f"}])
async def test_multipart_map_not_path_list_400(
    make_app: Callable[..., Starlette], admin_token: str, paths: object
) -> None:
    operations = {"query": VIEWER_ROLE, "variables": {"f": None}}
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            files=multipart(operations, {"0": paths}),
            headers=bearer(admin_token),
        )

    assert response.status_code == 400
    assert "list of variable paths" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("variables", "path"),
    [({"f": None}, "variables.f"), ({"f": [None, None]}, "variables.f.1")],
)
async def test_multipart_valid_map_path_runs(
    make_app: Callable[..., Starlette], admin_token: str, variables: object, path: str
) -> None:
    # graphql-core ignores variables that the operation does not declare, so the
    # file only has to pass the map checks.
    operations = {"query": VIEWER_ROLE, "variables": variables}
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            files=multipart(operations, {"0": [path]}),
            headers=bearer(admin_token),
        )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["role"] == "ADMIN"


@pytest.mark.parametrize(
    "params",
    [
        {"query": ROLE_NAMED, "operationName": "Role\x00"},
        {"query": ROLE_NAMED, "operationName": ["Role", "Role\x00"]},
        {"query": "{ viewer { role } }\x00"},
    ],
    ids=["operation name", "repeated operation name", "query"],
)
async def test_get_nul_parameter_json_400(
    make_app: Callable[..., Starlette], admin_token: str, params: dict[str, object]
) -> None:
    async with client(make_app()) as http:
        response = await http.get("/graphql", params=params, headers=bearer(admin_token))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["errors"][0]
    assert "NUL" in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_post_nul_operation_name_json_400(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            json={"query": ROLE_NAMED, "operationName": "Role\x00"},
            headers=bearer(admin_token),
        )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert "NUL" in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_get_clean_operation_name_runs(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    async with client(make_app()) as http:
        response = await http.get(
            "/graphql",
            params={"query": ROLE_NAMED, "operationName": "Role"},
            headers=bearer(admin_token),
        )

    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["role"] == "ADMIN"
