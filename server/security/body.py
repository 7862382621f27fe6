"""A cap on request body size, enforced while the body arrives and before any parsing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.security.errors import send_error


class BodySizeLimit:
    """Reject bodies over `max_bytes` with 413, whether sized by Content-Length or chunked.

    The body is read here into memory (at most `max_bytes`) and replayed to the
    application, so a chunked body that grows past the limit is stopped as soon as
    it does.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = _content_length(scope)
        if declared == -1:
            await send_error(
                scope,
                receive,
                send,
                status=400,
                code="BAD_REQUEST",
                message="invalid Content-Length header; send the body size in bytes",
            )
            return
        if declared is not None and declared > self.max_bytes:
            await self._reject(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_error(
            scope,
            receive,
            send,
            status=413,
            code="PAYLOAD_TOO_LARGE",
            message=f"request body is larger than {self.max_bytes} bytes; send a smaller one",
        )


def _content_length(scope: Scope) -> int | None:
    """Return the declared body size, None when absent, or -1 when it is not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
