"""GraphQL-shaped error responses sent before GraphQL runs."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send


def error_response(
    *, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Build `{"errors": [...]}` with `status`, so GraphQL clients can show the message."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


async def send_error(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Send the response of `error_response`."""
    response = error_response(status=status, code=code, message=message, headers=headers)
    await response(scope, receive, send)
