"""An in-memory token bucket per API token, or per client address without one."""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.auth.tokens import TOKEN_SHAPE
from server.security.errors import send_error
from server.security.transport import GRAPHQL_PATH

# Buckets kept at once; the least recently used one is dropped beyond this, and a
# dropped caller starts again with a full bucket.
MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class TokenBucketLimiter:
    """Allow `per_minute` requests a minute per key, with bursts of up to `burst`."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute <= 0 or burst <= 0:
            raise ValueError(
                f"rate limit needs positive numbers, got {per_minute}/minute and burst {burst}"
            )
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one request from `key`'s bucket; return 0, or seconds to wait when empty."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated_at) * self.rate)
        bucket.updated_at = now
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)

        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


def client_key(scope: Scope) -> str:
    """Key a request by a hash of its bearer token, or by its client address.

    The token is parsed as authentication parses it, so padding the header does not
    make a new bucket, and a value that is not shaped like a token counts against
    the client's address: random tokens cannot buy fresh buckets.
    """
    authorization = Headers(scope=scope).get("authorization") or ""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() == "bearer" and TOKEN_SHAPE.match(secret):
        return "token:" + hashlib.sha256(secret.encode()).hexdigest()
    client = scope.get("client")
    return "address:" + (client[0] if client else "unknown")


class RateLimit:
    """Respond with 429 and Retry-After once a caller's bucket is empty."""

    def __init__(self, app: ASGIApp, limiter: TokenBucketLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return

        wait = self.limiter.take(client_key(scope))
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
