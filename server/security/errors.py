"""GraphQL-shaped error responses sent by middleware before GraphQL runs."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send


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
    """Send `{"errors": [...]}` with `status`, so GraphQL clients can show the message."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    response = JSONResponse(body, status_code=status, headers=headers)
    await response(scope, receive, send)
