"""GraphQL WebSocket connections: authentication, rate limits and JSON checks per message."""

from __future__ import annotations

import json
from typing import Any, TypeGuard, cast

from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    CompleteMessage,
    Message,
    SubscribeMessage,
)

from server.auth.tokens import TokenError, authenticate, authenticate_cached
from server.graphql.context import Context
from server.graphql.db import run_db
from server.security.rate_limit import (
    RATE_LIMIT_SCOPE_KEY,
    RateLimit,
    address_key,
    retry_after_seconds,
    token_key,
)
from server.security.request_json import load_json

MISSING_TOKEN = (
    'missing API token; send {"Authorization": "Bearer <token>"} as the connection_init payload'
)
# graphql-transport-ws closes with 4403 Forbidden for a connection it will not
# serve. A WebSocket close reason is limited to 123 bytes.
FORBIDDEN = 4403
MAX_CLOSE_REASON_BYTES = 123
# graphql-transport-ws closes with 4400 Bad Request for a message it cannot read,
# with 4401 Unauthorized for a subscribe before connection_init is acknowledged,
# and with 4409 for a subscribe that reuses the id of a running operation.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
DUPLICATE_ID = 4409
INVALID_ID = "Invalid message: id must be a non-empty string"
MESSAGE_SOURCE = "the WebSocket message"


def authenticate_connection(context: Context) -> None:
    """Set the caller of a WebSocket connection from its `Authorization` parameter.

    A connection without a valid token stays open, and every subscription on it then
    fails with UNAUTHENTICATED, naming the problem.
    """
    # TODO: charge connection_init to the rate limit and the cap on token lookups;
    # today every new connection with a random token costs a database lookup.
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
    """graphql-transport-ws with the checks that HTTP requests get.

    Each message is parsed with the JSON checks of HTTP bodies. Each subscribe
    message is charged to the rate limit of the connection's token (or of its
    client address when it has none). The connection's token is also checked
    again at each subscribe, and a token revoked or expired since connection_init
    closes the connection with 4403 Forbidden, which also ends the operations
    still running on it.
    NOTE: an operation that is already streaming keeps sending until the client
    next subscribes; the token is not checked between its events.
    """

    async def handle(self) -> None:
        """Receive and handle messages until the client disconnects.

        Strawberry's own loop (version 0.341) parses with `json.loads`, whose
        RecursionError, and ValueError on an integer of more digits than
        `sys.get_int_max_str_digits()`, would end the connection without a close frame.
        """
        self.on_request_accepted()
        socket = self._starlette_websocket()
        try:
            while socket.application_state != WebSocketState.DISCONNECTED:
                try:
                    text = await socket.receive_text()
                except KeyError:
                    await self.handle_invalid_message("WebSocket message type must be text")
                    return
                await self._handle_text(text)
        except (WebSocketDisconnect, WebSocketDisconnected):
            pass
        finally:
            await self.shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        operation_id: object = message.get("id")
        if not is_operation_id(operation_id):
            await self.handle_invalid_message(INVALID_ID)
            return
        if await self._close_for_protocol(operation_id):
            return
        wait = self._charge_subscribe()
        if wait > 0:
            seconds = retry_after_seconds(wait)
            extensions = {"code": "RATE_LIMITED", "retryAfter": seconds}
            await self._send_error(
                operation_id, f"rate limit exceeded, retry after {seconds} s", extensions
            )
            return
        max_tokens = self.context.settings.max_query_tokens
        payload_problem = subscribe_payload_problem(message, max_tokens)
        if payload_problem is not None:
            await self._send_error(operation_id, payload_problem, {"code": "BAD_REQUEST"})
            return
        problem = await run_db(recheck_connection, self.context)
        if problem is not None:
            reason = f"Forbidden: {problem}".encode()[:MAX_CLOSE_REASON_BYTES]
            await self.websocket.close(FORBIDDEN, reason.decode("utf-8", "ignore"))
            return
        await super().handle_subscribe(message)

    async def handle_complete(self, message: CompleteMessage) -> None:
        operation_id: object = message.get("id")
        if not is_operation_id(operation_id):
            await self.handle_invalid_message(INVALID_ID)
            return
        await super().handle_complete(message)

    async def _close_for_protocol(self, operation_id: str) -> bool:
        """Close the connection as Strawberry does for a subscribe it must not run.

        Strawberry closes with 4401 before connection_init is acknowledged and with
        4409 for the id of an operation still running. These come before the rate
        limit and the payload checks, so that those send no `error` message instead.
        Returns whether the connection was closed.
        """
        if not self.connection_acknowledged:
            await self.websocket.close(UNAUTHORIZED, "Unauthorized")
            return True
        if operation_id in self.operations:
            reason = f"Subscriber for {operation_id} already exists"
            encoded = reason.encode()[:MAX_CLOSE_REASON_BYTES]
            await self.websocket.close(DUPLICATE_ID, encoded.decode("utf-8", "ignore"))
            return True
        return False

    async def _handle_text(self, text: str) -> None:
        """Parse one message and handle it, or reject it naming the problem.

        A subscribe message whose id can still be read gets an `error` message for
        that id, and the connection stays open. Any other message that fails the
        checks closes the connection with 4400, as the protocol does for a message
        it cannot read.
        """
        try:
            message = load_json(text, MESSAGE_SOURCE)
        except ValueError as error:
            problem = str(error)
            operation_id = subscribe_id(text)
            if operation_id is None:
                await self.handle_invalid_message(problem)
            elif not await self._close_for_protocol(operation_id):
                await self._send_error(operation_id, problem, {"code": "BAD_REQUEST"})
            return
        if not isinstance(message, dict):
            await self.handle_invalid_message(f"{MESSAGE_SOURCE} is not a JSON object")
            return
        await self.handle_message(cast(Message, message))

    async def handle_invalid_message(self, error_message: str) -> None:
        reason = error_message.encode()[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")
        await self.websocket.close(BAD_REQUEST, reason)

    def _charge_subscribe(self) -> float:
        """Take one request from the connection's bucket and return 0, or the seconds to wait."""
        rate_limit = self._starlette_websocket().scope.get(RATE_LIMIT_SCOPE_KEY)
        if not isinstance(rate_limit, RateLimit):
            return 0.0
        principal = self.context.principal
        if principal is not None:
            return rate_limit.take(token_key(principal.token_id))
        return rate_limit.take(address_key(self._starlette_websocket().scope))

    async def _send_error(
        self, operation_id: str, problem: str, extensions: dict[str, Any]
    ) -> None:
        error = GraphQLError(problem, extensions=extensions)
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})

    def _starlette_websocket(self) -> WebSocket:
        if not isinstance(self.websocket, ASGIWebSocketAdapter):
            raise TypeError(f"expected Strawberry's ASGI WebSocket, got {type(self.websocket)}")
        return self.websocket.ws


def is_operation_id(value: object) -> TypeGuard[str]:
    """Return whether `value` is a valid graphql-transport-ws operation id.

    Strawberry 0.341 uses the id as a dictionary key, so a list or object id would
    raise TypeError and drop the connection without a close frame.
    """
    return isinstance(value, str) and value != ""


def subscribe_payload_problem(message: SubscribeMessage, max_tokens: int) -> str | None:
    """Say why a subscribe message's payload is not a GraphQL request, or return None.

    `max_tokens` caps the parse of the query that checks the operation name.
    """
    payload: object = message.get("payload")
    if not isinstance(payload, dict):
        return 'the subscribe payload is not an object; send {"query": "..."}'
    query = payload.get("query")
    if not isinstance(query, str):
        return 'the subscribe payload has no query string; send {"query": "..."}'
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return "the subscribe payload's variables are not an object; send them as a JSON object"
    operation_name = payload.get("operationName")
    if operation_name is None:
        return None
    if not isinstance(operation_name, str):
        return (
            f"operationName must be a string or null, not a JSON {json_type_name(operation_name)}"
        )
    return unknown_operation_problem(query, operation_name, max_tokens)


def unknown_operation_problem(query: str, operation_name: str, max_tokens: int) -> str | None:
    """Say that the query has no operation named `operation_name`, or return None.

    A query that does not parse returns None, so that execution reports its syntax
    error as usual.
    """
    try:
        document = parse(query, max_tokens=max_tokens)
    except (GraphQLError, RecursionError):
        return None
    names = {
        definition.name.value
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    }
    if operation_name in names:
        return None
    return f"Unknown operation named '{operation_name}'"


def json_type_name(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def subscribe_id(text: str) -> str | None:
    """Return the id of a subscribe message that failed the JSON checks, or None.

    The message is parsed again without the checks, with integers kept as their
    digits so that no integer is too long. None means the text is not a subscribe
    message with a string id, or is nested too deep to parse at all.
    """
    try:
        message = json.loads(text, parse_int=str)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("type") != "subscribe":
        return None
    operation_id = message.get("id")
    return operation_id if is_operation_id(operation_id) else None
