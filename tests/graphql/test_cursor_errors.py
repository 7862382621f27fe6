"""Cursors that no page of this API returned: each is a BAD_USER_INPUT error."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from server.graphql.pagination import MAX_CURSOR_NUMBER, encode_cursor
from server.ids import MAX_ID
from tests.graphql.conftest import ENTITY, GraphQLCaller
from tests.graphql.test_create_segment import create

ROWS = """
query Rows($name: String!, $after: String) {
  outputEntity(name: $name) {
    rows(first: 3, after: $after) { edges { cursor node { customerId } } }
  }
}
"""
MEMBERS = """
query Members($id: ID!, $after: String) {
  segment(id: $id) { name members(first: 3, after: $after) { edges { node { customerId } } } }
}
"""
HISTORY = """
query History($id: ID!, $after: String) {
  segment(id: $id) { memberCountHistory(first: 3, after: $after) { edges { cursor } } }
}
"""
SEGMENTS = "query Segments($after: String) { segments(first: 3, after: $after) { totalCount } }"
AUDIT = "query Audit($after: String) { auditEvents(first: 3, after: $after) { edges { cursor } } }"


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def assert_bad_cursor(body: dict[str, Any], cursor: str) -> None:
    assert "errors" in body, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert repr(cursor[:60]) in error["message"]
    assert "pass an endCursor" in error["message"]


NUMERIC_KEYS = ["abc", "1e3", "-5", "+5", "007", " 5", "5 ", "", "99999999999999999999", "١٢"]


@pytest.mark.parametrize("key", NUMERIC_KEYS)
async def test_rows_bad_numeric_cursor(viewer: GraphQLCaller, prediction_id: int, key: str) -> None:
    cursor = raw_cursor(f"row:{key}")

    body = await viewer(ROWS, {"name": ENTITY, "after": cursor})

    assert_bad_cursor(body, cursor)


async def test_rows_cursor_above_64_bits(viewer: GraphQLCaller, prediction_id: int) -> None:
    cursor = encode_cursor("row", str(MAX_CURSOR_NUMBER + 1))

    body = await viewer(ROWS, {"name": ENTITY, "after": cursor})

    assert_bad_cursor(body, cursor)


async def test_rows_largest_cursor_empty_page(viewer: GraphQLCaller, prediction_id: int) -> None:
    cursor = encode_cursor("row", str(MAX_CURSOR_NUMBER))

    body = await viewer(ROWS, {"name": ENTITY, "after": cursor})

    assert "errors" not in body, body
    assert body["data"]["outputEntity"]["rows"]["edges"] == []


async def test_rows_end_cursor_reads_next_page(viewer: GraphQLCaller, prediction_id: int) -> None:
    first = await viewer(ROWS, {"name": ENTITY})
    last_cursor = first["data"]["outputEntity"]["rows"]["edges"][-1]["cursor"]

    second = await viewer(ROWS, {"name": ENTITY, "after": last_cursor})

    ids = [edge["node"]["customerId"] for edge in second["data"]["outputEntity"]["rows"]["edges"]]
    assert ids == ["C0003", "C0004", "C0005"]


@pytest.mark.parametrize(
    "cursor",
    [
        raw_cursor("customer:C00\x0001"),
        raw_cursor("customer:C0001\n"),
        raw_cursor("evaluation:C0001"),
        "not-a-cursor",
        raw_cursor("customer:C0001") + "!!",
        raw_cursor("customer:C0001").rstrip("="),
        "Y3VzdG9tZXI6Qzwx" + "é",
    ],
)
async def test_members_bad_cursor(
    contributor: GraphQLCaller, viewer: GraphQLCaller, prediction_id: int, cursor: str
) -> None:
    created = await create(contributor, prediction_id)

    body = await viewer(MEMBERS, {"id": created["segment"]["id"], "after": cursor})

    assert_bad_cursor(body, cursor)
    assert body["errors"][0]["path"] == ["segment", "members"]


async def test_members_text_cursor_accepted(
    contributor: GraphQLCaller, viewer: GraphQLCaller, prediction_id: int
) -> None:
    created = await create(contributor, prediction_id)

    body = await viewer(
        MEMBERS, {"id": created["segment"]["id"], "after": encode_cursor("customer", "C")}
    )

    assert "errors" not in body, body
    assert len(body["data"]["segment"]["members"]["edges"]) == 3


@pytest.mark.parametrize("key", ["abc", "99999999999999999999", "2147483648", "-1", "1.0"])
async def test_history_bad_cursor(
    contributor: GraphQLCaller, viewer: GraphQLCaller, prediction_id: int, key: str
) -> None:
    created = await create(contributor, prediction_id)
    cursor = raw_cursor(f"evaluation:{key}")

    body = await viewer(HISTORY, {"id": created["segment"]["id"], "after": cursor})

    assert_bad_cursor(body, cursor)


async def test_history_largest_cursor_accepted(
    contributor: GraphQLCaller, viewer: GraphQLCaller, prediction_id: int
) -> None:
    created = await create(contributor, prediction_id)
    cursor = encode_cursor("evaluation", str(MAX_ID))

    body = await viewer(HISTORY, {"id": created["segment"]["id"], "after": cursor})

    assert "errors" not in body, body
    assert len(body["data"]["segment"]["memberCountHistory"]["edges"]) == 1


@pytest.mark.parametrize("key", ["abc", "99999999999999999999", "2147483648", "-1"])
async def test_segments_bad_cursor(viewer: GraphQLCaller, key: str) -> None:
    cursor = raw_cursor(f"segment:{key}")

    body = await viewer(SEGMENTS, {"after": cursor})

    assert_bad_cursor(body, cursor)


@pytest.mark.parametrize("key", ["abc", "99999999999999999999", "2147483648", "-1"])
async def test_audit_bad_cursor(admin: GraphQLCaller, key: str) -> None:
    cursor = raw_cursor(f"audit:{key}")

    body = await admin(AUDIT, {"after": cursor})

    assert_bad_cursor(body, cursor)


async def test_segments_largest_id_cursor_accepted(viewer: GraphQLCaller) -> None:
    body = await viewer(SEGMENTS, {"after": encode_cursor("segment", str(MAX_ID))})

    assert "errors" not in body, body
    assert body["data"]["segments"]["totalCount"] == 0
