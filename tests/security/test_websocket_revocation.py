"""A token revoked through the API stops new subscriptions on connections already open."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.security.conftest import LiveServer, bearer

CREATE_TOKEN = """
mutation { createToken(input: { name: "ws-revoked", role: VIEWER }) {
  token { id } secret errors { code } } }
"""
REVOKE_TOKEN = "mutation Revoke($id: ID!) { revokeToken(id: $id) { errors { code } } }"
PROGRESS = 'subscription { runProgress(runId: "987654") { status } }'


def graphql(server: LiveServer, token: str | None, query: str, variables: Any = None) -> Any:
    response = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables},
        headers=bearer(token),
        timeout=30,
    )
    return response.json()


def subscribe(socket: ClientConnection, operation_id: str) -> list[dict[str, Any]]:
    """Subscribe and return the messages up to the operation's `complete`."""
    request = {"query": PROGRESS}
    socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": request}))
    messages: list[dict[str, Any]] = []
    while not messages or messages[-1]["type"] != "complete":
        messages.append(json.loads(socket.recv(timeout=30)))
    return messages


def test_revoked_token_closes_socket(live_server: LiveServer) -> None:
    admin = live_server.tokens["admin"]
    created = graphql(live_server, admin, CREATE_TOKEN)["data"]["createToken"]
    url = live_server.base_url.replace("http://", "ws://") + "/graphql"

    with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        init = {"Authorization": f"Bearer {created['secret']}"}
        socket.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(socket.recv(timeout=30))["type"] == "connection_ack"
        before = subscribe(socket, "1")

        revoked = graphql(live_server, admin, REVOKE_TOKEN, {"id": created["token"]["id"]})
        with pytest.raises(ConnectionClosed) as closed:
            subscribe(socket, "2")

    # The unknown run id shows that the first subscription passed authentication.
    assert before[0]["type"] == "next"
    assert before[0]["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert revoked["data"]["revokeToken"]["errors"] == []
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    assert "revoked" in closed.value.rcvd.reason
