"""Cursor connections: opaque cursors and the page-size rule."""

from __future__ import annotations

import base64
import binascii

import strawberry
from graphql import GraphQLError

DEFAULT_PAGE_SIZE = 20


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` to read the next page; null on an empty page."
    )


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """Return the key inside `cursor`; raise a GraphQL error when it is not one of ours."""
    if cursor is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    prefix = f"{kind}:"
    if not decoded.startswith(prefix):
        raise GraphQLError(
            f"invalid cursor {cursor[:40]!r}; pass an endCursor from a previous page",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return decoded[len(prefix) :]


def page_size(first: int | None, maximum: int) -> int:
    """Return the page size to use; raise a GraphQL error when `first` is out of range."""
    if first is None:
        return min(DEFAULT_PAGE_SIZE, maximum)
    if not 1 <= first <= maximum:
        raise GraphQLError(
            f"first must be between 1 and {maximum}, got {first}",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return first
