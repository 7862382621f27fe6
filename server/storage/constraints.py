"""Finding which unique index or constraint an IntegrityError reports."""

from __future__ import annotations

import re

from sqlalchemy import Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError

# SQLite names the columns of the violated key: "UNIQUE constraint failed: segment.name_key".
_SQLITE_UNIQUE = re.compile(r"^UNIQUE constraint failed: (?P<columns>.+)$")


def violated_unique_columns(error: IntegrityError, table: Table) -> frozenset[str]:
    """Return the columns of the unique key of `table` that `error` reports as violated.

    Empty when `error` is another violation (a foreign key, NOT NULL) or concerns
    another table, so the caller can re-raise it.
    """
    sqlite_match = _SQLITE_UNIQUE.match(str(error.orig))
    if sqlite_match is not None:
        return _sqlite_columns(sqlite_match["columns"], table)

    # psycopg reports the name of the violated index or constraint in its diagnostics.
    diagnostics = getattr(error.orig, "diag", None)
    if getattr(diagnostics, "table_name", None) != table.name:
        return frozenset()
    return _named_key_columns(getattr(diagnostics, "constraint_name", None), table)


def _sqlite_columns(listed: str, table: Table) -> frozenset[str]:
    columns = set()
    for qualified in listed.split(", "):
        table_name, _, column = qualified.partition(".")
        if table_name != table.name:
            return frozenset()
        columns.add(column)
    return frozenset(columns)


def _named_key_columns(name: str | None, table: Table) -> frozenset[str]:
    if name is None:
        return frozenset()
    for index in table.indexes:
        if index.unique and index.name == name:
            return frozenset(column.name for column in index.columns)
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and _constraint_name(constraint) == name:
            return frozenset(column.name for column in constraint.columns)
    return frozenset()


def _constraint_name(constraint: UniqueConstraint) -> str:
    # An unnamed one-column UNIQUE gets PostgreSQL's default name, "<table>_<column>_key".
    if isinstance(constraint.name, str):
        return constraint.name
    columns = "_".join(column.name for column in constraint.columns)
    return f"{constraint.table.name}_{columns}_key"
