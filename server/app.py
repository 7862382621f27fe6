"""The Starlette application: GraphQL (GraphiQL on GET), the single-page app and health."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from server.graphql.context import Context, build_context, cached_context
from server.graphql.db import run_db
from server.graphql.schema import schema
from server.graphql.websocket import RecheckingTransportWSHandler, authenticate_connection
from server.prediction.output import drop_stale_staging_tables
from server.prediction.runner import mark_interrupted_runs
from server.prediction.worker import RunWorker
from server.security.error_log import log_client_errors_at_info
from server.security.errors import error_response
from server.security.middleware import security_middleware
from server.security.request_json import (
    InvalidRequest,
    load_json,
    multipart_operation,
)
from server.security.transport import is_subscription
from server.segments.export import segment_members_csv
from server.settings import Settings
from server.storage.engine import make_engine
from server.storage.migrate import upgrade

logger = logging.getLogger(__name__)

FRONTEND = Path(__file__).resolve().parent.parent / "frontend_stub"
NODE_MODULES = FRONTEND / "node_modules"

# GraphiQL 3's ready bundle and the React 18 UMD builds it runs on, installed by
# `npm ci` in frontend_stub/ and served at /vendor/<name> so no page needs a CDN.
VENDOR_FILES = {
    "react.production.min.js": NODE_MODULES / "react/umd/react.production.min.js",
    "react-dom.production.min.js": NODE_MODULES / "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": NODE_MODULES / "graphiql/graphiql.min.js",
    "graphiql.min.js.map": NODE_MODULES / "graphiql/graphiql.min.js.map",
    "graphiql.min.css": NODE_MODULES / "graphiql/graphiql.min.css",
    "graphiql.min.css.map": NODE_MODULES / "graphiql/graphiql.min.css.map",
}


HTTP_SUBSCRIPTION = (
    "subscriptions are not served over HTTP; open a WebSocket to /graphql with the "
    "graphql-transport-ws protocol and subscribe there"
)


class LookaheadGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context: engine, settings and the caller."""

    graphql_transport_ws_handler_class = RecheckingTransportWSHandler

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            multipart_uploads_enabled=True,
        )
        self._engine = engine
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # Strawberry leaves the spooled files of a multipart upload open when the
        # request is denied before a resolver reads them; closing the request
        # closes them whatever the outcome.
        request = Request(scope=scope, receive=receive)
        try:
            try:
                response: Response = await self.run(request)
            except HTTPException as error:
                response = PlainTextResponse(error.reason, status_code=error.status_code)
            except InvalidRequest as error:
                response = error_response(status=400, code="BAD_REQUEST", message=str(error))
            await response(scope, receive, send)
        finally:
            await request.close()

    def parse_json(self, data: str | bytes) -> Any:
        """Parse the JSON of a body or of GET `variables`, with the checks of `load_json`."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InvalidRequest(
                    f"the request is not valid UTF-8 (byte {error.start}); send UTF-8 JSON"
                ) from None
        return load_json(data, "the request JSON")

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        """Parse a GraphQL multipart upload, checking its JSON as JSON bodies are checked."""
        try:
            form_data = await request.get_form_data()
        except ValueError as error:
            raise HTTPException(400, "Unable to parse the multipart body") from error
        operations, files_map = multipart_operation(form_data.form)
        try:
            return replace_placeholders_with_files(operations, files_map, form_data.files)
        except KeyError as error:
            raise HTTPException(400, "File(s) missing in form data") from error

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Any,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """Execute an HTTP operation, rejecting subscriptions, which need a WebSocket."""
        for item in request_data if isinstance(request_data, list) else [request_data]:
            if is_subscription(item.query, item.operation_name, self._settings.max_query_tokens):
                raise InvalidRequest(HTTP_SUBSCRIPTION)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        http_request = request if isinstance(request, Request) else None
        if http_request is not None:
            context = cached_context(self._engine, self._settings, http_request)
            if context is not None:
                return context
        return await run_db(build_context, self._engine, self._settings, http_request)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await run_db(authenticate_connection, context)
        return UNSET

    async def render_graphql_ide(self, request: Request) -> Response:
        """Serve our GraphiQL page on local assets in place of Strawberry's CDN page."""
        installed = all(path.is_file() for path in VENDOR_FILES.values())
        page = "graphiql.html" if installed else "graphiql-missing.html"
        return FileResponse(FRONTEND / page)


def prepare_database(engine: Engine) -> None:
    """Migrate the schema and clear what a server killed mid-run left behind.

    NOTE: this assumes one server process per database: a second server started on
    the same database would fail the runs the first one is executing.
    """
    upgrade(engine)
    drop_stale_staging_tables(engine)
    mark_interrupted_runs(engine)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Starlette:
    """Build the application; migrates the database when it starts serving."""
    settings = settings or Settings.from_env()
    log_client_errors_at_info()
    engine = engine or make_engine(
        settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )

    async def health(_request: Request) -> Response:
        try:
            await run_db(_ping, engine)
        except Exception:
            logger.exception("health check failed")
            return JSONResponse({"status": "unavailable", "database": "error"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def stylesheet(_request: Request) -> Response:
        return FileResponse(FRONTEND / "app.css")

    async def index(_request: Request) -> Response:
        return FileResponse(FRONTEND / "index.html")

    async def vendor(request: Request) -> Response:
        path = VENDOR_FILES.get(request.path_params["name"])
        if path is None or not path.is_file():
            return PlainTextResponse(
                "not found; install the browser assets with 'npm ci --prefix frontend_stub'",
                status_code=404,
            )
        return FileResponse(path)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await run_db(prepare_database, engine)
        worker = RunWorker(engine)
        worker.start()
        freeze_startup_objects()
        yield
        await run_db(worker.stop)
        engine.dispose()

    graphql_app = LookaheadGraphQL(engine, settings)
    routes = [
        Route("/", index),
        Route("/health", health),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        Route("/vendor/{name}", vendor),
        Route("/segments/{segment_id}/members.csv", segment_members_csv),
        # Only the app's own assets: the rest of frontend_stub (package files,
        # node_modules) is not for browsers.
        Route("/static/app.css", stylesheet),
        Mount("/static/js", StaticFiles(directory=FRONTEND / "js"), name="static"),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=security_middleware(settings, engine)
    )
    app.state.engine = engine
    app.state.settings = settings
    return app


def freeze_startup_objects() -> None:
    """Keep the objects that exist once the app has started out of garbage collection.

    Imports leave about 230,000 long-lived objects (the prediction libraries, the
    schema, SQLAlchemy metadata). Each full collection would scan them all, which
    took about 140 ms on a 2-core machine and paused every request in flight. Frozen
    objects are never scanned, and objects made later are collected as usual.
    """
    gc.collect()
    gc.freeze()


def _ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
