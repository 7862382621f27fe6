"""In-memory token buckets per valid API token, or per client address otherwise."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from anyio import CapacityLimiter, to_thread
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth.tokens import (
    TOKEN_SHAPE,
    Principal,
    TokenError,
    authenticate_cached,
    cached_principal,
)
from server.security.errors import send_error
from server.security.transport import GRAPHQL_PATH

# Buckets kept at once by each limiter. Beyond this a full bucket, which a new one
# would equal, is dropped first, and only when none of the oldest is full is the
# least recently used one dropped, which gives that caller a full bucket again.
MAX_BUCKETS = 10_000
# How many of the least recently used buckets are searched for a full one.
EVICTION_SCAN = 64
# Requests to these paths are limited: the API and the CSV export of segments.
LIMITED_PREFIXES = (GRAPHQL_PATH, "/segments/")
# Database lookups of uncached tokens that may run at once, each in a worker thread.
MAX_CONCURRENT_LOOKUPS = 4
# The key of a WebSocket scope under which RateLimit stores itself.
RATE_LIMIT_SCOPE_KEY = "lookahead.rate_limit"


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class TokenBucketLimiter:
    """Allow `per_minute` requests a minute per key, with bursts of up to `burst`."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        if per_minute <= 0 or burst <= 0:
            raise ValueError(
                f"rate limit needs positive numbers, got {per_minute}/minute and burst {burst}"
            )
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one request from `key`'s bucket; return 0, or seconds to wait when empty."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = self._refilled(bucket, now)
        bucket.updated_at = now
        self._buckets[key] = bucket

        wait = 0.0
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
        else:
            wait = (1.0 - bucket.tokens) / self.rate

        if len(self._buckets) > self.max_buckets:
            self._evict(now, key)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.updated_at) * self.rate)

    def _evict(self, now: float, current: str) -> None:
        """Drop buckets to make room, never the bucket of `current`, the key just taken."""
        oldest = [
            item for item in list(self._buckets.items())[:EVICTION_SCAN] if item[0] != current
        ]
        full = [key for key, bucket in oldest if self._refilled(bucket, now) >= self.burst]
        for key in full:
            del self._buckets[key]
        if not full and oldest:
            del self._buckets[oldest[0][0]]


def token_key(token_id: int) -> str:
    return f"token:{token_id}"


def address_key(scope: Scope) -> str:
    client = scope.get("client")
    return "address:" + (client[0] if client else "unknown")


def _bearer_secret(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, secret = value.decode("latin-1").partition(" ")
            return secret.strip() if scheme.lower() == "bearer" else None
    return None


class RateLimit:
    """Respond with 429 and Retry-After once a caller's bucket is empty.

    A request with a valid API token is charged to the token's bucket, and any
    other request to the client address's bucket. Tokens and addresses have
    separate limiters, so a flood of requests from new addresses cannot evict the
    buckets of tokens. For WebSocket connections the middleware only stores itself
    in the scope under RATE_LIMIT_SCOPE_KEY, and the GraphQL WebSocket handler
    charges each subscribe message to the same buckets.
    """

    def __init__(self, app: ASGIApp, per_minute: int, burst: int, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.tokens = TokenBucketLimiter(per_minute, burst)
        self.addresses = TokenBucketLimiter(per_minute, burst)
        self.lookups = CapacityLimiter(MAX_CONCURRENT_LOOKUPS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RATE_LIMIT_SCOPE_KEY] = self
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return

        wait = await self._charge_request(scope)
        if wait > 0:
            seconds = retry_after_seconds(wait)
            await send_error(
                scope,
                receive,
                send,
                status=429,
                code="RATE_LIMITED",
                message=f"too many requests; retry after {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
            return

        await self.app(scope, receive, send)

    def take(self, key: str) -> float:
        """Take one request from the bucket of `key`, a `token_key` or an `address_key`.

        Returns 0, or the seconds to wait when the bucket is empty.
        """
        limiter = self.tokens if key.startswith("token:") else self.addresses
        return limiter.take(key)

    async def _charge_request(self, scope: Scope) -> float:
        """Charge an HTTP request to its token's bucket when the token is valid, else its address.

        A well-formed token missing from the authentication cache is authenticated
        here, so that a valid token idle for PRINCIPAL_CACHE_SECONDS still gets its
        own bucket while random tokens exhaust the address's bucket. Only tokens of
        the right shape cause a database lookup, and at most MAX_CONCURRENT_LOOKUPS
        run at once, so a flood of random tokens cannot occupy every worker thread.
        """
        secret = _bearer_secret(scope)
        if secret is None or not TOKEN_SHAPE.match(secret):
            return self.take(address_key(scope))

        principal = cached_principal(self.engine, secret)
        if principal is None:
            principal = await to_thread.run_sync(self._authenticate, secret, limiter=self.lookups)
        if principal is None:
            return self.take(address_key(scope))
        return self.take(token_key(principal.token_id))

    def _authenticate(self, secret: str) -> Principal | None:
        try:
            return authenticate_cached(self.engine, secret)
        except TokenError:
            return None


def retry_after_seconds(wait: float) -> int:
    """Round a wait up to whole seconds, at least 1, as Retry-After states it."""
    return max(1, math.ceil(wait))
