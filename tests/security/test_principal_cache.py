"""The cache of authenticated tokens: revocation, expiry and the time limit of an entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, update

from server.app import create_app
from server.auth.principal_cache import PRINCIPAL_CACHE_SECONDS, PrincipalCache, principal_cache
from server.auth.roles import Role
from server.auth.tokens import Principal, create_token, hash_secret, revoke_token
from server.settings import Settings
from server.storage.engine import make_engine, write_transaction
from server.storage.tables import ApiToken, table_of
from tests.security.conftest import bearer

WHO = "query { viewer { tokenName } }"
TOKENS = "query { tokens { name } }"
REVOKE = "mutation($id: ID!) { revokeToken(id: $id) { errors { code } } }"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def http(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Settings(), engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def ask(
    http: httpx.AsyncClient, token: str, query: str = WHO, variables: dict[str, str] | None = None
) -> dict[str, object]:
    body = {"query": query, "variables": variables or {}}
    response = await http.post("/graphql", json=body, headers=bearer(token))
    reply = response.json()
    assert isinstance(reply, dict)
    return reply


def error_code(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list)
    return str(errors[0]["extensions"]["code"])


async def test_revoke_via_api_applies_at_once(http: httpx.AsyncClient, engine: Engine) -> None:
    admin = create_token(engine, Role.ADMIN, "cache-admin").secret
    victim = create_token(engine, Role.VIEWER, "cache-victim")
    assert "errors" not in await ask(http, victim.secret)

    revoked = await ask(http, admin, REVOKE, {"id": str(victim.id)})
    after = await ask(http, victim.secret)

    assert revoked == {"data": {"revokeToken": {"errors": []}}}
    assert error_code(after) == "UNAUTHENTICATED"
    assert "revoked" in str(after["errors"])


async def test_revoke_in_process_applies_at_once(http: httpx.AsyncClient, engine: Engine) -> None:
    victim = create_token(engine, Role.VIEWER, "cache-victim")
    assert "errors" not in await ask(http, victim.secret)

    assert revoke_token(engine, victim.id)
    after = await ask(http, victim.secret)

    assert error_code(after) == "UNAUTHENTICATED"


async def test_revoke_elsewhere_applies_after_cache_time(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    clock = FakeClock()
    principal_cache(engine).clock = clock
    victim = create_token(engine, Role.VIEWER, "cache-victim")
    assert "errors" not in await ask(http, victim.secret)
    # Another process, such as `lookahead tokens revoke`, writes the revocation
    # to the database without touching this process's cache.
    table = table_of(ApiToken)
    with write_transaction(engine) as connection:
        connection.execute(
            update(table).where(table.c.id == victim.id).values(revoked_at=datetime.now(UTC))
        )

    within = await ask(http, victim.secret)
    clock.now += PRINCIPAL_CACHE_SECONDS
    after = await ask(http, victim.secret)

    assert "errors" not in within
    assert error_code(after) == "UNAUTHENTICATED"


async def test_role_checked_on_cached_token(http: httpx.AsyncClient, engine: Engine) -> None:
    viewer = create_token(engine, Role.VIEWER, "cache-viewer").secret
    admin = create_token(engine, Role.ADMIN, "cache-admin").secret
    assert "errors" not in await ask(http, viewer)
    assert "errors" not in await ask(http, admin)

    as_viewer = await ask(http, viewer, TOKENS)
    as_admin = await ask(http, admin, TOKENS)

    assert error_code(as_viewer) == "FORBIDDEN"
    assert "errors" not in as_admin


def test_cache_keyed_per_engine(engine: Engine) -> None:
    other = make_engine(str(engine.url))
    try:
        assert principal_cache(engine) is principal_cache(engine)
        assert principal_cache(engine) is not principal_cache(other)
    finally:
        other.dispose()


def test_entry_expires_after_cache_time() -> None:
    clock = FakeClock()
    cache = PrincipalCache(seconds=5, clock=clock)
    principal = Principal(1, "reader", Role.VIEWER)
    cache.put("hash", principal, cache.generation)

    clock.now += 4.9
    within = cache.get("hash")
    clock.now += 0.1
    after = cache.get("hash")

    assert within == principal
    assert after is None


def test_token_expiry_ends_entry() -> None:
    cache = PrincipalCache()
    expired = Principal(1, "reader", Role.VIEWER, datetime.now(UTC) - timedelta(seconds=1))
    cache.put("hash", expired, cache.generation)

    assert cache.get("hash") is None


def test_lookup_older_than_clear_not_stored() -> None:
    cache = PrincipalCache()
    generation = cache.generation

    cache.clear()
    cache.put("hash", Principal(1, "reader", Role.VIEWER), generation)

    assert cache.get("hash") is None


def test_oldest_entry_dropped_beyond_limit() -> None:
    cache = PrincipalCache(max_entries=2)
    for index in range(3):
        cache.put(f"hash{index}", Principal(index, "reader", Role.VIEWER), cache.generation)

    assert cache.get("hash0") is None
    assert cache.get("hash1") is not None
    assert cache.get("hash2") is not None


async def test_cache_holds_hashes_not_secrets(http: httpx.AsyncClient, engine: Engine) -> None:
    token = create_token(engine, Role.VIEWER, "cache-hashed").secret

    await ask(http, token)

    assert principal_cache(engine).get(hash_secret(token)) is not None
    assert principal_cache(engine).get(token) is None
