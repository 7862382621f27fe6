"""A short-lived in-process cache of authenticated tokens, so most requests skip the lookup.

Entries are keyed by the SHA-256 hash of the secret, as the database stores it, so
the cache contains no secret. Each entry is kept for at most PRINCIPAL_CACHE_SECONDS,
and a token's own expiry is checked on every hit. Revoking a token in this process
(`revoke_token`, `revoke_tokens_named`) empties the cache of its engine at once. A
revocation made by another process, such as `lookahead tokens revoke` beside a
running server, takes effect within PRINCIPAL_CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

if TYPE_CHECKING:
    from server.auth.tokens import Principal

PRINCIPAL_CACHE_SECONDS = 5.0
# Tokens kept at once; the least recently used one is dropped beyond this.
MAX_CACHED_PRINCIPALS = 1024


class PrincipalCache:
    """Principals of recently authenticated token hashes, each for `seconds` at most."""

    def __init__(
        self,
        seconds: float = PRINCIPAL_CACHE_SECONDS,
        max_entries: int = MAX_CACHED_PRINCIPALS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        # Counts `clear` calls, so a lookup that read the database before a revocation
        # cannot store its result after the revocation emptied the cache.
        self.generation = 0
        # Requests on the event loop read, and lookups in worker threads write.
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Principal | None:
        """Return the cached principal of `token_hash`, or None when it must be looked up."""
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is None:
                return None
            principal, cached_until = entry
            if self.clock() >= cached_until or _expired(principal.expires_at):
                del self._entries[token_hash]
                return None
            self._entries.move_to_end(token_hash)
            return principal

    def put(self, token_hash: str, principal: Principal, generation: int) -> None:
        """Store `principal` unless the cache was cleared since `generation` was read."""
        with self._lock:
            if generation != self.generation:
                return
            self._entries[token_hash] = (principal, self.clock() + self.seconds)
            self._entries.move_to_end(token_hash)
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.generation += 1


def _expired(expires_at: datetime | None) -> bool:
    if expires_at is None:
        return False
    aware = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    return aware <= datetime.now(UTC)


_caches: WeakKeyDictionary[Engine, PrincipalCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def principal_cache(engine: Engine) -> PrincipalCache:
    """Return the cache of the tokens stored in `engine`'s database."""
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = PrincipalCache()
        return cache
