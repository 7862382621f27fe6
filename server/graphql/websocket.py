"""Authentication of GraphQL WebSocket connections from their connection_init payload."""

from __future__ import annotations

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from server.auth.tokens import TokenError, authenticate, authenticate_cached
from server.graphql.context import Context
from server.graphql.db import run_db

MISSING_TOKEN = (
    'missing API token; send {"Authorization": "Bearer <token>"} as the connection_init payload'
)
# graphql-transport-ws closes with 4403 Forbidden for a connection it will not
# serve. A WebSocket close reason is limited to 123 bytes.
FORBIDDEN = 4403
MAX_CLOSE_REASON_BYTES = 123


def authenticate_connection(context: Context) -> None:
    """Set the caller of a WebSocket connection from its `Authorization` parameter.

    A connection without a valid token stays open, and every subscription on it then
    fails with UNAUTHENTICATED, naming the problem.
    """
    secret = connection_secret(context)
    context.principal = None
    if secret is None:
        context.auth_problem = MISSING_TOKEN
        return
    try:
        context.principal = authenticate(context.engine, secret)
    except TokenError as error:
        context.auth_problem = str(error)
        return
    context.auth_problem = None


def connection_secret(context: Context) -> str | None:
    """Return the token of the connection's `Authorization: Bearer` parameter, or None."""
    params = context.connection_params or {}
    header = params.get("Authorization", params.get("authorization"))
    if not isinstance(header, str):
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip()


def recheck_connection(context: Context) -> str | None:
    """Authenticate a connection's token again and return why it is no longer valid, or None.

    Uses `authenticate_cached`, which a revocation through the API clears at once, so
    a revoked or expired token is found here without waiting for the cache to expire.
    A connection that never authenticated returns None: its operations already fail
    with UNAUTHENTICATED.
    """
    if context.principal is None:
        return None
    secret = connection_secret(context) or ""
    try:
        context.principal = authenticate_cached(context.engine, secret)
    except TokenError as error:
        context.principal = None
        context.auth_problem = str(error)
        return str(error)
    return None


class RecheckingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws that checks the connection's token again at each subscribe.

    A token revoked or expired since connection_init closes the connection with
    4403 Forbidden, which also ends the operations still running on it.
    NOTE: an operation that is already streaming keeps sending until the client
    next subscribes; the token is not checked between its events.
    """

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged:
            problem = await run_db(recheck_connection, self.context)
            if problem is not None:
                reason = f"Forbidden: {problem}".encode()[:MAX_CLOSE_REASON_BYTES]
                await self.websocket.close(FORBIDDEN, reason.decode("utf-8", "ignore"))
                return
        await super().handle_subscribe(message)
