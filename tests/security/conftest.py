"""Fixtures for security tests: apps with chosen settings, and a real uvicorn server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from server.app import create_app
from server.auth.roles import Role
from server.auth.tokens import create_token, revoke_token
from server.settings import Settings
from server.storage.engine import make_engine
from server.storage.migrate import upgrade

# The role-named callers of the GraphQL tests, reused here as fixtures.
from tests.graphql.conftest import (  # noqa: F401
    ENTITY,
    add_prediction,
    admin,
    anonymous,
    app,
    churn_rows,
    client,
    contributor,
    prediction_id,
    tokens,
    viewer,
)
from tests.test_server_http import free_port

# Callers of the permission matrix and the fuzzers: the three roles, no token,
# and a revoked and an expired admin token.
CALLERS = ("anonymous", "viewer", "contributor", "admin", "revoked", "expired")


def caller_tokens(engine: Engine) -> dict[str, str | None]:
    """Create a token for each caller in CALLERS; anonymous has None."""
    secrets: dict[str, str | None] = {"anonymous": None}
    for role in Role:
        secrets[role.name.lower()] = create_token(engine, role, f"sec-{role.name}").secret
    revoked = create_token(engine, Role.ADMIN, "sec-revoked")
    revoke_token(engine, revoked.id)
    secrets["revoked"] = revoked.secret
    expired = create_token(engine, Role.ADMIN, "sec-expired", expires_in=timedelta(seconds=-1))
    secrets["expired"] = expired.secret
    return secrets


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def make_app(sqlite_engine: Engine) -> Callable[..., Starlette]:
    """Build the real application on a migrated SQLite database with chosen settings."""

    def build(**overrides: object) -> Starlette:
        return create_app(Settings(**overrides), sqlite_engine)  # type: ignore[arg-type]

    return build


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    tokens: dict[str, str | None]
    prediction_id: int

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the app with uvicorn on 127.0.0.1, with a churn prediction and caller tokens."""
    from server.prediction.output import replace_entity

    folder: Path = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{(folder / 'served.db').as_posix()}"
    engine = make_engine(url)
    upgrade(engine)
    secrets = caller_tokens(engine)
    served_prediction = add_prediction(engine)
    replace_entity(engine, ENTITY, churn_rows(), prediction_id=served_prediction)
    engine.dispose()

    # The fuzzers send thousands of requests from one address.
    with serving(url, folder, {"LOOKAHEAD_RATE_LIMIT_PER_MINUTE": "0"}) as base:
        yield LiveServer(base, secrets, served_prediction)


@contextmanager
def serving(url: str, folder: Path, environment: dict[str, str] | None = None) -> Iterator[str]:
    """Run `lookahead serve` on `url` under uvicorn on 127.0.0.1 and yield its base URL.

    `environment` adds settings to the process's environment. The server's output
    goes to `folder`/server.log, and the server is stopped when the block ends.
    """
    port = free_port()
    settings = {**os.environ, "LOOKAHEAD_DATABASE_URL": url, **(environment or {})}
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env=settings,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(base, log_path, process)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_healthy(base: str, log_path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"server did not start within 90 s:\n{log_path.read_text()}")
