"""graphql-transport-ws: the rate limit per subscribe and the JSON checks of each message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server.storage.engine import make_engine
from server.storage.migrate import upgrade
from tests.security.conftest import LiveServer, caller_tokens, serving

PROGRESS = "subscription Progress($id: ID!) { runProgress(runId: $id) { status } }"
TYPENAME = {"query": "{ __typename }"}
# Each token and each address may send 4 subscribe messages, then 1 a minute.
BURST = 4


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the app with uvicorn on 127.0.0.1 with a rate limit of BURST requests."""
    folder: Path = tmp_path_factory.mktemp("limited")
    url = f"sqlite:///{(folder / 'served.db').as_posix()}"
    engine = make_engine(url)
    upgrade(engine)
    secrets = caller_tokens(engine)
    engine.dispose()

    limits = {"LOOKAHEAD_RATE_LIMIT_PER_MINUTE": "1", "LOOKAHEAD_RATE_LIMIT_BURST": str(BURST)}
    with serving(url, folder, limits) as base:
        yield LiveServer(base, secrets, 0)


def open_socket(server: LiveServer, token: str | None) -> ClientConnection:
    url = server.base_url.replace("http://", "ws://") + "/graphql"
    connection = connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    connection.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert json.loads(connection.recv(timeout=30))["type"] == "connection_ack"
    return connection


def subscribe_text(operation_id: str, variables: str) -> str:
    """Build a subscribe message by hand, with `variables` as raw JSON text."""
    query = json.dumps(PROGRESS)
    return (
        f'{{"id": "{operation_id}", "type": "subscribe", '
        f'"payload": {{"query": {query}, "variables": {variables}}}}}'
    )


def receive_final(connection: ClientConnection, operation_id: str) -> dict[str, Any]:
    """Return the operation's `error` or `complete` message, skipping its `next` messages."""
    while True:
        message: dict[str, Any] = json.loads(connection.recv(timeout=30))
        if message.get("id") == operation_id and message["type"] in ("error", "complete"):
            return message


def still_open(connection: ClientConnection) -> bool:
    connection.send(json.dumps({"type": "ping"}))
    return bool(json.loads(connection.recv(timeout=30))["type"] == "pong")


def error_message(message: dict[str, Any]) -> str:
    return str(message["payload"][0]["message"])


def test_subscribe_flood_rate_limited(limited_server: LiveServer) -> None:
    with open_socket(limited_server, limited_server.tokens["viewer"]) as connection:
        finals = []
        for number in range(BURST + 3):
            request = {"id": str(number), "type": "subscribe", "payload": TYPENAME}
            connection.send(json.dumps(request))
            finals.append(receive_final(connection, str(number)))
        open_after = still_open(connection)

    # Each allowed query ends with `complete`, and each rejected one with `error`.
    assert [final["type"] for final in finals[:BURST]] == ["complete"] * BURST
    assert [final["type"] for final in finals[BURST:]] == ["error"] * 3
    limited = finals[BURST]["payload"][0]
    assert limited["message"].startswith("rate limit exceeded, retry after ")
    assert limited["message"].endswith(" s")
    assert limited["extensions"]["code"] == "RATE_LIMITED"
    assert limited["extensions"]["retryAfter"] >= 1
    assert open_after


def test_rate_limit_per_token(limited_server: LiveServer) -> None:
    """A token's limit does not spend another token's allowance on the same address."""
    with open_socket(limited_server, limited_server.tokens["contributor"]) as first:
        for number in range(BURST + 1):
            request = {"id": f"c{number}", "type": "subscribe", "payload": TYPENAME}
            first.send(json.dumps(request))
            last = receive_final(first, f"c{number}")
    with open_socket(limited_server, limited_server.tokens["admin"]) as second:
        second.send(json.dumps({"id": "a0", "type": "subscribe", "payload": TYPENAME}))
        other = receive_final(second, "a0")

    assert last["type"] == "error"
    assert other["type"] == "complete"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ('{"id": "1\\u0000"}', "NUL"),
        ('{"id": "\\ud800"}', "surrogate"),
        ('{"id": ' + "[" * 100 + "]" * 100 + "}", "levels deep"),
        ('{"id": ' + "7" * 5000 + "}", "digits"),
    ],
    ids=["nul", "lone-surrogate", "depth-100", "integer-5000-digits"],
)
def test_bad_variables_get_error(limited_server: LiveServer, variables: str, expected: str) -> None:
    with open_socket(limited_server, limited_server.tokens["expired"]) as connection:
        connection.send(subscribe_text("bad", variables))
        final = receive_final(connection, "bad")
        open_after = still_open(connection)

    assert final["type"] == "error"
    assert expected in error_message(final)
    assert final["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert open_after


def test_deep_variables_close_with_4400(limited_server: LiveServer) -> None:
    """A message too deep for the JSON parser has no readable id, so the connection closes."""
    with open_socket(limited_server, limited_server.tokens["expired"]) as connection:
        connection.send(subscribe_text("deep", '{"id": ' + "[" * 5000 + "]" * 5000 + "}"))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=30)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400
    assert "levels deep" in closed.value.rcvd.reason


def test_payload_not_object_gets_error(limited_server: LiveServer) -> None:
    with open_socket(limited_server, None) as connection:
        connection.send(json.dumps({"id": "p", "type": "subscribe", "payload": "{ __typename }"}))
        final = receive_final(connection, "p")
        open_after = still_open(connection)

    assert final["type"] == "error"
    assert "not an object" in error_message(final)
    assert open_after


def test_checked_message_still_served(limited_server: LiveServer) -> None:
    """After a rejected message the connection serves a valid subscribe as usual."""
    with open_socket(limited_server, limited_server.tokens["revoked"]) as connection:
        connection.send(subscribe_text("bad", '{"id": "\\u0000"}'))
        rejected = receive_final(connection, "bad")
        connection.send(json.dumps({"id": "good", "type": "subscribe", "payload": TYPENAME}))
        served: dict[str, Any] = json.loads(connection.recv(timeout=30))

    assert rejected["type"] == "error"
    assert served["type"] == "next"
    assert served["payload"]["data"] == {"__typename": "Query"}
