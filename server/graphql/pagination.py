"""Cursor connections: opaque cursors and the page-size rule."""

from __future__ import annotations

import base64
import binascii
import re

import strawberry
from graphql import GraphQLError

DEFAULT_PAGE_SIZE = 20

# The largest row number a cursor may hold: the largest signed 64-bit integer, the
# range of the OFFSET values that SQLite and PostgreSQL accept.
MAX_CURSOR_NUMBER = 2**63 - 1

# ASCII digits only, without a sign or leading zeros, as `encode_cursor` writes them.
_NUMBER = re.compile(r"0|[1-9][0-9]*")
# C0 and C1 control characters. PostgreSQL rejects NUL in text, and no key contains one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` to read the next page; null on an empty page."
    )


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """Return the text key inside `cursor`; raise a GraphQL error when it is not one of ours.

    A cursor is valid only in the exact form `encode_cursor` gives, with the prefix
    `kind` and a key without control characters.
    """
    if cursor is None:
        return None
    key = _key_of(kind, cursor)
    if key is None or _CONTROL.search(key):
        raise invalid_cursor(cursor, f"it is not a {kind} cursor")
    return key


def decode_number_cursor(
    kind: str, cursor: str | None, maximum: int = MAX_CURSOR_NUMBER
) -> int | None:
    """Return the number inside `cursor`, from 0 to `maximum`.

    Raise a GraphQL error when the cursor is not one of ours or its key is not such
    a number, which an `endCursor` of this API always is. Cursors that hold a row id
    pass `server.ids.MAX_ID`, the range of the id columns.
    """
    if cursor is None:
        return None
    key = _key_of(kind, cursor)
    if key is None:
        raise invalid_cursor(cursor, f"it is not a {kind} cursor")
    if not _NUMBER.fullmatch(key) or int(key) > maximum:
        raise invalid_cursor(
            cursor, f"its key {key[:40]!r} is not a whole number from 0 to {maximum}"
        )
    return int(key)


def invalid_cursor(cursor: str, reason: str) -> GraphQLError:
    return GraphQLError(
        f"invalid cursor {cursor[:60]!r}: {reason}; pass an endCursor from a previous page "
        "of the same list, or leave after out to start at the first page",
        extensions={"code": "BAD_USER_INPUT"},
    )


def _key_of(kind: str, cursor: str) -> str | None:
    """Return the key of `cursor` when it is base64 of `kind:key` as encoded here, else None."""
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    prefix = f"{kind}:"
    if not decoded.startswith(prefix) or encode_cursor(kind, decoded[len(prefix) :]) != cursor:
        return None
    return decoded[len(prefix) :]


def page_size(first: int | None, maximum: int) -> int:
    """Return the page size to use; raise a GraphQL error when `first` is out of range."""
    if first is None:
        return min(DEFAULT_PAGE_SIZE, maximum)
    return check_range("first", first, 1, maximum)


def check_range(argument: str, value: int, minimum: int, maximum: int) -> int:
    """Return `value`; raise a GraphQL error naming `argument` when it is out of range."""
    if not minimum <= value <= maximum:
        raise GraphQLError(
            f"{argument} must be between {minimum} and {maximum}, got {value}",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return value
