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

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = _content_length(scope)
        if is_multipart(scope):
            await self._pass_upload(scope, receive, send, declared)
            return
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

        await self.app(scope, replay_body(b"".join(chunks), receive), send)

    async def _pass_upload(
        self, scope: Scope, receive: Receive, send: Send, declared: int | None
    ) -> None:
        """Let a file upload through unbuffered once its declared size is within the cap.

        The server stops a body longer than its Content-Length, so checking the
        declared size bounds what the upload handler can receive.
        """
        if declared is None or declared == -1:
            await send_error(
                scope,
                receive,
                send,
                status=411,
                code="LENGTH_REQUIRED",
                message="file uploads need a Content-Length header with the body size",
            )
            return
        if declared > self.max_upload_bytes:
            await self._reject(scope, receive, send, self.max_upload_bytes)
            return
        await self.app(scope, receive, send)

    async def _reject(
        self, scope: Scope, receive: Receive, send: Send, limit: int | None = None
    ) -> None:
        await send_error(
            scope,
            receive,
            send,
            status=413,
            code="PAYLOAD_TOO_LARGE",
            message=f"request body is larger than {limit or self.max_bytes} bytes; "
            "send a smaller one",
        )


def is_multipart(scope: Scope) -> bool:
    """Return True for a multipart/form-data request, the shape of GraphQL file uploads."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1").lower().startswith("multipart/form-data")
    return False


def _content_length(scope: Scope) -> int | None:
    """Return the declared body size, None when absent, or -1 when it is not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else -1
    return None


def replay_body(body: bytes, receive: Receive) -> Receive:
    """Return a receive callable that hands `body` to the application as one message."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
