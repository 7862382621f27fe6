"""HTTP rules for /graphql that stop cross-site request forgery.

A browser sends a cross-site form or image request without custom headers and
only with a "simple" content type. So mutations run only over POST, a POST body
must be `application/json` (which a form cannot send without a CORS preflight),
and a GET query must carry the `Authorization: Bearer` header.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
)
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.security.body import replay_body
from server.security.errors import send_error
from server.security.request_json import InvalidRequest, check_parameter, load_operation

GRAPHQL_PATH = "/graphql"

# Media types a POST to /graphql may use. A multipart file upload is accepted only
# with the bearer header, which a cross-site form cannot add.
ALLOWED_POST_TYPES = frozenset({"application/json"})
UPLOAD_TYPE = "multipart/form-data"


class GraphQLTransportRules:
    """Reject GraphQL requests that a cross-site page could forge, before they run."""

    def __init__(self, app: ASGIApp, max_query_tokens: int) -> None:
        self.app = app
        self.max_query_tokens = max_query_tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        if scope["method"] == "POST":
            media_type = _media_type(headers)
            if media_type == UPLOAD_TYPE and "authorization" not in headers:
                await send_error(
                    scope,
                    receive,
                    send,
                    status=401,
                    code="UNAUTHENTICATED",
                    message="file uploads need the 'Authorization: Bearer <token>' header",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                return
            if media_type not in ALLOWED_POST_TYPES and media_type != UPLOAD_TYPE:
                shown = media_type or "none"
                await send_error(
                    scope,
                    receive,
                    send,
                    status=415,
                    code="UNSUPPORTED_MEDIA_TYPE",
                    message=f"unsupported content type {shown!r}; send the request body "
                    "as application/json",
                )
                return
        elif scope["method"] == "GET":
            params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            query = params.get("query", [None])[0]
            if query is not None and self._changes_state(query, params):
                await send_error(
                    scope,
                    receive,
                    send,
                    status=405,
                    code="METHOD_NOT_ALLOWED",
                    message="mutations must be sent with POST, not GET",
                    headers={"Allow": "POST"},
                )
                return
            if query is not None and "authorization" not in headers:
                await send_error(
                    scope,
                    receive,
                    send,
                    status=401,
                    code="UNAUTHENTICATED",
                    message="GET queries need the 'Authorization: Bearer <token>' header",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                return
            problem = get_parameters_problem(params)
            if problem is not None:
                await send_error(
                    scope, receive, send, status=400, code="BAD_REQUEST", message=problem
                )
                return

        if scope["method"] == "POST" and _media_type(headers) in ALLOWED_POST_TYPES:
            body = await _read_body(receive)
            problem = json_body_problem(body)
            if problem is not None:
                await send_error(
                    scope, receive, send, status=400, code="BAD_REQUEST", message=problem
                )
                return
            receive = replay_body(body, receive)

        await self.app(scope, receive, send)

    def _changes_state(self, query: str, params: dict[str, list[str]]) -> bool:
        """Return True when the operation a GET would run is a mutation or subscription."""
        try:
            document = parse(query, max_tokens=self.max_query_tokens)
        except GraphQLError:
            # The GraphQL view reports the syntax error; nothing can run.
            return False
        name = params.get("operationName", [None])[0]
        operations = [
            definition
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
        ]
        if name:
            operations = [item for item in operations if item.name and item.name.value == name]
        elif len(operations) > 1:
            return False
        return any(item.operation != OperationType.QUERY for item in operations)


def is_subscription(query: object, operation_name: object, max_tokens: int) -> bool:
    """Return True when the operation `query` would run is a subscription.

    Syntax errors and unknown operation names return False so that GraphQL
    execution reports them.
    """
    if not isinstance(query, str) or "subscription" not in query:
        return False
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return False
    name = operation_name if isinstance(operation_name, str) else None
    operation = get_operation_ast(document, name)
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks)


def get_parameters_problem(params: dict[str, list[str]]) -> str | None:
    """Return why the `query` or `operationName` of a GET cannot run, or None when both can.

    Every value of a repeated parameter is checked, because Starlette's QueryParams
    returns the last one and this module's own parsing reads the first.
    """
    for name in ("query", "operationName"):
        for value in params.get(name, []):
            try:
                check_parameter(value, name)
            except InvalidRequest as error:
                return str(error)
    return None


def json_body_problem(body: bytes) -> str | None:
    """Return why a JSON request body cannot be a GraphQL request, or None when it can."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"the request body is not valid UTF-8 (byte {error.start}); send UTF-8 JSON"
    try:
        load_operation(text, "the request body")
    except InvalidRequest as error:
        return str(error)
    return None
