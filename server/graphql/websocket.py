"""Authentication of GraphQL WebSocket connections from their connection_init payload."""

from __future__ import annotations

from server.auth.tokens import TokenError, authenticate
from server.graphql.context import Context

MISSING_TOKEN = (
    'missing API token; send {"Authorization": "Bearer <token>"} as the connection_init payload'
)


def authenticate_connection(context: Context) -> None:
    """Set the caller of a WebSocket connection from its `Authorization` parameter.

    A connection without a valid token stays open, and every subscription on it then
    fails with UNAUTHENTICATED, naming the problem.
    NOTE: the token is checked once per connection, so a token revoked later keeps
    its open connections until they close.
    """
    params = context.connection_params or {}
    header = params.get("Authorization", params.get("authorization"))
    context.principal = None
    if not isinstance(header, str):
        context.auth_problem = MISSING_TOKEN
        return
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        context.auth_problem = MISSING_TOKEN
        return
    try:
        context.principal = authenticate(context.engine, secret.strip())
    except TokenError as error:
        context.auth_problem = str(error)
        return
    context.auth_problem = None
