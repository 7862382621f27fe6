"""CSRF rules of /graphql (methods, content types, GET needs a bearer) and CORS."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from server.auth.roles import Role
from server.auth.tokens import create_token
from tests.security.conftest import bearer

SPA = "https://spa.example.com"
MUTATION = 'mutation { revokeToken(id: "1") { errors { code } } }'


@pytest.fixture
def admin_token(sqlite_engine: Engine) -> str:
    return create_token(sqlite_engine, Role.ADMIN, "transport").secret


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_mutation_over_get_405(make_app: Callable[..., Starlette], admin_token: str) -> None:
    async with client(make_app()) as http:
        response = await http.get(
            "/graphql", params={"query": MUTATION}, headers=bearer(admin_token)
        )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_named_mutation_over_get_405(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    document = "query Read { __typename } " + MUTATION.replace("mutation", "mutation Change")
    async with client(make_app()) as http:
        response = await http.get(
            "/graphql",
            params={"query": document, "operationName": "Change"},
            headers=bearer(admin_token),
        )

    assert response.status_code == 405


async def test_query_over_get_with_bearer_runs(
    make_app: Callable[..., Starlette], admin_token: str
) -> None:
    async with client(make_app()) as http:
        response = await http.get(
            "/graphql", params={"query": "{ tokens { name } }"}, headers=bearer(admin_token)
        )

    assert response.status_code == 200
    assert response.json()["data"]["tokens"] == [{"name": "transport"}]


async def test_query_over_get_without_bearer_401(make_app: Callable[..., Starlette]) -> None:
    async with client(make_app()) as http:
        response = await http.get("/graphql", params={"query": "{ __typename }"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", None],
)
async def test_post_other_than_json_415(
    make_app: Callable[..., Starlette], admin_token: str, content_type: str | None
) -> None:
    headers = bearer(admin_token)
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", content=b'{"query": "{ __typename }"}', headers=headers
        )

    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_multipart_without_token_401(make_app: Callable[..., Starlette]) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "27"}
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql", content=b'{"query": "{ __typename }"}', headers=headers
        )

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"null", "not an object"),
        (b"42", "not an object"),
        (b'[{"query": "{ __typename }"}]', "batching is off"),
        (b"\xff\xfe{", "not valid UTF-8"),
        (b'{"query": "{ __typename', "not valid JSON"),
        (b'{"query": "{ viewer { role } }", "variables": {"x": "a\\u0000b"}}', "NUL"),
        (b'{"query": "{ viewer { role } }", "variables": {"x": "\\ud800"}}', "surrogate"),
    ],
)
async def test_unusable_json_body_400(
    make_app: Callable[..., Starlette], admin_token: str, body: bytes, reason: str
) -> None:
    headers = {**bearer(admin_token), "Content-Type": "application/json"}
    async with client(make_app()) as http:
        response = await http.post("/graphql", content=body, headers=headers)

    assert response.status_code == 400
    assert reason in response.json()["errors"][0]["message"]


async def test_post_json_with_charset_runs(make_app: Callable[..., Starlette]) -> None:
    async with client(make_app()) as http:
        response = await http.post(
            "/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    assert response.status_code == 200


async def test_cors_preflight_allowed_origin(make_app: Callable[..., Starlette]) -> None:
    async with client(make_app(cors_origins=(SPA,))) as http:
        response = await http.options(
            "/graphql",
            headers={
                "Origin": SPA,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA
    assert "access-control-allow-credentials" not in response.headers
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_cors_post_allowed_origin(make_app: Callable[..., Starlette]) -> None:
    async with client(make_app(cors_origins=(SPA,))) as http:
        response = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": SPA}
        )

    assert response.headers["access-control-allow-origin"] == SPA
    assert "access-control-allow-credentials" not in response.headers


async def test_cors_other_origin_refused(make_app: Callable[..., Starlette]) -> None:
    async with client(make_app(cors_origins=(SPA,))) as http:
        preflight = await http.options(
            "/graphql",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        simple = await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Origin": "https://evil.example"},
        )

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_no_origin_by_default(make_app: Callable[..., Starlette]) -> None:
    async with client(make_app()) as http:
        response = await http.options(
            "/graphql", headers={"Origin": SPA, "Access-Control-Request-Method": "POST"}
        )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_cors_wildcard_setting_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.settings import Settings

    monkeypatch.setenv("LOOKAHEAD_CORS_ORIGINS", f"{SPA}, *")

    with pytest.raises(ValueError, match="may not contain"):
        Settings.from_env()


def test_security_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.settings import Settings

    monkeypatch.setenv("LOOKAHEAD_CORS_ORIGINS", f"{SPA}/, http://localhost:5173")
    monkeypatch.setenv("LOOKAHEAD_INTROSPECTION", "0")
    monkeypatch.setenv("LOOKAHEAD_GRAPHIQL", "0")
    monkeypatch.setenv("LOOKAHEAD_REQUEST_TIMEOUT_SECONDS", "2.5")

    settings = Settings.from_env()

    assert settings.cors_origins == (SPA, "http://localhost:5173")
    assert settings.introspection is False
    assert settings.graphiql is False
    assert settings.request_timeout_seconds == 2.5
