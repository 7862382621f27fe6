"""Checking staged rows against the database and merging them into the source's tables.

Every statement here is set-based SQL over the staging tables, so a merge of
millions of lines moves no rows through Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    desc,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)

from server.ingestion.row_messages import RowMessages
from server.ingestion.staging import (
    STAGED_CUSTOMER,
    STAGED_EXCLUDED,
    STAGED_LINE,
    STAGED_PROFILE,
)
from server.ingestion.targets import CUSTOMER_TABLE, ORDER_LINE_TABLE

_LINE_VALUES = ("customer_id", "order_id", "order_date", "product_id", "quantity", "amount")


@dataclass(frozen=True)
class StagedSummary:
    lines: int
    customers: int
    orders: int
    first_order_date: date | None
    last_order_date: date | None


@dataclass(frozen=True)
class MergeCounts:
    """Lines and customers the merge wrote; `lines_removed` counts deleted lines."""

    lines_added: int = 0
    lines_updated: int = 0
    lines_unchanged: int = 0
    lines_removed: int = 0
    customers_added: int = 0
    customers_updated: int = 0


def summarise(connection: Connection) -> StagedSummary:
    line = STAGED_LINE.c
    row = connection.execute(
        select(
            func.count(),
            func.count(func.distinct(line.customer_id)),
            func.count(func.distinct(line.order_id)),
            func.min(line.order_date),
            func.max(line.order_date),
        )
    ).one()
    unordered = connection.execute(
        select(func.count()).select_from(STAGED_LINE).where(line.order_id.is_(None))
    ).scalar_one()
    return StagedSummary(
        lines=int(row[0]),
        customers=int(row[1]),
        orders=int(row[2]) + int(unordered),
        first_order_date=row[3],
        last_order_date=row[4],
    )


def find_repeated_keys(connection: Connection, column: str, problems: RowMessages) -> None:
    """Add a problem for each staged line whose key repeats an earlier row's key."""
    line = STAGED_LINE.c
    first = (
        select(line.line_key, func.min(line.source_row).label("first_row"))
        .where(line.line_key.is_not(None))
        .group_by(line.line_key)
        .having(func.count() > 1)
        .subquery()
    )
    rows = connection.execute(
        select(line.source_row, line.line_key, first.c.first_row)
        .join(first, first.c.line_key == line.line_key)
        .where(line.source_row > first.c.first_row)
        .order_by(line.source_row)
    ).all()
    for source_row, key, first_row in rows:
        problems.add_one(
            source_row,
            column,
            key,
            f"Row {source_row}, column {column!r}: line id {key!r} repeats row {first_row}. "
            "Remove one of the two rows, or give each line its own id.",
        )


def find_foreign_customers(
    connection: Connection, source: str, column: str, problems: RowMessages
) -> None:
    """Add a problem, at its first row, for each customer that another source owns."""
    line, customer = STAGED_LINE.c, CUSTOMER_TABLE.c
    rows = connection.execute(
        select(line.customer_id, func.min(line.source_row), customer.source)
        .join(CUSTOMER_TABLE, customer.customer_id == line.customer_id)
        .where(customer.source != source)
        .group_by(line.customer_id, customer.source)
        .order_by(func.min(line.source_row))
    ).all()
    for customer_id, first_row, owner in rows:
        problems.add_one(
            first_row,
            column,
            customer_id,
            f"Row {first_row}, column {column!r}: customer id {customer_id!r} already belongs "
            f"to source {owner!r}. A customer belongs to one source only, so delete that "
            "source's rows or change the id in this file.",
        )


def build_profiles(connection: Connection, attributes: list[str]) -> int:
    """Stage each customer's profile from their latest line; return how many had conflicts.

    "Latest" is the latest order date, and among lines of that date the last in the
    file. A conflict is a customer whose lines disagree on a profile value.
    """
    staged = STAGED_CUSTOMER.c
    rank = (
        func.row_number()
        .over(
            partition_by=staged.customer_id,
            order_by=[desc(staged.order_date), desc(staged.source_row)],
        )
        .label("rank")
    )
    ranked = select(staged.customer_id, *(staged[name] for name in attributes), rank).subquery()
    latest = select(ranked.c.customer_id, *(ranked.c[name] for name in attributes)).where(
        ranked.c.rank == 1
    )
    connection.execute(insert(STAGED_PROFILE).from_select(["customer_id", *attributes], latest))
    if not attributes:
        return 0

    # Join the values with control characters that no profile value contains: \x1e
    # stands for NULL and \x1f separates the values.
    joined: ColumnElement[str] = literal("")
    for name in attributes:
        joined = joined + func.coalesce(staged[name], "\x1e") + "\x1f"
    conflicting = (
        select(staged.customer_id)
        .group_by(staged.customer_id)
        .having(func.count(func.distinct(joined)) > 1)
        .subquery()
    )
    return int(connection.execute(select(func.count()).select_from(conflicting)).scalar_one())


def has_unkeyed_lines(connection: Connection, source: str) -> bool:
    """Return True when the source holds lines without a key, which an upsert cannot match."""
    line = ORDER_LINE_TABLE.c
    query = select(line.id).where(line.source == source, line.line_key.is_(None)).limit(1)
    return connection.execute(query).first() is not None


def replace_source(connection: Connection, source: str, attributes: list[str]) -> MergeCounts:
    """Delete the source's lines and customers, then insert the staged ones."""
    removed = connection.execute(
        delete(ORDER_LINE_TABLE).where(ORDER_LINE_TABLE.c.source == source)
    ).rowcount
    connection.execute(delete(CUSTOMER_TABLE).where(CUSTOMER_TABLE.c.source == source))
    customers = _insert_new_customers(connection, source, attributes)
    added = _insert_lines(connection, source, only_new=False)
    return MergeCounts(lines_added=added, lines_removed=removed, customers_added=customers)


def upsert_source(connection: Connection, source: str, attributes: list[str]) -> MergeCounts:
    """Merge the staged lines into the source by line key, keeping its other orders.

    Lines of an order in the file (excluded orders included) that the file no longer
    has are deleted, changed lines are replaced, and equal lines stay untouched.
    """
    order_line, staged = ORDER_LINE_TABLE.c, STAGED_LINE.c
    in_file = or_(
        order_line.order_id.in_(select(staged.order_id).where(staged.order_id.is_not(None))),
        order_line.order_id.in_(select(STAGED_EXCLUDED.c.order_id)),
    )
    same_key = exists().where(staged.line_key == order_line.line_key)
    removed = connection.execute(
        delete(ORDER_LINE_TABLE).where(order_line.source == source, in_file, ~same_key)
    ).rowcount

    equal = and_(*(staged[name].is_not_distinct_from(order_line[name]) for name in _LINE_VALUES))
    changed = exists().where(staged.line_key == order_line.line_key, not_(equal))
    updated = connection.execute(
        delete(ORDER_LINE_TABLE).where(order_line.source == source, changed)
    ).rowcount
    inserted = _insert_lines(connection, source, only_new=True)
    unchanged = _staged_count(connection) - inserted

    customers_added = _insert_new_customers(connection, source, attributes)
    customers_updated = _update_customers(connection, source, attributes)
    return MergeCounts(
        lines_added=inserted - updated,
        lines_updated=updated,
        lines_unchanged=unchanged,
        lines_removed=removed,
        customers_added=customers_added,
        customers_updated=customers_updated,
    )


def _staged_count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(STAGED_LINE)).scalar_one())


def _insert_lines(connection: Connection, source: str, only_new: bool) -> int:
    staged, order_line = STAGED_LINE.c, ORDER_LINE_TABLE.c
    query = select(literal(source), *(staged[name] for name in _LINE_VALUES), staged.line_key)
    if only_new:
        known = exists().where(order_line.source == source, order_line.line_key == staged.line_key)
        query = query.where(~known)
    count = _count(connection, query)
    query = query.order_by(staged.source_row, staged.quantity.desc())
    columns = ["source", *_LINE_VALUES, "line_key"]
    connection.execute(insert(ORDER_LINE_TABLE).from_select(columns, query))
    return count


def _insert_new_customers(connection: Connection, source: str, attributes: list[str]) -> int:
    profile, customer = STAGED_PROFILE.c, CUSTOMER_TABLE.c
    known = exists().where(customer.customer_id == profile.customer_id)
    query = select(
        profile.customer_id, literal(source), *(profile[name] for name in attributes)
    ).where(~known)
    count = _count(connection, query)
    columns = ["customer_id", "source", *attributes]
    connection.execute(
        insert(CUSTOMER_TABLE).from_select(columns, query.order_by(profile.customer_id))
    )
    return count


def _count(connection: Connection, query: Select[Any]) -> int:
    """Count the rows of `query`, because the rowcount of an INSERT … SELECT was -1 with psycopg."""
    counted = select(func.count()).select_from(query.subquery())
    return int(connection.execute(counted).scalar_one())


def _update_customers(connection: Connection, source: str, attributes: list[str]) -> int:
    """Set the profile attributes the file declares to the staged values, where they differ."""
    if not attributes:
        return 0
    profile, customer = STAGED_PROFILE.c, CUSTOMER_TABLE.c
    matching = profile.customer_id == customer.customer_id
    equal = and_(*(profile[name].is_not_distinct_from(customer[name]) for name in attributes))
    values = {name: select(profile[name]).where(matching).scalar_subquery() for name in attributes}
    statement = (
        update(CUSTOMER_TABLE)
        .where(customer.source == source, exists().where(matching, not_(equal)))
        .values(values)
    )
    return int(connection.execute(statement).rowcount)
