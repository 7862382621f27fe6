"""A deadline per HTTP request, ended with a 504 response instead of a hung connection."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.security.errors import send_error

logger = logging.getLogger(__name__)


class RequestTimeout:
    """Cancel a request still running after `seconds` and respond with 504.

    NOTE: database work runs in worker threads (`run_db`), and a worker thread
    cannot be cancelled, so a timed-out request gets its response only once its current
    database call returns; a write that was under way may still commit.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            logger.warning(
                "%s %s timed out after %s s", scope["method"], scope["path"], self.seconds
            )
            if started:
                # Part of the response is out; closing the connection is all that is left.
                raise
            await send_error(
                scope,
                receive,
                send,
                status=504,
                code="TIMEOUT",
                message=f"the request timed out after {self.seconds:g} s; ask for less data "
                "or try again later",
            )
