"""In-memory token buckets per authenticated API token, or per client address otherwise."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth.tokens import cached_principal
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


def client_key(scope: Scope, engine: Engine) -> str:
    """Key a request by its API token once the token is authenticated, else by address.

    Only a token found in the authentication cache counts as authenticated here,
    so the check needs no database access. A token that is not cached (unknown,
    revoked, or not used for PRINCIPAL_CACHE_SECONDS) counts against the client's
    address, so random tokens cannot buy fresh buckets.
    """
    secret = _bearer_secret(scope)
    principal = cached_principal(engine, secret) if secret else None
    if principal is not None:
        return f"token:{principal.token_id}"
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

    Authenticated tokens and client addresses have separate limiters, so a flood
    of requests from new addresses cannot evict the buckets of tokens.
    """

    def __init__(self, app: ASGIApp, per_minute: int, burst: int, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.tokens = TokenBucketLimiter(per_minute, burst)
        self.addresses = TokenBucketLimiter(per_minute, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return

        key = client_key(scope, self.engine)
        limiter = self.tokens if key.startswith("token:") else self.addresses
        wait = limiter.take(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
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
