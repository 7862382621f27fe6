"""The per-request context: database engine, settings and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from starlette.requests import Request

from server.auth.tokens import Principal, TokenError, authenticate_cached, cached_principal
from server.graphql.loaders import Loaders, build_loaders
from server.settings import Settings


@dataclass
class Context:
    """Request state for resolvers. `principal` is None when authentication failed.

    `loaders` batch the per-item reads of nested fields. Over HTTP they also cache
    what they read for the one request the context serves. A WebSocket connection
    keeps one context for all its operations, so there (no `request`) they do not cache.
    """

    engine: Engine
    settings: Settings
    request: Request | None
    principal: Principal | None
    auth_problem: str | None
    # The payload of a WebSocket's connection_init message, set by Strawberry.
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = build_loaders(self.engine, cache=self.request is not None)


def bearer_secret(request: Request) -> str | None:
    """Return the token of an `Authorization: Bearer …` header, or None when absent."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return secret.strip()


def build_context(engine: Engine, settings: Settings, request: Request | None) -> Context:
    secret = bearer_secret(request) if request is not None else None
    if secret is None:
        return Context(
            engine,
            settings,
            request,
            None,
            "missing API token; send 'Authorization: Bearer <token>'",
        )
    try:
        principal = authenticate_cached(engine, secret)
    except TokenError as error:
        return Context(engine, settings, request, None, str(error))
    return Context(engine, settings, request, principal, None)


def cached_context(engine: Engine, settings: Settings, request: Request) -> Context | None:
    """Build the context without database access when the caller's token is cached.

    None means that `build_context` must run, in a worker thread.
    """
    secret = bearer_secret(request)
    principal = cached_principal(engine, secret) if secret else None
    if principal is None:
        return None
    return Context(engine, settings, request, principal, None)


def context_value(info_context: Any) -> Context:
    assert isinstance(info_context, Context)
    return info_context
