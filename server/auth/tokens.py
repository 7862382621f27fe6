"""Creating, checking and revoking bearer API tokens.

A token is `lka_` plus 32 random bytes in URL-safe base64. Only its SHA-256 hash is
stored: the secret is shown once, when it is created. Lookup is by hash, and the
stored hash is compared again with `hmac.compare_digest` so the check takes the
same time whatever the input.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from server.auth.principal_cache import principal_cache
from server.auth.roles import Role
from server.names import name_character_problem, normalize_name
from server.security.audit import AuditAction, AuditTarget, record_audit
from server.storage.engine import write_transaction
from server.storage.tables import ApiToken, table_of, utc_now

TOKEN_PREFIX = "lka_"
TOKEN_SHAPE = re.compile(r"^lka_[A-Za-z0-9_-]{43}$")
MAX_NAME_LENGTH = 128


class TokenError(ValueError):
    """Raised when a presented token is malformed, unknown, revoked or expired."""


@dataclass(frozen=True)
class Principal:
    """The caller that a valid token authenticates, and when the token expires (None: never)."""

    token_id: int
    name: str
    role: Role
    expires_at: datetime | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token; `secret` exists only here and is never stored."""

    id: int
    name: str
    role: Role
    secret: str
    expires_at: datetime | None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    engine: Engine,
    role: Role,
    name: str,
    *,
    expires_in: timedelta | None = None,
    actor: Principal | None = None,
) -> IssuedToken:
    """Create a token with `role`; the returned secret is the only copy there is.

    `actor` is the caller recorded in the audit log; None stands for a local command.
    """
    name = normalize_name(name)
    if not name:
        raise ValueError("a token needs a non-empty name, such as 'ci-reader'")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"token names are limited to {MAX_NAME_LENGTH} characters")
    problem = name_character_problem(name)
    if problem is not None:
        raise ValueError(problem)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utc_now() + expires_in if expires_in is not None else None
    table = table_of(ApiToken)
    with write_transaction(engine) as connection:
        token_id = connection.execute(
            insert(table)
            .values(
                name=name,
                role=role.name,
                token_hash=hash_secret(secret),
                prefix=secret[:8],
                created_at=utc_now(),
                expires_at=expires_at,
            )
            .returning(table.c.id)
        ).scalar_one()
        details = {"name": name, "role": role.name, "expiresAt": _iso(expires_at)}
        record_audit(connection, actor, AuditAction.CREATE, AuditTarget.TOKEN, token_id, details)
    return IssuedToken(token_id, name, role, secret, expires_at)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def authenticate(engine: Engine, secret: str) -> Principal:
    """Return the principal of `secret`; raise TokenError saying why it is not valid."""
    if not TOKEN_SHAPE.match(secret):
        raise TokenError("malformed API token; expected 'Authorization: Bearer lka_...'")
    presented = hash_secret(secret)
    table = table_of(ApiToken)
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.token_hash == presented)).first()
    if row is None or not hmac.compare_digest(row.token_hash, presented):
        raise TokenError("unknown API token; create one with 'lookahead tokens create'")
    if row.revoked_at is not None:
        raise TokenError("this API token was revoked; ask an admin for a new one")
    if row.expires_at is not None and _aware(row.expires_at) <= datetime.now(UTC):
        raise TokenError("this API token has expired; ask an admin for a new one")
    expires_at = _aware(row.expires_at) if row.expires_at is not None else None
    return Principal(row.id, row.name, Role[row.role], expires_at)


def cached_principal(engine: Engine, secret: str) -> Principal | None:
    """Return the principal of `secret` from the cache without database access, or None.

    None means only that the token must be checked with `authenticate_cached`.
    """
    if not TOKEN_SHAPE.match(secret):
        return None
    return principal_cache(engine).get(hash_secret(secret))


def authenticate_cached(engine: Engine, secret: str) -> Principal:
    """Authenticate like `authenticate`, reusing a success for PRINCIPAL_CACHE_SECONDS.

    A revocation in this process applies at once, one made by another process within
    PRINCIPAL_CACHE_SECONDS, and an expiry applies at once either way.
    """
    principal = cached_principal(engine, secret)
    if principal is not None:
        return principal
    cache = principal_cache(engine)
    generation = cache.generation
    principal = authenticate(engine, secret)
    cache.put(hash_secret(secret), principal, generation)
    return principal


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def revoke_token(engine: Engine, token_id: int, *, actor: Principal | None = None) -> bool:
    """Revoke token `token_id`; return False when no active token has that id."""
    table = table_of(ApiToken)
    with write_transaction(engine) as connection:
        result = connection.execute(
            update(table)
            .where(table.c.id == token_id, table.c.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
        if result.rowcount == 1:
            record_audit(connection, actor, AuditAction.REVOKE, AuditTarget.TOKEN, token_id)
    principal_cache(engine).clear()
    return result.rowcount == 1


def revoke_tokens_named(engine: Engine, names: list[str]) -> int:
    """Revoke every active token whose name is in `names`; return how many."""
    table = table_of(ApiToken)
    with write_transaction(engine) as connection:
        revoked = connection.execute(
            update(table)
            .where(table.c.name.in_(names), table.c.revoked_at.is_(None))
            .values(revoked_at=utc_now())
            .returning(table.c.id)
        ).scalars()
        token_ids = list(revoked)
        for token_id in token_ids:
            record_audit(connection, None, AuditAction.REVOKE, AuditTarget.TOKEN, token_id)
    principal_cache(engine).clear()
    return len(token_ids)


def list_tokens(engine: Engine) -> list[dict[str, object]]:
    """List tokens without their secrets: id, name, role, prefix and dates."""
    table = table_of(ApiToken)
    columns = [table.c[name] for name in ("id", "name", "role", "prefix", "created_at")]
    columns += [table.c.expires_at, table.c.revoked_at]
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(table.c.id)).mappings().all()
    return [dict(row) for row in rows]
