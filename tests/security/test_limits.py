"""GraphQL document limits, body size, batching, suggestions, introspection and masking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.auth.roles import Role
from server.auth.tokens import create_token
from server.graphql.schema import _should_mask
from server.security.suggestions import strip_suggestion
from server.security.timeout import RequestTimeout
from tests.security.conftest import bearer

DEEP = "{ predictions { outputEntity { rows { edges { node { customerId } } } } } }"


async def post(app: Starlette, body: object, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.post("/graphql", json=body, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def viewer_token(sqlite_engine: Engine) -> str:
    return create_token(sqlite_engine, Role.VIEWER, "limits").secret


async def test_depth_over_limit_rejected(
    make_app: Callable[..., Starlette], viewer_token: str
) -> None:
    app = make_app(max_query_depth=3)

    response = await post(app, {"query": DEEP}, headers=bearer(viewer_token))

    body = response.json()
    assert body["data"] is None
    assert "exceeds maximum operation depth of 3" in body["errors"][0]["message"]


async def test_depth_within_limit_runs(
    make_app: Callable[..., Starlette], viewer_token: str
) -> None:
    app = make_app(max_query_depth=7)

    response = await post(app, {"query": DEEP}, headers=bearer(viewer_token))

    assert response.json() == {"data": {"predictions": []}}


async def test_introspection_ignores_depth_limit(
    make_app: Callable[..., Starlette], viewer_token: str
) -> None:
    app = make_app(max_query_depth=2)
    query = "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"

    response = await post(app, {"query": query}, headers=bearer(viewer_token))

    assert "errors" not in response.json()


async def test_aliases_counted_through_fragments(
    make_app: Callable[..., Starlette], viewer_token: str
) -> None:
    app = make_app(max_aliases=4)
    # Two aliases in the fragment, spread three times: six in all.
    query = """
    query { a: predictions { ...Names } b: predictions { ...Names } c: predictions { ...Names } }
    fragment Names on Prediction { first: name second: name }
    """

    response = await post(app, {"query": query}, headers=bearer(viewer_token))

    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "9 aliases found. Allowed: 4"


async def test_token_count_over_limit_rejected(
    make_app: Callable[..., Starlette], viewer_token: str
) -> None:
    app = make_app(max_query_tokens=50)
    query = "{ " + " ".join(["__typename"] * 60) + " }"

    response = await post(app, {"query": query}, headers=bearer(viewer_token))

    message = response.json()["errors"][0]["message"]
    assert "more than 50 tokens" in message


async def test_body_over_limit_413(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_body_bytes=1000)

    response = await post(app, {"query": "{ __typename }", "pad": "x" * 2000})

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_chunked_body_over_limit_413(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_body_bytes=1000)
    resolver_ran = False

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal resolver_ran
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'
        resolver_ran = True

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )

    assert "content-length" not in {key.lower() for key in response.request.headers}
    assert response.status_code == 413
    assert not resolver_ran


async def test_body_within_limit_runs(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_body_bytes=1000)

    response = await post(app, {"query": "{ __typename }"})

    assert response.json() == {"data": {"__typename": "Query"}}


async def test_batch_array_rejected(make_app: Callable[..., Starlette], viewer_token: str) -> None:
    app = make_app()
    batch = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]

    response = await post(app, batch, headers=bearer(viewer_token))

    assert response.status_code == 400
    assert "batching is off" in response.text


@pytest.mark.parametrize(
    ("query", "leaked"),
    [
        ("{ predictionz { id } }", "predictions"),
        ("{ predictions { nam } }", "name"),
        ("{ segments(frist: 1) { totalCount } }", "first"),
        ('{ segment(id: "1") { ...F } } fragment F on Segmnt { id }', "Segment"),
    ],
)
async def test_suggestions_hidden(
    make_app: Callable[..., Starlette], viewer_token: str, query: str, leaked: str
) -> None:
    response = await post(make_app(), {"query": query}, headers=bearer(viewer_token))

    message = response.json()["errors"][0]["message"]
    assert "Did you mean" not in message
    assert f'"{leaked}"' not in message


async def test_enum_suggestion_hidden_in_variables(
    make_app: Callable[..., Starlette], viewer_token: str
) -> None:
    query = "mutation($input: CreateTokenInput!) { createToken(input: $input) { secret } }"
    variables = {"input": {"name": "x", "role": "ADMIN_"}}

    response = await post(
        make_app(), {"query": query, "variables": variables}, headers=bearer(viewer_token)
    )

    message = response.json()["errors"][0]["message"]
    assert "ADMIN_" in message
    assert "Did you mean" not in message


def test_strip_suggestion_keeps_the_error() -> None:
    message = 'Cannot query field "nam" on type "Prediction". Did you mean "name"?'

    assert strip_suggestion(message) == 'Cannot query field "nam" on type "Prediction".'


async def test_introspection_switched_off(
    make_app: Callable[..., Starlette], viewer_token: str
) -> None:
    app = make_app(introspection=False)

    response = await post(app, {"query": "{ __schema { types { name } } }"})
    typename = await post(app, {"query": "{ __typename }"}, headers=bearer(viewer_token))

    body = response.json()
    assert body["data"] is None
    assert "introspection" in body["errors"][0]["message"].lower()
    assert typename.json() == {"data": {"__typename": "Query"}}


async def test_graphiql_switched_off(make_app: Callable[..., Starlette]) -> None:
    transport = httpx.ASGITransport(app=make_app(graphiql=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


def test_unexpected_errors_masked() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def broken(self) -> int:
            raise RuntimeError("SELECT secret FROM api_token at /srv/server/app.py")

        @strawberry.field
        def refused(self) -> int:
            raise GraphQLError("first must be between 1 and 100, got 500")

    from functools import partial

    from strawberry.extensions import MaskErrors

    schema = strawberry.Schema(
        query=Query, extensions=[partial(MaskErrors, should_mask_error=_should_mask)]
    )

    broken = schema.execute_sync("{ broken }")
    refused = schema.execute_sync("{ refused }")

    assert broken.errors is not None
    assert refused.errors is not None
    assert "SELECT" not in broken.errors[0].message
    assert "/srv" not in broken.errors[0].message
    assert refused.errors[0].message == "first must be between 1 and 100, got 500"


async def test_slow_request_times_out_with_504() -> None:
    async def slow(_request: Request) -> Response:
        await asyncio.Event().wait()
        return JSONResponse({})

    app = RequestTimeout(Starlette(routes=[Route("/graphql", slow)]), seconds=0.05)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/graphql")

    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
