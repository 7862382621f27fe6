"""Rate-limit keys: authenticated tokens, unknown tokens, bucket eviction and CSV export."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from server.auth.roles import Role
from server.auth.tokens import authenticate_cached, create_token
from server.security.rate_limit import TokenBucketLimiter
from tests.security.conftest import bearer

QUERY = {"query": "{ __typename }"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def random_token() -> str:
    return "lka_" + secrets.token_urlsafe(32)


@pytest.fixture
def viewer_token(sqlite_engine: Engine) -> str:
    return create_token(sqlite_engine, Role.VIEWER, "limited-viewer").secret


async def test_random_tokens_share_address_bucket(make_app: Callable[..., Starlette]) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=3)
    async with client(app) as http:
        statuses = [
            (await http.post("/graphql", json=QUERY, headers=bearer(random_token()))).status_code
            for _ in range(5)
        ]

    assert statuses == [200, 200, 200, 429, 429]


async def test_authenticated_token_has_own_bucket(
    make_app: Callable[..., Starlette], sqlite_engine: Engine, viewer_token: str
) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    async with client(app) as http:
        # The first request authenticates the token and is charged to its own bucket,
        # so the random tokens below spend the address's allowance alone.
        first = await http.post("/graphql", json=QUERY, headers=bearer(viewer_token))
        for _ in range(3):
            await http.post("/graphql", json=QUERY, headers=bearer(random_token()))
        authenticate_cached(sqlite_engine, viewer_token)
        with_token = [
            (await http.post("/graphql", json=QUERY, headers=bearer(viewer_token))).status_code
            for _ in range(3)
        ]
        anonymous = await http.post("/graphql", json=QUERY)

    assert first.status_code == 200
    assert with_token == [200, 429, 429]
    assert anonymous.status_code == 429


async def test_token_flood_keeps_user_bucket(
    make_app: Callable[..., Starlette], sqlite_engine: Engine, viewer_token: str
) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    authenticate_cached(sqlite_engine, viewer_token)
    async with client(app) as http:
        spent = [
            (await http.post("/graphql", json=QUERY, headers=bearer(viewer_token))).status_code
            for _ in range(2)
        ]
        for _ in range(50):
            await http.post("/graphql", json=QUERY, headers=bearer(random_token()))
        after_flood = await http.post("/graphql", json=QUERY, headers=bearer(viewer_token))

    assert spent == [200, 200]
    assert after_flood.status_code == 429


def test_eviction_drops_full_bucket_first() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=60, burst=2, clock=clock, max_buckets=2)
    limiter.take("idle")
    limiter.take("busy")
    limiter.take("busy")
    # After 1.5 s at one request a second, "idle" is full again and "busy" is not.
    clock.now += 1.5

    limiter.take("new")

    assert list(limiter._buckets) == ["busy", "new"]
    assert limiter.take("busy") == 0.0
    assert limiter.take("busy") > 0


def test_eviction_keeps_new_bucket() -> None:
    limiter = TokenBucketLimiter(per_minute=1, burst=2, clock=FakeClock(), max_buckets=3)
    for number in range(10):
        limiter.take(f"caller-{number}")

    assert len(limiter) == 3
    assert "caller-9" in limiter._buckets
    assert limiter.take("caller-9") == 0.0
    assert limiter.take("caller-9") > 0


async def test_members_csv_rate_limited(make_app: Callable[..., Starlette]) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    async with client(app) as http:
        statuses = [(await http.get("/segments/1/members.csv")).status_code for _ in range(3)]

    assert statuses[:2] == [401, 401]
    assert statuses[2] == 429
