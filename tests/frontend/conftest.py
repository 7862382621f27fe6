"""Browser tests: Chromium driven by Playwright against a real uvicorn server.

The server runs `lookahead serve` on a free port of 127.0.0.1 over a SQLite file
seeded with a succeeded churn prediction and its output entity. Every page load is
watched, and a request to any other host fails the test, so the app and GraphiQL
are checked to work with no internet access.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine, insert, update

from server.app import VENDOR_FILES
from server.auth.roles import Role
from server.auth.tokens import create_token
from server.prediction.output import replace_entity
from server.storage.engine import make_engine, write_transaction
from server.storage.migrate import upgrade
from server.storage.tables import Customer, Prediction, utc_now
from tests.graphql.conftest import ENTITY, add_prediction, churn_rows
from tests.test_server_http import free_port

CHROMIUM = Path(os.environ.get("LOOKAHEAD_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
# Without the background-networking flags Chromium tries outbound connections of
# its own, which fail noisily on a machine without internet access.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}
# Playwright's own wait limit for each step, in milliseconds.
STEP_TIMEOUT_MS = 10_000

RESULTS = {
    "grade": "B",
    "grade_reason": "ROC AUC 0.74 beats the recency baseline's 0.66 by 0.08",
    "metrics": [
        {"name": "rocAuc", "value": 0.74, "baseline": 0.66},
        {"name": "precision", "value": 0.61, "baseline": 0.52},
    ],
    "factors": [
        {"name": "recency", "importance": 0.5},
        {"name": "frequency", "importance": 0.3},
        {"name": "monetary_value", "importance": 0.2},
    ],
    "row_count": 200,
    "finished_at": "2024-06-30T12:00:00",
    "details": {},
}


@dataclass
class SeededServer:
    """A running server and what the tests need to reach it."""

    base: str
    prediction_id: int
    tokens: dict[str, str]
    engine_url: str
    log_path: Path

    def graphql(self, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        """Post a GraphQL document as `role` and return its data; fail on any error."""
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def seed(engine: Engine) -> int:
    """Write the customers, a succeeded churn prediction with results and its entity."""
    rows = churn_rows()
    with write_transaction(engine) as connection:
        connection.execute(
            insert(Customer.__table__),
            [
                {"customer_id": customer, "source": "test", "region": "West" if i % 2 else "East"}
                for i, customer in enumerate(rows["CustomerId"])
            ],
        )
    prediction_id = add_prediction(engine, name="Churn next quarter")
    replace_entity(engine, ENTITY, rows, prediction_id=prediction_id)
    with write_transaction(engine) as connection:
        connection.execute(
            update(Prediction.__table__)
            .where(Prediction.__table__.c.id == prediction_id)
            .values(results=RESULTS, updated_at=utc_now())
        )
    return prediction_id


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"server did not start within 30 s:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededServer]:
    """One seeded server for all browser tests; tests give their segments unique names."""
    directory = tmp_path_factory.mktemp("frontend")
    url = f"sqlite:///{(directory / 'served.db').as_posix()}"
    engine = make_engine(url)
    upgrade(engine)
    prediction_id = seed(engine)
    tokens = {
        role.name.lower(): create_token(engine, role, f"browser-{role.name.lower()}").secret
        for role in Role
    }
    engine.dispose()

    port = free_port()
    log_path = directory / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env={**os.environ, "LOOKAHEAD_DATABASE_URL": url},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, process, log_path)
            yield SeededServer(base, prediction_id, tokens, url, log_path)
        finally:
            process.terminate()
            process.wait(timeout=10)


def browser_problem() -> str | None:
    """Return why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return (
            f"Chromium is not installed at {CHROMIUM}; run scripts/test as root to install "
            "it, or 'apt-get install chromium chromium-driver'"
        )
    missing = [name for name, path in VENDOR_FILES.items() if not path.is_file()]
    if missing:
        return (
            f"GraphiQL's browser files are missing ({', '.join(missing)}); "
            "run 'npm ci --prefix frontend_stub'"
        )
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium under Playwright's sync API, closed at the end of each module.

    The sync API runs an asyncio loop in this thread while it is open, and async
    tests cannot start their own loop then, so it must not outlive a module.
    """
    problem = browser_problem()
    if problem:
        pytest.skip(problem)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is missing; pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class OfflineGuard:
    """The requests a page made to hosts other than the local server."""

    outside: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page; saves a screenshot named after the test.

    Requests to any host but 127.0.0.1 are aborted and recorded, and the test fails
    when there was one.
    """
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    guard = OfflineGuard()

    def block_outside(route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
            return
        guard.outside.append(url)
        route.abort()

    context.route("**/*", block_outside)
    opened = context.new_page()
    page_errors: list[str] = []
    opened.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        yield opened
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
        context.close()
    assert guard.outside == [], f"the page requested other hosts: {guard.outside}"
    assert page_errors == [], f"uncaught errors in the page: {page_errors}"


def sign_in(page: Any, base: str, token: str) -> None:
    """Open the app and sign in with `token` through the form."""
    page.goto(f"{base}/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("predictions").wait_for()
