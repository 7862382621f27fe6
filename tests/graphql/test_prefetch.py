"""The segment resolver reads the requested members page with the segment itself."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from sqlalchemy import Engine
from strawberry.types import Info

from server.graphql.pagination import encode_cursor
from server.graphql.prefetch import requested_member_page
from tests.graphql.conftest import GraphQLCaller
from tests.graphql.test_query_count import add_predictions_with_segments

MAX_PAGE_SIZE = 100


@strawberry.type
class Page:
    first: int | None
    after: str | None

    @strawberry.field
    def members(self, first: int | None = None, after: str | None = None) -> int:
        return 0


@strawberry.type
class KeyQuery:
    @strawberry.field
    def segment(self, info: Info) -> Page:
        key = requested_member_page(info, 7, MAX_PAGE_SIZE)
        if key is None:
            return Page(first=None, after=None)
        assert key[0] == 7
        return Page(first=key[1], after=key[2])


KEY_SCHEMA = strawberry.Schema(query=KeyQuery)
CURSOR = encode_cursor("customer", "C42")


# Each document selects `first` and `after` to read the key back, beside `members`.
@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        ("{ segment { first after members(first: 5) } }", {}, (5, None)),
        ("{ segment { first after members } }", {}, (20, None)),
        (
            "query($n: Int, $a: String) { segment { first after members(first: $n, after: $a) } }",
            {"n": 7, "a": CURSOR},
            (7, "C42"),
        ),
        (f'{{ segment {{ first after members(first: 3, after: "{CURSOR}") }} }}', {}, (3, "C42")),
        ("{ segment { first after } }", {}, (None, None)),
        ("{ segment { first after a: members(first: 1) b: members(first: 2) } }", {}, (None, None)),
        ("{ segment { first after members(first: 0) } }", {}, (None, None)),
        ("{ segment { first after members(first: 101) } }", {}, (None, None)),
        ('{ segment { first after members(after: "not-a-cursor") } }', {}, (None, None)),
    ],
)
def test_requested_member_page_key(
    query: str, variables: dict[str, Any], expected: tuple[int | None, str | None]
) -> None:
    result = KEY_SCHEMA.execute_sync(query, variable_values=variables)

    assert result.errors is None, result.errors
    assert result.data is not None
    segment = result.data["segment"]
    assert (segment["first"], segment["after"]) == expected


PAGE = """
query Page($id: ID!) {
  segment(id: $id) {
    name
    a: members(first: 2) { edges { node { customerId } } pageInfo { endCursor } }
    b: members(first: 3) { edges { node { customerId } } }
  }
}
"""

BAD_FIRST = """
query Bad($id: ID!) { segment(id: $id) { name members(first: 0) { totalCount } } }
"""

FRAGMENT = """
query Fragment($id: ID!) { segment(id: $id) { ...Members } }
fragment Members on Segment { members(first: 4) { edges { node { customerId } } } }
"""

ONE = """
query One($id: ID!, $after: String) {
  segment(id: $id) { members(first: 4, after: $after) { edges { node { customerId } } } }
}
"""


def customer_ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["customerId"] for edge in connection["edges"]]


async def test_aliased_pages_both_read(engine: Engine, viewer: GraphQLCaller) -> None:
    [segment_id] = add_predictions_with_segments(engine, 0, 1)

    body = await viewer(PAGE, {"id": str(segment_id)})
    everything = await viewer(ONE.replace("first: 4", "first: 30"), {"id": str(segment_id)})

    all_ids = customer_ids(everything["data"]["segment"]["members"])
    segment = body["data"]["segment"]
    assert customer_ids(segment["a"]) == all_ids[:2]
    assert customer_ids(segment["b"]) == all_ids[:3]


async def test_prefetched_page_matches_next_pages(engine: Engine, viewer: GraphQLCaller) -> None:
    [segment_id] = add_predictions_with_segments(engine, 0, 1)
    everything = await viewer(ONE.replace("first: 4", "first: 30"), {"id": str(segment_id)})
    first = await viewer(ONE, {"id": str(segment_id)})
    cursor = encode_cursor("customer", customer_ids(first["data"]["segment"]["members"])[-1])

    second = await viewer(ONE, {"id": str(segment_id), "after": cursor})

    all_ids = customer_ids(everything["data"]["segment"]["members"])
    assert customer_ids(first["data"]["segment"]["members"]) == all_ids[:4]
    assert customer_ids(second["data"]["segment"]["members"]) == all_ids[4:8]


async def test_bad_page_size_fails_on_members(engine: Engine, viewer: GraphQLCaller) -> None:
    [segment_id] = add_predictions_with_segments(engine, 0, 1)

    body = await viewer(BAD_FIRST, {"id": str(segment_id)})

    # members is non-null, so its error nulls the segment.
    assert body["data"] == {"segment": None}
    assert body["errors"][0]["path"] == ["segment", "members"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_members_through_fragment(engine: Engine, viewer: GraphQLCaller) -> None:
    [segment_id] = add_predictions_with_segments(engine, 0, 1)

    body = await viewer(FRAGMENT, {"id": str(segment_id)})
    direct = await viewer(ONE, {"id": str(segment_id)})

    assert body["data"]["segment"]["members"] == direct["data"]["segment"]["members"]


async def test_unknown_segment_with_members(engine: Engine, viewer: GraphQLCaller) -> None:
    add_predictions_with_segments(engine, 0, 1)

    body = await viewer(ONE, {"id": "999999"})

    assert body == {"data": {"segment": None}}
