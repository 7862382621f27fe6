"""Product filters: a small JSON tree of conditions on catalog attributes.

A node is a group, `{"all": [...]}` (AND), `{"any": [...]}` (OR) or `{"not": node}`,
or a condition `{"attribute": "category", "operator": "EQ", "value": "Furniture"}`.
IN and NOT_IN take a list in `values`; IS_NULL and IS_NOT_NULL take no value.

Attributes are the catalog columns `product_id`, `name`, `category` and
`sub_category`, or a key of the catalog's further attributes written as
`attributes.<key>` (for example `attributes.brand`). Those keys depend on the catalog
that is loaded, so they are checked when a run reads it, not here.

A condition on a missing value is false, and `not` negates that, so
`{"not": {"attribute": "category", "operator": "EQ", "value": "Furniture"}}` keeps
products without a category.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

CATALOG_ATTRIBUTES = ("product_id", "name", "category", "sub_category")
FURTHER_PREFIX = "attributes."
MAX_DEPTH = 5
MAX_CONDITIONS = 50

TEXT_OPERATORS = ("CONTAINS", "STARTS_WITH", "ENDS_WITH")
NUMBER_OPERATORS = ("GT", "GTE", "LT", "LTE")
LIST_OPERATORS = ("IN", "NOT_IN")
NULL_OPERATORS = ("IS_NULL", "IS_NOT_NULL")
OPERATORS = ("EQ", "NE", *LIST_OPERATORS, *TEXT_OPERATORS, *NUMBER_OPERATORS, *NULL_OPERATORS)
GROUP_KEYS = ("all", "any", "not")


@dataclass(frozen=True)
class FilterCondition:
    attribute: str
    operator: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class FilterGroup:
    """Children joined by AND (`combinator` "all") or OR ("any"), negated when `negate`."""

    combinator: str
    children: tuple[FilterNode, ...]
    negate: bool = False


FilterNode = FilterCondition | FilterGroup


def _is_scalar(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and _is_scalar(value)


class _Parser:
    """Walk a raw filter tree, collecting one problem per bad node under its path."""

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}
        self.conditions = 0

    def node(self, raw: object, path: str, depth: int) -> FilterNode | None:
        if depth > MAX_DEPTH:
            self.problems[path] = f"groups nest at most {MAX_DEPTH} levels deep; flatten this one"
            return None
        if not isinstance(raw, Mapping):
            self.problems[path] = (
                "must be an object: a group with 'all', 'any' or 'not', or a condition "
                f"with 'attribute' and 'operator', got {raw!r}"
            )
            return None
        groups = [key for key in GROUP_KEYS if key in raw]
        if groups:
            return self.group(raw, groups, path, depth)
        return self.condition(raw, path)

    def group(
        self, raw: Mapping[str, Any], keys: list[str], path: str, depth: int
    ) -> FilterGroup | None:
        if len(raw) != 1:
            self.problems[path] = (
                f"a group has exactly one key of {', '.join(GROUP_KEYS)}, got {sorted(raw)}"
            )
            return None
        key = keys[0]
        if key == "not":
            child = self.node(raw["not"], f"{path}.not", depth + 1)
            return None if child is None else FilterGroup("all", (child,), negate=True)

        items = raw[key]
        if not isinstance(items, list) or not items:
            self.problems[f"{path}.{key}"] = f"must be a non-empty list of nodes, got {items!r}"
            return None
        children = [self.node(item, f"{path}.{key}.{i}", depth + 1) for i, item in enumerate(items)]
        if any(child is None for child in children):
            return None
        return FilterGroup(key, tuple(child for child in children if child is not None))

    def condition(self, raw: Mapping[str, Any], path: str) -> FilterCondition | None:
        self.conditions += 1
        unknown = sorted(set(raw) - {"attribute", "operator", "value", "values"})
        if unknown:
            self.problems[f"{path}.{unknown[0]}"] = (
                "unknown key; a condition has attribute, operator and value or values"
            )
        attribute = self.attribute(raw.get("attribute"), f"{path}.attribute")
        operator = raw.get("operator")
        if operator not in OPERATORS:
            self.problems[f"{path}.operator"] = (
                f"unknown operator {operator!r}; valid: {', '.join(OPERATORS)}"
            )
            return None
        values = self.values(raw, str(operator), path)
        if attribute is None or values is None:
            return None
        return FilterCondition(attribute, str(operator), values)

    def attribute(self, raw: object, path: str) -> str | None:
        if isinstance(raw, str) and raw in CATALOG_ATTRIBUTES:
            return raw
        if (
            isinstance(raw, str)
            and raw.startswith(FURTHER_PREFIX)
            and len(raw) > len(FURTHER_PREFIX)
        ):
            return raw
        self.problems[path] = (
            f"unknown attribute {raw!r}; valid: {', '.join(CATALOG_ATTRIBUTES)}, "
            f"or {FURTHER_PREFIX}<key> for a further catalog attribute"
        )
        return None

    def values(self, raw: Mapping[str, Any], operator: str, path: str) -> tuple[Any, ...] | None:
        if operator in NULL_OPERATORS:
            return ()
        if operator in LIST_OPERATORS:
            listed = raw.get("values")
            if not isinstance(listed, list) or not listed or not all(map(_is_scalar, listed)):
                self.problems[f"{path}.values"] = (
                    f"{operator} needs 'values', a non-empty list of strings or numbers, "
                    f"got {listed!r}"
                )
                return None
            return tuple(listed)

        value = raw.get("value")
        if operator in NUMBER_OPERATORS and not _is_number(value):
            self.problems[f"{path}.value"] = f"{operator} needs a number, got {value!r}"
            return None
        if operator in TEXT_OPERATORS and not (isinstance(value, str) and value):
            self.problems[f"{path}.value"] = f"{operator} needs a non-empty string, got {value!r}"
            return None
        if not _is_scalar(value):
            self.problems[f"{path}.value"] = (
                f"{operator} needs a string, number or boolean 'value', got {value!r}"
            )
            return None
        return (value,)


def parse_filters(
    raw: object, path: str = "product_filters"
) -> tuple[FilterNode | None, dict[str, str]]:
    """Parse a raw filter tree; return the tree and the problems, keyed by their path.

    The tree is None when there are problems. Each bad attribute, operator and value
    gets its own entry, such as `product_filters.any.1.operator`.
    """
    parser = _Parser()
    tree = parser.node(raw, path, depth=1)
    if parser.conditions > MAX_CONDITIONS:
        parser.problems[path] = (
            f"at most {MAX_CONDITIONS} conditions, got {parser.conditions}; "
            "use IN with a list of values in place of many EQ conditions"
        )
    if parser.problems:
        return None, parser.problems
    return tree, {}


def filter_attributes(node: FilterNode) -> set[str]:
    """Return the attribute names that the conditions of `node` read."""
    if isinstance(node, FilterCondition):
        return {node.attribute}
    names: set[str] = set()
    for child in node.children:
        names |= filter_attributes(child)
    return names


def _text(column: pd.Series) -> pd.Series:
    return column.where(column.isna(), column.astype(str))


def _condition_mask(condition: FilterCondition, column: pd.Series) -> np.ndarray:
    present = column.notna().to_numpy()
    operator, values = condition.operator, condition.values
    if operator == "IS_NULL":
        return ~present
    if operator == "IS_NOT_NULL":
        return present

    if operator in NUMBER_OPERATORS:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        bound = float(values[0])
        with np.errstate(invalid="ignore"):
            compared = {
                "GT": numbers > bound,
                "GTE": numbers >= bound,
                "LT": numbers < bound,
                "LTE": numbers <= bound,
            }[operator]
        return compared & ~np.isnan(numbers)

    if operator in TEXT_OPERATORS:
        text = _text(column).fillna("")
        method = {"CONTAINS": "contains", "STARTS_WITH": "startswith", "ENDS_WITH": "endswith"}
        if operator == "CONTAINS":
            found = text.str.contains(str(values[0]), regex=False)
        else:
            found = getattr(text.str, method[operator])(str(values[0]))
        return found.to_numpy(dtype=bool) & present

    member = column.isin(list(values)).to_numpy(dtype=bool)
    if operator in ("EQ", "IN"):
        return member & present
    return ~member & present


def filter_mask(node: FilterNode, catalog: pd.DataFrame) -> np.ndarray:
    """Return which rows of `catalog` pass `node`; its columns are the attribute names."""
    if isinstance(node, FilterCondition):
        return _condition_mask(node, catalog[node.attribute])

    masks = [filter_mask(child, catalog) for child in node.children]
    combined = (
        np.logical_and.reduce(masks) if node.combinator == "all" else np.logical_or.reduce(masks)
    )
    return ~combined if node.negate else combined
