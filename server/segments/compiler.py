"""Compiling a checked rule into one SQL statement that selects the matching customers.

Identifiers come only from the reflected table and every value is a bound
parameter. An entity with several rows per customer matches a customer when at
least one row matches, hence `SELECT DISTINCT "CustomerId"`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from server.segments.introspect import Entity
from server.segments.operators import AttributeType, Operator
from server.segments.rules import CheckedCondition, CheckedRule

CUSTOMER_ID = "CustomerId"


def compile_members(entity: Entity, rule: CheckedRule, now: datetime) -> Select[Any]:
    """Return `SELECT DISTINCT CustomerId` of the rows of `entity` that satisfy `rule`.

    `now` is the evaluation time for relative date operators, as naive UTC.
    """
    table = entity.table
    ranks: dict[int, ColumnElement[Any]] = {}
    for index, condition in enumerate(rule.conditions):
        if condition.operator in (Operator.TOP_PERCENT, Operator.BOTTOM_PERCENT):
            ranks[index] = _percent_rank(table.c[condition.attribute.name], condition.operator)

    labelled = [rank.label(f"rank_{index}") for index, rank in ranks.items()]
    source = select(table, *labelled).subquery("entity")

    expressions = []
    for index, condition in enumerate(rule.conditions):
        column = source.c[condition.attribute.name]
        if index in ranks:
            expressions.append(
                and_(column.is_not(None), source.c[f"rank_{index}"] <= condition.values[0] / 100)
            )
        else:
            expressions.append(condition_expression(column, condition, now))
    where = and_(*expressions) if rule.combinator == "AND" else or_(*expressions)
    return select(source.c[CUSTOMER_ID]).where(where).distinct()


def _percent_rank(column: KeyedColumnElement[Any], operator: Operator) -> ColumnElement[Any]:
    # The cumulative distribution counts tied values together, so a tie at the
    # boundary is either wholly in or wholly out. Nulls form their own partition
    # and never count toward the percentage of the others.
    order = column.desc() if operator is Operator.TOP_PERCENT else column.asc()
    return func.cume_dist().over(partition_by=column.is_(None), order_by=order)


def condition_expression(
    column: KeyedColumnElement[Any], condition: CheckedCondition, now: datetime
) -> ColumnElement[bool]:
    """Build the boolean SQL expression of one condition on `column`."""
    operator = condition.operator
    values = condition.values
    if condition.case_insensitive:
        column = func.lower(column)  # type: ignore[assignment]
        values = tuple(value.lower() for value in values)

    match operator:
        case Operator.EQ:
            return column == values[0]
        case Operator.NE:
            return and_(column.is_not(None), column != values[0])
        case Operator.GT | Operator.AFTER:
            return column > values[0]
        case Operator.GTE:
            return column >= values[0]
        case Operator.LT | Operator.BEFORE:
            return column < values[0]
        case Operator.LTE:
            return column <= values[0]
        case Operator.BETWEEN:
            return column.between(values[0], values[1])
        case Operator.IN:
            return column.in_(values)
        case Operator.NOT_IN:
            return and_(column.is_not(None), column.not_in(values))
        case Operator.IS_NULL:
            return column.is_(None)
        case Operator.IS_NOT_NULL:
            return column.is_not(None)
        case Operator.CONTAINS:
            return column.contains(values[0], autoescape=True)
        case Operator.STARTS_WITH:
            return column.startswith(values[0], autoescape=True)
        case Operator.ENDS_WITH:
            return column.endswith(values[0], autoescape=True)
        case Operator.IS_EMPTY:
            return or_(column.is_(None), column == literal(""))
        case Operator.IS_NOT_EMPTY:
            return and_(column.is_not(None), column != literal(""))
        case Operator.IS_TRUE:
            return column == true()
        case Operator.IS_FALSE:
            return column == false()
        case Operator.IN_LAST_DAYS:
            start, end = _window(condition, values[0], now)
            return column.between(start, end)
        case Operator.NOT_IN_LAST_DAYS:
            start, _end = _window(condition, values[0], now)
            return column < start
    raise ValueError(f"operator {operator.value} is not handled by the compiler")


def _window(condition: CheckedCondition, days: float, now: datetime) -> tuple[Any, Any]:
    start = now - timedelta(days=days)
    if condition.attribute.data_type is AttributeType.DATE:
        return start.date(), now.date()
    return start, now
