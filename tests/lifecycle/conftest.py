"""Fixtures for prediction lifecycle tests: seeded order data, a run worker, a live server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from server.prediction.runner import FINISHED, get_run
from server.prediction.worker import RunWorker
from server.storage.tables import PredictionRun

# The role-named callers of the GraphQL tests, reused here as fixtures.
from tests.graphql.conftest import (  # noqa: F401
    ENTITY,
    GraphQLCaller,
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
from tests.prediction.conftest import insert_order_lines
from tests.prediction.transactional_churn.conftest import random_lines
from tests.test_server_http import free_port

SOURCE = "shop"
SHOP_LINES = random_lines(seed=5, customers=150)
RUN_DEADLINE_SECONDS = 120.0


@pytest.fixture
def shop_orders(engine: Engine) -> Engine:
    """The engine, with seeded random order lines of 150 customers under source 'shop'."""
    insert_order_lines(engine, SHOP_LINES, source=SOURCE)
    return engine


@pytest.fixture
def worker(engine: Engine) -> Iterator[RunWorker]:
    """A started run worker on the test database; schedules are checked only when asked."""
    started = RunWorker(engine, schedule_check_seconds=float("inf"))
    started.start()
    yield started
    started.stop(timeout=RUN_DEADLINE_SECONDS)


def wait_for_run(engine: Engine, run_id: int) -> PredictionRun:
    """Poll run `run_id` until it finishes; fail the test after RUN_DEADLINE_SECONDS."""
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        run = get_run(engine, run_id)
        if run.status in FINISHED:
            return run
        time.sleep(0.05)
    pytest.fail(f"run {run_id} did not finish within {RUN_DEADLINE_SECONDS} s")


class ServerProcess:
    """`lookahead serve` (or a module with the same command line) as a child process."""

    def __init__(self, database_url: str, log_path: Path, module: str = "server.cli") -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.module = module
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        environment = {
            **os.environ,
            "LOOKAHEAD_DATABASE_URL": self.database_url,
            "LOOKAHEAD_RATE_LIMIT_PER_MINUTE": "0",
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "serve", "--port", str(self.port)],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited at start:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"server did not start within 30 s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """Kill the process with SIGKILL, as a crash or an out-of-memory kill would."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def graphql(
        self, token: str, query: str, variables: dict[str, object] | None = None
    ) -> dict[str, object]:
        response = httpx.post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body
