"""How the app and GraphiQL pages are served: local assets only, and a clear page
when GraphiQL's npm packages are not installed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from server import app as app_module
from server.app import VENDOR_FILES, create_app
from server.settings import Settings

# src= and href= values that leave the server: another host or a protocol-relative URL.
REMOTE_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)
HTML = {"Accept": "text/html"}
INSTALLED = all(path.is_file() for path in VENDOR_FILES.values())


@pytest.fixture
async def client(sqlite_engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Settings(), sqlite_engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.skipif(not INSTALLED, reason="run 'npm ci --prefix frontend_stub' first")
async def test_graphiql_page_uses_local_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=HTML)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert REMOTE_REFERENCE.search(response.text) is None
    for name in ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js"):
        assert f'src="/vendor/{name}"' in response.text
    assert 'href="/vendor/graphiql.min.css"' in response.text


@pytest.mark.skipif(not INSTALLED, reason="run 'npm ci --prefix frontend_stub' first")
async def test_vendor_files_served(client: httpx.AsyncClient) -> None:
    script = await client.get("/vendor/graphiql.min.js")
    style = await client.get("/vendor/graphiql.min.css")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


async def test_vendor_unknown_name_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/vendor/..%2Fpackage.json")
    other = await client.get("/vendor/lodash.js")

    assert response.status_code == 404
    assert other.status_code == 404
    assert "npm ci --prefix frontend_stub" in other.text


async def test_graphiql_without_packages_explains_install(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = {name: tmp_path / "absent" / name for name in VENDOR_FILES}
    monkeypatch.setattr(app_module, "VENDOR_FILES", missing)

    page = await client.get("/graphql", headers=HTML)
    script = await client.get("/vendor/graphiql.min.js")

    assert page.status_code == 200
    assert "npm ci --prefix frontend_stub" in page.text
    assert "/vendor/" not in page.text
    assert script.status_code == 404


async def test_graphql_post_unaffected_by_page(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_app_page_uses_local_assets(client: httpx.AsyncClient) -> None:
    index = await client.get("/")
    script = await client.get("/static/js/main.js")

    assert index.status_code == 200
    assert REMOTE_REFERENCE.search(index.text) is None
    assert '<script type="module" src="/static/js/main.js">' in index.text
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
