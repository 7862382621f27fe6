"""Rate limit: random tokens from one address cannot lock out a valid, uncached token."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from server.auth.roles import Role
from server.auth.tokens import cached_principal, create_token, revoke_token
from tests.security.conftest import bearer

QUERY = {"query": "{ __typename }"}


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def random_token() -> str:
    return "lka_" + secrets.token_urlsafe(32)


@pytest.fixture
def idle_token(sqlite_engine: Engine) -> str:
    """A valid viewer token that has never been authenticated, so it is not cached."""
    secret = create_token(sqlite_engine, Role.VIEWER, "idle-viewer").secret
    assert cached_principal(sqlite_engine, secret) is None
    return secret


async def test_idle_token_passes_exhausted_address(
    make_app: Callable[..., Starlette], idle_token: str
) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=3)
    async with client(app) as http:
        flood = [
            (await http.post("/graphql", json=QUERY, headers=bearer(random_token()))).status_code
            for _ in range(10)
        ]
        first = await http.post("/graphql", json=QUERY, headers=bearer(idle_token))
        second = await http.post("/graphql", json=QUERY, headers=bearer(idle_token))
        random_after = await http.post("/graphql", json=QUERY, headers=bearer(random_token()))
        anonymous_after = await http.post("/graphql", json=QUERY)

    assert flood[:3] == [200, 200, 200]
    assert set(flood[3:]) == {429}
    assert first.status_code == 200
    assert first.json()["data"] == {"__typename": "Query"}
    assert second.status_code == 200
    assert random_after.status_code == 429
    assert anonymous_after.status_code == 429


async def test_idle_token_spends_own_bucket(
    make_app: Callable[..., Starlette], idle_token: str
) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    async with client(app) as http:
        with_token = [
            (await http.post("/graphql", json=QUERY, headers=bearer(idle_token))).status_code
            for _ in range(3)
        ]
        anonymous = [(await http.post("/graphql", json=QUERY)).status_code for _ in range(3)]

    assert with_token == [200, 200, 429]
    # The token's requests left the address's bucket full.
    assert anonymous[:2] == [200, 200]
    assert anonymous[2] == 429


async def test_revoked_token_charges_address(
    make_app: Callable[..., Starlette], sqlite_engine: Engine
) -> None:
    revoked = create_token(sqlite_engine, Role.VIEWER, "revoked-viewer")
    revoke_token(sqlite_engine, revoked.id)
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    async with client(app) as http:
        statuses = [
            (await http.post("/graphql", json=QUERY, headers=bearer(revoked.secret))).status_code
            for _ in range(3)
        ]
        anonymous = await http.post("/graphql", json=QUERY)

    assert statuses == [200, 200, 429]
    assert anonymous.status_code == 429


async def test_malformed_token_charges_address(make_app: Callable[..., Starlette]) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    async with client(app) as http:
        statuses = [
            (await http.post("/graphql", json=QUERY, headers=bearer("lka_short"))).status_code
            for _ in range(3)
        ]

    assert statuses == [200, 200, 429]
