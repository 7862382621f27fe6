"""Order files uploaded over HTTP as GraphQL multipart requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from server.app import create_app
from server.settings import Settings
from server.storage.tables import OrderLine, table_of

LOAD = (
    'mutation($file: Upload!) { loadOrdersFile(file: $file, format: "cdnow", source: "up") '
    "{ report { rowsLoaded customers } errors { code message } } }"
)
CDNOW_LINES = (
    b"customer_id date number_of_cds dollar_value\n"
    b" 00001 19970101 1 11.77\n"
    b" 00002 19970112 2 24.00\n"
)


def multipart(content: bytes) -> dict[str, Any]:
    body = {"query": LOAD, "variables": {"file": None}}
    return {
        "data": {"operations": json.dumps(body), "map": json.dumps({"0": ["variables.file"]})},
        "files": {"0": ("orders.txt", content, "text/plain")},
    }


def order_lines(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table_of(OrderLine))).scalar_one()
        )


async def test_upload_loads_orders(engine: Engine, tokens: dict[str, str]) -> None:
    app = create_app(Settings(), engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {tokens['contributor']}"},
            **multipart(CDNOW_LINES),
        )

    payload = response.json()["data"]["loadOrdersFile"]
    assert payload["errors"] == []
    assert payload["report"] == {"rowsLoaded": 2, "customers": 2}
    assert order_lines(engine) == 2


async def test_upload_without_token_rejected(engine: Engine) -> None:
    app = create_app(Settings(), engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/graphql", **multipart(CDNOW_LINES))

    assert response.status_code == 401
    assert order_lines(engine) == 0


async def test_upload_over_limit_rejected(engine: Engine, tokens: dict[str, str]) -> None:
    app = create_app(Settings(max_upload_bytes=100), engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {tokens['contributor']}"},
            **multipart(CDNOW_LINES * 10),
        )

    assert response.status_code == 413
    assert order_lines(engine) == 0
