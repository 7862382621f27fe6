"""A plain pandas evaluation of segment definitions, to compare the SQL with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from server.segments.compiler import fold_ascii
from server.segments.definition import Definition, Group, SetOperator
from server.segments.operators import Operator
from server.segments.rules import Condition


def _text(series: pd.Series, condition: Condition) -> pd.Series:
    if condition.case_insensitive:
        return series.map(lambda value: fold_ascii(value) if isinstance(value, str) else value)
    return series


def _fold(value: Any, condition: Condition) -> Any:
    if condition.case_insensitive and isinstance(value, str):
        return fold_ascii(value)
    return value


def row_matches(frame: pd.DataFrame, condition: Condition, now: datetime) -> pd.Series:
    """Return, per row, whether SQL would find the condition TRUE (NULL counts as false)."""
    column = _text(frame[condition.attribute].astype(object), condition)
    present = column.notna()
    value = _fold(condition.value, condition)
    values = [_fold(item, condition) for item in condition.values or []]
    operator = condition.operator

    def compare(test: Callable[[Any], bool]) -> pd.Series:
        return pd.Series(
            [bool(ok) and test(item) for item, ok in zip(column, present, strict=True)],
            index=frame.index,
            dtype=bool,
        )

    if operator in (Operator.BEFORE, Operator.AFTER, Operator.BETWEEN) and isinstance(
        value or (values[0] if values else None), str
    ):
        value = datetime.fromisoformat(str(value)) if isinstance(value, str) else value
        values = [datetime.fromisoformat(item) for item in values]

    match operator:
        case Operator.EQ:
            return compare(lambda item: item == value)
        case Operator.NE:
            return compare(lambda item: item != value)
        case Operator.GT | Operator.AFTER:
            return compare(lambda item: item > value)
        case Operator.GTE:
            return compare(lambda item: item >= value)
        case Operator.LT | Operator.BEFORE:
            return compare(lambda item: item < value)
        case Operator.LTE:
            return compare(lambda item: item <= value)
        case Operator.BETWEEN:
            return compare(lambda item: values[0] <= item <= values[1])
        case Operator.IN:
            return compare(lambda item: item in values)
        case Operator.NOT_IN:
            return compare(lambda item: item not in values)
        case Operator.IS_NULL:
            return ~present
        case Operator.IS_NOT_NULL:
            return present
        case Operator.CONTAINS:
            return compare(lambda item: value in item)
        case Operator.STARTS_WITH:
            return compare(lambda item: item.startswith(value))
        case Operator.ENDS_WITH:
            return compare(lambda item: item.endswith(value))
        case Operator.IS_EMPTY:
            return ~present | (column == "")
        case Operator.IS_NOT_EMPTY:
            return compare(lambda item: item != "")
        case Operator.IS_TRUE:
            return compare(lambda item: item is True or item == 1)
        case Operator.IS_FALSE:
            return compare(lambda item: item is False or item == 0)
        case Operator.IN_LAST_DAYS:
            start = now - timedelta(days=value)
            return compare(lambda item: start <= item <= now)
        case Operator.NOT_IN_LAST_DAYS:
            start = now - timedelta(days=value)
            return compare(lambda item: item < start)
        case Operator.TOP_PERCENT | Operator.BOTTOM_PERCENT:
            numbers = pd.to_numeric(frame[condition.attribute], errors="coerce")
            ascending = operator is Operator.BOTTOM_PERCENT
            rank = numbers.rank(method="max", ascending=ascending, pct=True)
            return (rank <= value / 100).fillna(False).astype(bool)
    raise AssertionError(f"the oracle does not know {operator}")


def _group_customers(
    group: Group,
    frames: dict[str, pd.DataFrame],
    base: str,
    population: set[str],
    now: datetime,
) -> set[str]:
    parts: list[set[str]] = []
    by_entity: dict[str, list[Condition]] = {}
    for condition in group.conditions:
        by_entity.setdefault(condition.entity or base, []).append(condition)
    for entity, conditions in by_entity.items():
        frame = frames[entity]
        masks = [row_matches(frame, condition, now) for condition in conditions]
        combined = masks[0]
        for mask in masks[1:]:
            combined = (combined & mask) if group.combinator == "AND" else (combined | mask)
        parts.append(set(frame.CustomerId[combined].dropna()))
    parts += [_group_customers(nested, frames, base, population, now) for nested in group.groups]

    joined = set.intersection(*parts) if group.combinator == "AND" else set.union(*parts)
    return population - joined if group.negate else joined


def evaluate(
    definition: Definition, frames: dict[str, pd.DataFrame], base: str, now: datetime
) -> tuple[set[str], list[int]]:
    """Return the members of `definition` and the size of each rule on its own."""
    population = set(frames[base].CustomerId.dropna())
    per_rule = [
        _group_customers(rule.group, frames, base, population, now) & population
        for rule in definition.rules
    ]
    members = per_rule[0]
    for rule, customers in zip(definition.rules[1:], per_rule[1:], strict=True):
        if rule.set_operator is SetOperator.UNION:
            members = members | customers
        elif rule.set_operator is SetOperator.INTERSECT:
            members = members & customers
        else:
            members = members - customers
    return members, [len(customers) for customers in per_rule]
