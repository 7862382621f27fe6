"""Exact statistics of an attribute over all rows of its entity, for value pickers.

Everything is computed by the database: counts, minimum and maximum, quartiles
(linear interpolation between the two nearest ranks, as in PostgreSQL's
percentile_cont and pandas' default quantile) and the most frequent values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, func, select

from server.segments.introspect import Attribute, Entity
from server.segments.operators import AttributeType

QUARTILES = (0.25, 0.5, 0.75)
DEFAULT_TOP_VALUES = 10
MAX_TOP_VALUES = 100


@dataclass(frozen=True)
class ValueCount:
    """A value of an attribute and the number of rows holding it."""

    value: Any
    count: int


@dataclass(frozen=True)
class AttributeStatistics:
    """Counts, range, quartiles and most frequent values of one attribute."""

    row_count: int
    null_count: int
    distinct_count: int
    minimum: Any = None
    maximum: Any = None
    quartiles: list[float] | None = None
    top_values: list[ValueCount] = field(default_factory=list)


def attribute_statistics(
    connection: Connection,
    entity: Entity,
    attribute: Attribute,
    top_values: int = DEFAULT_TOP_VALUES,
) -> AttributeStatistics:
    """Compute the statistics of `attribute` over every row of `entity`.

    Numbers and dates get minimum and maximum, numbers also quartiles; text and
    booleans get their `top_values` most frequent non-null values, ties by value.
    """
    table = entity.table
    column = table.c[attribute.name]
    data_type = attribute.data_type
    ordered = data_type not in (AttributeType.STRING, AttributeType.BOOLEAN)

    measures: list[Any] = [func.count(), func.count(column), func.count(column.distinct())]
    if ordered:
        measures += [func.min(column), func.max(column)]
    row = connection.execute(select(*measures).select_from(table)).one()
    row_count, present, distinct = (int(value) for value in row[:3])
    minimum, maximum = (row[3], row[4]) if ordered else (None, None)
    statistics = AttributeStatistics(row_count, row_count - present, distinct, minimum, maximum)

    if data_type is AttributeType.NUMBER and present:
        return replace(statistics, quartiles=_quartiles(connection, entity, attribute, present))
    if not ordered:
        limit = max(0, min(top_values, MAX_TOP_VALUES))
        return replace(statistics, top_values=_top_values(connection, entity, attribute, limit))
    return statistics


def _quartiles(
    connection: Connection, entity: Entity, attribute: Attribute, present: int
) -> list[float]:
    column = entity.table.c[attribute.name]
    ranked = (
        select(column.label("value"), func.row_number().over(order_by=column).label("rank"))
        .where(column.is_not(None))
        .subquery()
    )
    # Rank r (1-based) is the value at position r - 1 of the sorted values.
    positions = [(present - 1) * quantile for quantile in QUARTILES]
    wanted = {math.floor(position) + 1 for position in positions}
    wanted |= {math.ceil(position) + 1 for position in positions}
    rows = connection.execute(
        select(ranked.c.rank, ranked.c.value).where(ranked.c.rank.in_(sorted(wanted)))
    ).all()
    by_rank = {int(rank): float(value) for rank, value in rows}

    quartiles = []
    for position in positions:
        low = by_rank[math.floor(position) + 1]
        high = by_rank[math.ceil(position) + 1]
        quartiles.append(low + (position - math.floor(position)) * (high - low))
    return quartiles


def _top_values(
    connection: Connection, entity: Entity, attribute: Attribute, limit: int
) -> list[ValueCount]:
    column = entity.table.c[attribute.name]
    count = func.count().label("count")
    rows = connection.execute(
        select(column, count)
        .where(column.is_not(None))
        .group_by(column)
        .order_by(count.desc(), column)
        .limit(limit)
    ).all()
    return [ValueCount(value, int(frequency)) for value, frequency in rows]
