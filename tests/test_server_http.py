"""The real uvicorn server on a free port, reached over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.auth.roles import Role
from server.auth.tokens import create_token
from server.storage.engine import make_engine
from server.storage.migrate import upgrade


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Start `lookahead serve` on a fresh SQLite file; yield its base URL and a viewer token."""
    url = f"sqlite:///{(tmp_path / 'served.db').as_posix()}"
    engine = make_engine(url)
    upgrade(engine)
    token = create_token(engine, Role.VIEWER, "http-test").secret
    engine.dispose()

    port = free_port()
    environment = {**os.environ, "LOOKAHEAD_DATABASE_URL": url}
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"server did not start within 30 s:\n{log_path.read_text()}")
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_served_graphql_answers(server: tuple[str, str]) -> None:
    base, token = server

    response = httpx.post(
        f"{base}/graphql",
        json={"query": "{ predictions { id } }"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"predictions": []}}


def test_served_graphiql_and_app(server: tuple[str, str]) -> None:
    base, _token = server

    graphiql = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
    index = httpx.get(f"{base}/")

    assert graphiql.status_code == 200
    assert "graphiql" in graphiql.text.lower()
    assert index.status_code == 200
    assert "Lookahead" in index.text
