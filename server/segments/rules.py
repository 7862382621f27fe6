"""Segment conditions: attribute, operator and values, checked and coerced against an entity.

Validation never raises for a user's mistake: it returns a list of `InputProblem`s,
each with a field path such as `conditions.0.value`, so every problem in a request is
reported at once and nothing is written while any remains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from server.segments.introspect import Attribute, Entity
from server.segments.operators import (
    DAY_COUNT,
    LIST_VALUE,
    NO_VALUE,
    PAIR_VALUE,
    PERCENT,
    AttributeType,
    Operator,
)

MAX_CONDITIONS = 50
MAX_LIST_VALUES = 1000
MAX_STRING_LENGTH = 1000
# Both SQLite and PostgreSQL store integers in 64 bits; a larger bound value would
# overflow the driver instead of comparing.
MAX_INTEGER = 2**63 - 1


@dataclass(frozen=True)
class InputProblem:
    """A mistake in a request that the user can fix."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class Condition:
    """A condition as requested: attribute name, operator and raw JSON value(s)."""

    attribute: str
    operator: Operator
    value: Any = None
    values: list[Any] | None = None
    case_insensitive: bool = False
    # None means the segment's base entity, usually the prediction's output entity.
    entity: str | None = None


@dataclass(frozen=True)
class CheckedCondition:
    """A condition whose attribute exists and whose values have the attribute's type."""

    attribute: Attribute
    operator: Operator
    values: tuple[Any, ...] = ()
    case_insensitive: bool = False
    entity: str = ""


@dataclass(frozen=True)
class Rule:
    """Conditions joined by AND or OR."""

    combinator: str
    conditions: list[Condition] = field(default_factory=list)


def check_condition(
    condition: Condition, entity: Entity, path: str
) -> CheckedCondition | list[InputProblem]:
    """Check one condition against `entity`; return it checked and coerced, or its problems."""
    attribute = entity.attributes.get(condition.attribute)
    if attribute is None:
        valid = ", ".join(entity.attribute_names)
        return [
            InputProblem(
                f"{path}.attribute",
                "UNKNOWN_ATTRIBUTE",
                f"unknown attribute {_shorten(condition.attribute)!r} on entity {entity.name}; "
                f"valid: {valid}",
            )
        ]
    if condition.operator not in attribute.operators:
        valid = ", ".join(operator.value for operator in attribute.operators)
        return [
            InputProblem(
                f"{path}.operator",
                "INVALID_OPERATOR",
                f"operator {condition.operator.value} is not valid for {attribute.name} "
                f"({attribute.data_type.value}); valid: {valid}",
            )
        ]
    if condition.case_insensitive and attribute.data_type is not AttributeType.STRING:
        return [
            InputProblem(
                f"{path}.caseInsensitive",
                "INVALID",
                f"caseInsensitive applies to text attributes only, and {attribute.name} "
                f"is {attribute.data_type.value}",
            )
        ]
    values = _check_values(condition, attribute, path)
    if isinstance(values, InputProblem):
        return [values]
    return CheckedCondition(
        attribute, condition.operator, values, condition.case_insensitive, entity.name
    )


def _check_values(
    condition: Condition, attribute: Attribute, path: str
) -> tuple[Any, ...] | InputProblem:
    operator = condition.operator
    if operator in NO_VALUE:
        if condition.value is not None or condition.values:
            return InputProblem(
                f"{path}.value", "UNEXPECTED_VALUE", f"operator {operator.value} takes no value"
            )
        return ()

    if operator in LIST_VALUE or operator in PAIR_VALUE:
        raw = condition.values
        if raw is None and isinstance(condition.value, list):
            raw = condition.value
        if raw is None:
            return InputProblem(
                f"{path}.values", "REQUIRED", f"operator {operator.value} needs a list in 'values'"
            )
        if operator in PAIR_VALUE and len(raw) != 2:
            return InputProblem(
                f"{path}.values",
                "INVALID",
                f"BETWEEN needs exactly two values [low, high], got {len(raw)}",
            )
        if operator in LIST_VALUE and not 1 <= len(raw) <= MAX_LIST_VALUES:
            return InputProblem(
                f"{path}.values",
                "INVALID",
                f"{operator.value} needs 1 to {MAX_LIST_VALUES} values, got {len(raw)}",
            )
        coerced = []
        for index, item in enumerate(raw):
            value = coerce_value(item, attribute, f"{path}.values.{index}")
            if isinstance(value, InputProblem):
                return value
            coerced.append(value)
        if operator in PAIR_VALUE and coerced[0] > coerced[1]:
            return InputProblem(
                f"{path}.values",
                "INVALID",
                f"BETWEEN needs low <= high, got {_shown(coerced[0])} and "
                f"{_shown(coerced[1])}; swap the two values",
            )
        return tuple(coerced)

    if condition.values:
        return InputProblem(
            f"{path}.values",
            "UNEXPECTED_VALUE",
            f"operator {operator.value} takes one 'value', not a list in 'values'",
        )
    if operator in DAY_COUNT:
        return _positive_number(condition.value, f"{path}.value", "a number of days", 36_500)
    if operator in PERCENT:
        return _positive_number(condition.value, f"{path}.value", "a percentage", 100)
    value = coerce_value(condition.value, attribute, f"{path}.value")
    if isinstance(value, InputProblem):
        return value
    return (value,)


def _positive_number(raw: Any, path: str, what: str, maximum: float) -> tuple[float] | InputProblem:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= maximum:
        return InputProblem(
            path,
            "INVALID_VALUE",
            f"expected {what} greater than 0 and at most {maximum}, got {_shorten(raw)!r}",
        )
    return (float(raw),)


def coerce_value(raw: Any, attribute: Attribute, path: str) -> Any:
    """Return `raw` as a value of the attribute's type, or an InputProblem saying why not."""
    data_type = attribute.data_type
    expected = {
        AttributeType.NUMBER: "a number",
        AttributeType.STRING: "a string",
        AttributeType.BOOLEAN: "true or false",
        AttributeType.DATE: "an ISO date such as 2024-01-31",
        AttributeType.DATETIME: "an ISO date and time such as 2024-01-31T12:00:00",
    }[data_type]
    problem = InputProblem(
        path,
        "INVALID_VALUE",
        f"{attribute.name} is {data_type.value}: expected {expected}, got {_shorten(raw)!r}",
    )
    if raw is None:
        return InputProblem(path, "REQUIRED", f"a value for {attribute.name} is required")

    if data_type is AttributeType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            return problem
        if isinstance(raw, int) and abs(raw) > MAX_INTEGER:
            return InputProblem(
                path, "OUT_OF_RANGE", f"{attribute.name} values must lie within ±{MAX_INTEGER}"
            )
        return raw
    if data_type is AttributeType.STRING:
        if not isinstance(raw, str):
            return problem
        if len(raw) > MAX_STRING_LENGTH:
            return InputProblem(
                path, "TOO_LONG", f"text values are limited to {MAX_STRING_LENGTH} characters"
            )
        if "\x00" in raw:
            # PostgreSQL text cannot contain NUL, so such a value could never match.
            return InputProblem(path, "INVALID_VALUE", "text values may not contain NUL characters")
        return raw
    if data_type is AttributeType.BOOLEAN:
        return raw if isinstance(raw, bool) else problem
    if not isinstance(raw, str):
        return problem
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return problem
    if data_type is AttributeType.DATE:
        return parsed.date() if isinstance(parsed, datetime) else date.fromisoformat(raw)
    # Entity tables store naive UTC timestamps, so an offset given by the user is applied.
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC).replace(tzinfo=None)


def _shown(value: Any) -> str:
    """Show a coerced value as the user would type it."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return repr(value)


def _shorten(raw: Any, limit: int = 80) -> Any:
    """Cut long input before echoing it back in a message."""
    if isinstance(raw, str) and len(raw) > limit:
        return raw[:limit] + "…"
    return raw
