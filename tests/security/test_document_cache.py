"""Cached parsing and validation: every request is still checked against its own limits."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from server.auth.roles import Role
from server.auth.tokens import create_token
from server.graphql.document_cache import (
    MAX_CACHED_QUERY_CHARS,
    DocumentParserCache,
    DocumentValidationCache,
)
from tests.security.conftest import bearer

# Depth 7. Each test adds its own operation name, so that it starts on a cold cache.
DEEP = (
    "query {name} "
    "{{ predictions {{ outputEntity {{ rows {{ edges {{ node {{ customerId }} }} }} }} }} }}"
)


async def post(app: Starlette, body: object, token: str | None) -> dict[str, object]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/graphql", json=body, headers=bearer(token))
    document = response.json()
    assert isinstance(document, dict)
    return document


@pytest.fixture
def tokens(sqlite_engine: Engine) -> dict[str, str]:
    return {
        role.name.lower(): create_token(sqlite_engine, role, f"cache-{role.name}").secret
        for role in Role
    }


async def test_repeated_document_hits_caches(
    make_app: Callable[..., Starlette], tokens: dict[str, str]
) -> None:
    app = make_app()
    parser = DocumentParserCache().cached_parse_document
    validator = DocumentValidationCache().cached_validate_document
    query = DEEP.format(name="CacheHits")
    await post(app, {"query": query}, tokens["viewer"])
    parsed_hits, validated_hits = parser.cache_info().hits, validator.cache_info().hits

    second = await post(app, {"query": query}, tokens["viewer"])

    assert second == {"data": {"predictions": []}}
    assert parser.cache_info().hits == parsed_hits + 1
    assert validator.cache_info().hits == validated_hits + 1


async def test_depth_limit_per_app_with_cache(
    make_app: Callable[..., Starlette], tokens: dict[str, str]
) -> None:
    lenient, strict = make_app(max_query_depth=7), make_app(max_query_depth=3)
    query = DEEP.format(name="DepthPerApp")

    outcomes = [
        await post(app, {"query": query}, tokens["viewer"])
        for app in (lenient, strict, lenient, strict)
    ]

    assert outcomes[0] == {"data": {"predictions": []}}
    assert outcomes[2] == {"data": {"predictions": []}}
    for rejected in (outcomes[1], outcomes[3]):
        assert rejected["data"] is None
        assert "exceeds maximum operation depth of 3" in str(rejected["errors"])


async def test_introspection_per_app_with_cache(
    make_app: Callable[..., Starlette], tokens: dict[str, str]
) -> None:
    query = "query IntrospectionPerApp { __schema { queryType { name } } }"

    allowed = await post(make_app(introspection=True), {"query": query}, tokens["viewer"])
    refused = await post(make_app(introspection=False), {"query": query}, tokens["viewer"])

    assert allowed == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert refused["data"] is None
    assert "introspection" in str(refused["errors"]).lower()


async def test_token_cap_per_app_with_cache(
    make_app: Callable[..., Starlette], tokens: dict[str, str]
) -> None:
    query = "query TokenCapPerApp { " + " ".join(["__typename"] * 60) + " }"

    allowed = await post(make_app(), {"query": query}, tokens["viewer"])
    refused = await post(make_app(max_query_tokens=50), {"query": query}, tokens["viewer"])

    assert "errors" not in allowed
    assert "more than 50 tokens" in str(refused["errors"])


async def test_permissions_checked_per_caller_with_cache(
    make_app: Callable[..., Starlette], tokens: dict[str, str]
) -> None:
    app = make_app()
    query = "query PermissionsPerCaller { tokens { name } }"

    as_admin = await post(app, {"query": query}, tokens["admin"])
    as_viewer = await post(app, {"query": query}, tokens["viewer"])
    anonymous = await post(app, {"query": query}, None)

    assert "errors" not in as_admin
    assert as_viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # type: ignore[index]
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]


async def test_suggestions_hidden_on_cached_errors(
    make_app: Callable[..., Starlette], tokens: dict[str, str]
) -> None:
    app = make_app()
    query = "query SuggestionsCached { predictions { nam } }"

    for _ in range(2):
        body = await post(app, {"query": query}, tokens["viewer"])
        message = body["errors"][0]["message"]  # type: ignore[index]
        assert "Cannot query field" in message
        assert "Did you mean" not in message


async def test_long_document_checked_without_cache(
    make_app: Callable[..., Starlette], tokens: dict[str, str]
) -> None:
    app = make_app(max_query_depth=3)
    padding = "#" * MAX_CACHED_QUERY_CHARS + "\n"
    query = padding + DEEP.format(name="LongDocument")
    parser = DocumentParserCache().cached_parse_document
    size_before = parser.cache_info().currsize

    body = await post(app, {"query": query}, tokens["viewer"])

    assert "exceeds maximum operation depth of 3" in str(body["errors"])
    assert parser.cache_info().currsize == size_before
