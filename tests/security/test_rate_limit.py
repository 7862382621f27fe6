"""The token bucket and the 429 answer with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from server.auth.roles import Role
from server.auth.tokens import authenticate_cached, create_token
from server.security.rate_limit import TokenBucketLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_burst_then_waits() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=60, burst=3, clock=clock)

    allowed = [limiter.take("token:a") for _ in range(3)]
    refused = limiter.take("token:a")

    assert allowed == [0.0, 0.0, 0.0]
    assert refused == pytest.approx(1.0)


def test_bucket_refills_with_time() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=60, burst=1, clock=clock)
    limiter.take("token:a")

    clock.now += 1.0

    assert limiter.take("token:a") == 0.0


def test_buckets_are_per_key() -> None:
    limiter = TokenBucketLimiter(per_minute=60, burst=1, clock=FakeClock())
    limiter.take("token:a")

    assert limiter.take("token:b") == 0.0
    assert limiter.take("address:127.0.0.1") == 0.0
    assert limiter.take("token:a") > 0


def test_bucket_rejects_non_positive_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucketLimiter(per_minute=0, burst=5)


async def test_429_with_retry_after(
    make_app: Callable[..., Starlette], sqlite_engine: Engine
) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    token = create_token(sqlite_engine, Role.VIEWER, "limited").secret
    authenticate_cached(sqlite_engine, token)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        statuses = []
        for _ in range(3):
            response = await http.post("/graphql", json={"query": "{ __typename }"})
            statuses.append(response.status_code)
        other_token = await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert statuses == [200, 200, 429]
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert other_token.status_code == 200


async def test_padding_or_junk_shares_bucket(make_app: Callable[..., Starlette]) -> None:
    app = make_app(rate_limit_per_minute=1, rate_limit_burst=2)
    token = "lka_" + "C" * 43
    variants = [f"Bearer {token}", f"Bearer   {token}", f"bearer {token} ", "Bearer junk"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        statuses = [
            (
                await http.post(
                    "/graphql",
                    json={"query": "{ __typename }"},
                    headers={"Authorization": header},
                )
            ).status_code
            for header in variants
        ]
        junk = [
            (
                await http.post(
                    "/graphql",
                    json={"query": "{ __typename }"},
                    headers={"Authorization": f"Bearer junk{number}"},
                )
            ).status_code
            for number in range(3)
        ]

    assert statuses[:3] == [200, 200, 429]
    assert junk[-1] == 429


async def test_rate_limit_off_when_zero(make_app: Callable[..., Starlette]) -> None:
    app = make_app(rate_limit_per_minute=0, rate_limit_burst=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        statuses = {
            (await http.post("/graphql", json={"query": "{ __typename }"})).status_code
            for _ in range(5)
        }

    assert statuses == {200}
