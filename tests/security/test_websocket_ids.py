"""graphql-transport-ws: operation ids, operation names and the order of the protocol checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server.graphql.websocket import subscribe_payload_problem
from server.storage.engine import make_engine
from server.storage.migrate import upgrade
from server.storage.tables import PredictionRun
from tests.graphql.conftest import add_prediction
from tests.security.conftest import LiveServer, caller_tokens, serving
from tests.security.test_websocket_checks import error_message, open_socket, still_open

INVALID_ID = "Invalid message: id must be a non-empty string"
PROGRESS = "subscription Progress($id: ID!) { runProgress(runId: $id) { status } }"
TWO_OPERATIONS = "query A { __typename } query B { __typename }"


@pytest.fixture(scope="module")
def id_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the app with uvicorn on 127.0.0.1 with a run that stays RUNNING."""
    folder: Path = tmp_path_factory.mktemp("ids")
    url = f"sqlite:///{(folder / 'served.db').as_posix()}"
    engine = make_engine(url)
    upgrade(engine)
    secrets = caller_tokens(engine)
    prediction_id = add_prediction(engine)

    try:
        with serving(url, folder) as base:
            # Inserted after start-up, so that no worker takes the run and finishes it.
            with engine.begin() as connection:
                run_id = connection.execute(
                    insert(PredictionRun).values(prediction_id=prediction_id, status="RUNNING")
                ).inserted_primary_key[0]
            # The prediction_id field carries the id of the RUNNING run in this module.
            yield LiveServer(base, secrets, int(run_id))
    finally:
        engine.dispose()


def close_of(connection: ClientConnection) -> tuple[int | None, str | None]:
    """Wait for the server to close the connection and return its close code and reason."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            connection.recv(timeout=30)
    frame = closed.value.rcvd
    if frame is None:
        return None, None
    return frame.code, frame.reason


def final_of(connection: ClientConnection, operation_id: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(connection.recv(timeout=30))
        if message.get("id") == operation_id and message["type"] in ("error", "complete"):
            return message


@pytest.mark.parametrize("operation_id", [[1], {"a": 1}, 5, None, ""])
def test_subscribe_bad_id_closes_4400(id_server: LiveServer, operation_id: object) -> None:
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        message = {"type": "subscribe", "id": operation_id, "payload": {"query": "{__typename}"}}
        connection.send(json.dumps(message))

        code, reason = close_of(connection)

    assert code == 4400
    assert reason == INVALID_ID


def test_subscribe_without_id_closes_4400(id_server: LiveServer) -> None:
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        connection.send(json.dumps({"type": "subscribe", "payload": {"query": "{__typename}"}}))

        code, reason = close_of(connection)

    assert code == 4400
    assert reason == INVALID_ID


@pytest.mark.parametrize("operation_id", [[1], {"a": 1}, 5, ""])
def test_complete_bad_id_closes_4400(id_server: LiveServer, operation_id: object) -> None:
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        connection.send(json.dumps({"type": "complete", "id": operation_id}))

        code, reason = close_of(connection)

    assert code == 4400
    assert reason == INVALID_ID


def test_complete_string_id_kept_open(id_server: LiveServer) -> None:
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        connection.send(json.dumps({"type": "complete", "id": "never-started"}))

        assert still_open(connection)


@pytest.mark.parametrize("operation_name", [5, True, ["A"], {"name": "A"}])
def test_operation_name_not_string(id_server: LiveServer, operation_name: object) -> None:
    payload = {"query": TWO_OPERATIONS, "operationName": operation_name}
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        connection.send(json.dumps({"type": "subscribe", "id": "n", "payload": payload}))
        final = final_of(connection, "n")
        open_after = still_open(connection)

    assert final["type"] == "error"
    assert error_message(final).startswith("operationName must be a string or null")
    assert final["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert open_after


def test_operation_name_unknown(id_server: LiveServer) -> None:
    payload = {"query": TWO_OPERATIONS, "operationName": "Nope"}
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        connection.send(json.dumps({"type": "subscribe", "id": "u", "payload": payload}))
        final = final_of(connection, "u")
        open_after = still_open(connection)

    assert final["type"] == "error"
    assert error_message(final) == "Unknown operation named 'Nope'"
    assert final["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert open_after


def test_operation_name_known_runs(id_server: LiveServer) -> None:
    payload = {"query": TWO_OPERATIONS, "operationName": "B"}
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        connection.send(json.dumps({"type": "subscribe", "id": "k", "payload": payload}))
        first = json.loads(connection.recv(timeout=30))
        final = final_of(connection, "k")

    assert first == {"id": "k", "type": "next", "payload": {"data": {"__typename": "Query"}}}
    assert final["type"] == "complete"


def test_operation_name_check_skips_syntax_error() -> None:
    """A query that does not parse is left to execution, which reports the syntax error."""
    payload = {"query": "query A {", "operationName": "B"}
    message: Any = {"type": "subscribe", "id": "s", "payload": payload}

    assert subscribe_payload_problem(message, 2000) is None


def test_operation_name_check_keeps_token_cap() -> None:
    payload = {"query": "query A { __typename __typename }", "operationName": "B"}
    message: Any = {"type": "subscribe", "id": "s", "payload": payload}

    assert subscribe_payload_problem(message, 3) is None
    assert subscribe_payload_problem(message, 2000) == "Unknown operation named 'B'"


def subscribe_progress(connection: ClientConnection, server: LiveServer, operation_id: str) -> None:
    payload = {"query": PROGRESS, "variables": {"id": str(server.prediction_id)}}
    connection.send(json.dumps({"type": "subscribe", "id": operation_id, "payload": payload}))
    first = json.loads(connection.recv(timeout=30))
    assert first["type"] == "next"
    assert first["payload"]["data"]["runProgress"]["status"] == "RUNNING"


@pytest.mark.parametrize(
    "second_payload",
    [
        {"query": PROGRESS, "variables": {"id": "1"}},
        {"query": PROGRESS, "variables": [1]},
        {"query": TWO_OPERATIONS, "operationName": "Nope"},
    ],
)
def test_duplicate_running_id_closes_4409(
    id_server: LiveServer, second_payload: dict[str, Any]
) -> None:
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        subscribe_progress(connection, id_server, "live")
        connection.send(json.dumps({"type": "subscribe", "id": "live", "payload": second_payload}))

        code, reason = close_of(connection)

    assert code == 4409
    assert reason == "Subscriber for live already exists"


def test_duplicate_id_with_bad_json_closes_4409(id_server: LiveServer) -> None:
    with open_socket(id_server, id_server.tokens["viewer"]) as connection:
        subscribe_progress(connection, id_server, "live")
        # The escaped NUL fails the JSON checks, which name it for a readable id.
        connection.send(
            '{"type": "subscribe", "id": "live", "payload": {"query": "{ a }", "x": "\\u0000"}}'
        )

        code, reason = close_of(connection)

    assert code == 4409
    assert reason == "Subscriber for live already exists"


def unacknowledged_socket(server: LiveServer) -> ClientConnection:
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    return connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "{__typename}"}}),
        json.dumps({"type": "subscribe", "id": "1", "payload": {"variables": 5}}),
        json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "{a}", "x": "\u0000"}}),
    ],
)
def test_subscribe_before_init_closes_4401(id_server: LiveServer, text: str) -> None:
    with unacknowledged_socket(id_server) as connection:
        connection.send(text)

        code, reason = close_of(connection)

    assert code == 4401
    assert reason == "Unauthorized"
