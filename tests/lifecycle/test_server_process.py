"""The real server process: a kill during a run, parallel segment creation, subscriptions."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from websockets.sync.client import connect

from server.auth.roles import Role
from server.auth.tokens import create_token
from server.prediction.output import replace_entity
from server.prediction.runner import INTERRUPTED_REASON
from server.storage.engine import make_engine
from server.storage.migrate import upgrade
from server.storage.tables import Segment, table_of
from tests.lifecycle.conftest import (
    ENTITY,
    RUN_DEADLINE_SECONDS,
    SHOP_LINES,
    SOURCE,
    ServerProcess,
    churn_rows,
)
from tests.lifecycle.slow_server import TRAINING_STEP
from tests.prediction.conftest import create_prediction, insert_order_lines

RUN = "mutation($id: ID!) { runPrediction(id: $id) { run { id } errors { code message } } }"
RUN_STATE = "query($id: ID!) { run(id: $id) { status step error } }"
SEGMENT = """
mutation($p: ID!, $input: SegmentInput!) {
  createSegmentFromPrediction(predictionId: $p, input: $input) {
    segment { id memberCount } errors { code message }
  }
}
"""
ROWS = f"""
{{ outputEntity(name: "{ENTITY}") {{ rowCount version rows(first: 100) {{
    edges {{ node {{ customerId values }} }} }} }} }}
"""
PROGRESS = "subscription($id: ID!) { runProgress(runId: $id) { id status step } }"
HIGH_RISK = [{"attribute": "ChurnScore", "operator": "GTE", "value": 0.5}]


@pytest.fixture
def database(db_url: str) -> Iterator[tuple[str, Engine]]:
    """A migrated database with shop orders and a prediction whose entity contains churn_rows()."""
    engine = make_engine(db_url)
    upgrade(engine)
    insert_order_lines(engine, SHOP_LINES, source=SOURCE)
    prediction_id = create_prediction(engine, {"source": SOURCE}, entity=ENTITY)
    replace_entity(engine, ENTITY, churn_rows(), prediction_id=prediction_id)
    yield db_url, engine
    engine.dispose()


def contributor_token(engine: Engine) -> str:
    return create_token(engine, Role.CONTRIBUTOR, "lifecycle").secret


def only_prediction_id(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT id FROM prediction")).scalar_one())


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def wait_for_step(server: ServerProcess, token: str, run_id: str, step: str) -> None:
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        run = data(server.graphql(token, RUN_STATE, {"id": run_id}))["run"]
        if run["step"] == step:
            return
        assert run["status"] in {"QUEUED", "RUNNING"}, run
        time.sleep(0.05)
    pytest.fail(f"run {run_id} did not reach step {step!r}")


def test_kill_during_run_keeps_entity(database: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = database
    token = contributor_token(engine)
    prediction_id = only_prediction_id(engine)
    slow = ServerProcess(url, tmp_path / "slow.log", module="tests.lifecycle.slow_server")
    slow.start()
    try:
        segment_input = {"name": "High risk", "conditions": HIGH_RISK}
        created = data(slow.graphql(token, SEGMENT, {"p": prediction_id, "input": segment_input}))
        rows_before = data(slow.graphql(token, ROWS))
        run_id = data(slow.graphql(token, RUN, {"id": prediction_id}))["runPrediction"]["run"]["id"]
        wait_for_step(slow, token, run_id, TRAINING_STEP)
    finally:
        slow.kill()

    server = ServerProcess(url, tmp_path / "restarted.log")
    server.start()
    try:
        run = data(server.graphql(token, RUN_STATE, {"id": run_id}))["run"]
        rows_after = data(server.graphql(token, ROWS))
        segment_id = created["createSegmentFromPrediction"]["segment"]["id"]
        segment = data(
            server.graphql(
                token, "query($id: ID!) { segment(id: $id) { memberCount } }", {"id": segment_id}
            )
        )
    finally:
        server.stop()

    assert run == {"status": "FAILED", "step": TRAINING_STEP, "error": INTERRUPTED_REASON}
    assert rows_after == rows_before
    assert rows_after["outputEntity"]["version"] == 1
    expected_members = int((churn_rows()["ChurnScore"] >= 0.5).sum())
    assert created["createSegmentFromPrediction"]["segment"]["memberCount"] == expected_members
    assert segment["segment"]["memberCount"] == expected_members


def test_parallel_segment_creation(database: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = database
    token = contributor_token(engine)
    prediction_id = only_prediction_id(engine)
    server = ServerProcess(url, tmp_path / "server.log")
    server.start()
    payloads: list[dict[str, Any]] = []
    lock = threading.Lock()

    def create(index: int) -> None:
        segment_input = {"name": f"Parallel {index}", "conditions": HIGH_RISK}
        body = server.graphql(token, SEGMENT, {"p": prediction_id, "input": segment_input})
        with lock:
            payloads.append(body)

    threads = [threading.Thread(target=create, args=(index,)) for index in range(20)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()

    problems = [body for body in payloads if "errors" in body or body["data"] is None]
    assert problems == []
    results = [body["data"]["createSegmentFromPrediction"] for body in payloads]
    assert [result["errors"] for result in results] == [[]] * 20
    assert len({result["segment"]["id"] for result in results}) == 20
    with engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(table_of(Segment))).scalar() == 20
        )
    assert "database is locked" not in (tmp_path / "server.log").read_text()


def subscribe(base_url: str, init_payload: dict[str, Any], run_id: str) -> list[dict[str, Any]]:
    """Run the runProgress subscription over graphql-transport-ws; return the messages."""
    messages: list[dict[str, Any]] = []
    url = base_url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        socket.send(json.dumps({"type": "connection_init", "payload": init_payload}))
        assert json.loads(socket.recv(timeout=30))["type"] == "connection_ack"
        request = {"query": PROGRESS, "variables": {"id": run_id}}
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": request}))
        while True:
            message = json.loads(socket.recv(timeout=RUN_DEADLINE_SECONDS))
            messages.append(message)
            if message["type"] in {"complete", "error"}:
                return messages


def test_run_progress_subscription(database: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = database
    token = contributor_token(engine)
    prediction_id = only_prediction_id(engine)
    server = ServerProcess(url, tmp_path / "server.log")
    server.start()
    try:
        run_id = data(server.graphql(token, RUN, {"id": prediction_id}))["runPrediction"]["run"][
            "id"
        ]
        messages = subscribe(server.base_url, {"Authorization": f"Bearer {token}"}, run_id)
        anonymous = subscribe(server.base_url, {}, run_id)
    finally:
        server.stop()

    updates = [m["payload"]["data"]["runProgress"] for m in messages if m["type"] == "next"]
    steps = [update["step"] for update in updates if update["step"] is not None]
    order = [
        "checking data",
        "loading",
        "features",
        "training",
        "validation",
        "scoring",
        "writing",
        "refreshing segments",
    ]
    assert messages[-1]["type"] == "complete"
    assert updates[-1]["status"] == "SUCCEEDED"
    assert {update["id"] for update in updates} == {run_id}
    assert steps == sorted(steps, key=order.index)
    assert steps[-1] == "refreshing segments"
    codes = [
        error["extensions"]["code"]
        for message in anonymous
        for error in (
            message["payload"]
            if message["type"] == "error"
            else message["payload"].get("errors", [])
        )
    ]
    assert codes == ["UNAUTHENTICATED"]
