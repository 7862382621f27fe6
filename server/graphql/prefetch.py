"""Reading a segment and its requested member page in one worker-thread call.

`segment(id) { members(...) }` would otherwise read the segment in one worker thread
and the member page in a second. The segment resolver reads both when the query
requests exactly one members page of the segment, and primes the request's member
page loader, so the members resolver finds the page there.
"""

from __future__ import annotations

from graphql import GraphQLError
from sqlalchemy import Engine
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from server.graphql.loaders import MemberKey, find_member_pages
from server.graphql.pagination import decode_cursor, page_size
from server.graphql.types import Segment, find_segment
from server.segments.service import MemberPage


def requested_member_page(info: Info, segment_id: int, max_page_size: int) -> MemberKey | None:
    """Return the loader key of the one members page selected on this segment, or None.

    None when the selection has no members field or several (aliases), names it only
    through fragments, or passes arguments that the members resolver rejects. The
    members resolver then reads the page itself, or raises.
    """
    selections = [
        selection
        for field in info.selected_fields
        for selection in field.selections
        if isinstance(selection, SelectedField) and selection.name == "members"
    ]
    if len(selections) != 1:
        return None
    arguments = selections[0].arguments
    first = arguments.get("first")
    after = arguments.get("after")
    try:
        # Strawberry passes a literal argument as its source text, a variable as its value.
        size = page_size(None if first is None else int(first), max_page_size)
        after_key = decode_cursor("customer", None if after is None else str(after))
    except (GraphQLError, TypeError, ValueError):
        return None
    return segment_id, size, after_key


def read_segment_with_members(
    engine: Engine, key: MemberKey
) -> tuple[Segment | None, MemberPage | None]:
    """Read segment `key[0]` and, when it exists, the member page of `key`.

    Both reads share one connection and transaction, so the request checks out one
    pooled connection instead of two.
    """
    with engine.connect() as connection:
        segment = find_segment(connection, key[0])
        if segment is None:
            return None, None
        [page] = find_member_pages(connection, [key])
    return segment, page
