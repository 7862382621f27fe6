"""The tables a load writes, and the text lengths their columns allow."""

from __future__ import annotations

from sqlalchemy import String, Table, TypeDecorator

from server.storage.tables import metadata

CUSTOMER_TABLE: Table = metadata.tables["customer"]
ORDER_LINE_TABLE: Table = metadata.tables["order_line"]


def max_length(table: Table, column: str) -> int | None:
    """Return the declared length of a text column, or None when it has no limit."""
    column_type = table.c[column].type
    # SQLModel declares text columns as AutoString, a decorator around String.
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, String):
        return column_type.length
    return None


PROFILE_ATTRIBUTES = ("segment", "country", "city", "state", "region")
"""The customer table's profile columns, which a mapping's ProfileColumns may fill."""
