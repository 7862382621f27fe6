"""Attribute data types and the operators valid for each."""

from __future__ import annotations

from enum import Enum


class AttributeType(Enum):
    NUMBER = "NUMBER"
    STRING = "STRING"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"


class Operator(Enum):
    EQ = "EQ"
    NE = "NE"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    BETWEEN = "BETWEEN"
    IN = "IN"
    NOT_IN = "NOT_IN"
    IS_NULL = "IS_NULL"
    IS_NOT_NULL = "IS_NOT_NULL"
    CONTAINS = "CONTAINS"
    STARTS_WITH = "STARTS_WITH"
    ENDS_WITH = "ENDS_WITH"
    IS_EMPTY = "IS_EMPTY"
    IS_NOT_EMPTY = "IS_NOT_EMPTY"
    IS_TRUE = "IS_TRUE"
    IS_FALSE = "IS_FALSE"
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    IN_LAST_DAYS = "IN_LAST_DAYS"
    NOT_IN_LAST_DAYS = "NOT_IN_LAST_DAYS"
    TOP_PERCENT = "TOP_PERCENT"
    BOTTOM_PERCENT = "BOTTOM_PERCENT"


_NULL_CHECKS = [Operator.IS_NULL, Operator.IS_NOT_NULL]
_DATE_OPERATORS = [
    Operator.BEFORE,
    Operator.AFTER,
    Operator.BETWEEN,
    Operator.IN_LAST_DAYS,
    Operator.NOT_IN_LAST_DAYS,
    *_NULL_CHECKS,
]

OPERATORS_BY_TYPE: dict[AttributeType, list[Operator]] = {
    AttributeType.NUMBER: [
        Operator.EQ,
        Operator.NE,
        Operator.GT,
        Operator.GTE,
        Operator.LT,
        Operator.LTE,
        Operator.BETWEEN,
        Operator.IN,
        Operator.NOT_IN,
        Operator.TOP_PERCENT,
        Operator.BOTTOM_PERCENT,
        *_NULL_CHECKS,
    ],
    AttributeType.STRING: [
        Operator.EQ,
        Operator.NE,
        Operator.IN,
        Operator.NOT_IN,
        Operator.CONTAINS,
        Operator.STARTS_WITH,
        Operator.ENDS_WITH,
        Operator.IS_EMPTY,
        Operator.IS_NOT_EMPTY,
        *_NULL_CHECKS,
    ],
    AttributeType.BOOLEAN: [Operator.IS_TRUE, Operator.IS_FALSE, *_NULL_CHECKS],
    AttributeType.DATE: _DATE_OPERATORS,
    AttributeType.DATETIME: _DATE_OPERATORS,
}

NO_VALUE = {
    Operator.IS_NULL,
    Operator.IS_NOT_NULL,
    Operator.IS_EMPTY,
    Operator.IS_NOT_EMPTY,
    Operator.IS_TRUE,
    Operator.IS_FALSE,
}
LIST_VALUE = {Operator.IN, Operator.NOT_IN}
PAIR_VALUE = {Operator.BETWEEN}
DAY_COUNT = {Operator.IN_LAST_DAYS, Operator.NOT_IN_LAST_DAYS}
PERCENT = {Operator.TOP_PERCENT, Operator.BOTTOM_PERCENT}
