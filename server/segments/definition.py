"""Segment definitions: rules made of nested condition groups, combined as sets.

A definition is a list of rules. Each rule is a tree of condition groups joined by AND
or OR, any of which may be negated, and each rule after the first combines with the
customers selected so far by UNION, INTERSECT or EXCEPT, from left to right.

The flat form of the original API (a combinator and a list of conditions) is a
definition with one rule whose root group holds the conditions; its problems keep
the field paths `conditions.N…`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from server.segments.introspect import Entity, EntityCatalog, EntityNotFound
from server.segments.operators import Operator
from server.segments.rules import (
    MAX_CONDITIONS,
    CheckedCondition,
    Condition,
    InputProblem,
    Rule,
    check_condition,
)

MAX_GROUP_DEPTH = 5
MAX_RULES = 10
COMBINATORS = ("AND", "OR")


class SetOperator(Enum):
    """The set operation that joins a rule to the customers the rules before it selected."""

    UNION = "UNION"
    INTERSECT = "INTERSECT"
    EXCEPT = "EXCEPT"


@dataclass(frozen=True)
class Group:
    """Conditions and nested groups joined by one combinator, optionally negated."""

    combinator: str = "AND"
    negate: bool = False
    conditions: list[Condition] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)


@dataclass(frozen=True)
class SegmentRule:
    """A root group and how the rule combines with the rules before it."""

    group: Group
    set_operator: SetOperator = SetOperator.UNION


@dataclass(frozen=True)
class Definition:
    """The rules of a segment; `flat` marks the original one-list form."""

    rules: list[SegmentRule]
    flat: bool = False

    @classmethod
    def from_rule(cls, rule: Rule) -> Definition:
        return cls([SegmentRule(Group(rule.combinator, False, list(rule.conditions)))], flat=True)


@dataclass(frozen=True)
class CheckedGroup:
    combinator: str
    negate: bool
    conditions: list[CheckedCondition]
    groups: list[CheckedGroup]


@dataclass(frozen=True)
class CheckedRule:
    group: CheckedGroup
    set_operator: SetOperator


@dataclass(frozen=True)
class CheckedDefinition:
    """A definition whose every condition is checked, with the entities it reads."""

    rules: list[CheckedRule]
    entities: dict[str, Entity]

    @property
    def entity_names(self) -> list[str]:
        return sorted(self.entities)


class _Checker:
    """Walk a definition, collecting problems and the entities its conditions name."""

    def __init__(self, base: Entity, catalog: EntityCatalog) -> None:
        self.base = base
        self.catalog = catalog
        self.entities: dict[str, Entity] = {base.name: base}
        self.unknown: set[str] = set()
        self.problems: list[InputProblem] = []
        self.condition_count = 0

    def entity(self, name: str | None, path: str) -> Entity | None:
        if name is None or name == self.base.name:
            return self.base
        if name in self.entities:
            return self.entities[name]
        try:
            found = self.catalog.get(name)
        except EntityNotFound:
            valid = ", ".join(self.catalog.names())
            self.problems.append(
                InputProblem(
                    path, "UNKNOWN_ENTITY", f"unknown entity {name[:80]!r}; valid: {valid}"
                )
            )
            return None
        self.entities[name] = found
        return found

    def group(self, group: Group, prefix: str, depth: int) -> CheckedGroup | None:
        where = prefix.rstrip(".") or "conditions"
        if depth > MAX_GROUP_DEPTH:
            self.problems.append(
                InputProblem(
                    where,
                    "TOO_DEEP",
                    f"condition groups nest at most {MAX_GROUP_DEPTH} levels deep "
                    "(MAX_GROUP_DEPTH); flatten the innermost groups",
                )
            )
            return None
        if group.combinator not in COMBINATORS:
            self.problems.append(
                InputProblem(
                    f"{prefix}combinator",
                    "INVALID",
                    f"unknown combinator {group.combinator!r}; valid: AND, OR",
                )
            )
        if not group.conditions and not group.groups:
            self.problems.append(
                InputProblem(
                    f"{prefix}conditions",
                    "REQUIRED",
                    "a group needs at least one condition or nested group",
                )
            )

        conditions: list[CheckedCondition] = []
        for index, condition in enumerate(group.conditions):
            checked = self.condition(condition, f"{prefix}conditions.{index}")
            if checked is not None:
                conditions.append(checked)
        groups: list[CheckedGroup] = []
        for index, nested in enumerate(group.groups):
            checked_group = self.group(nested, f"{prefix}groups.{index}.", depth + 1)
            if checked_group is not None:
                groups.append(checked_group)
        return CheckedGroup(group.combinator, group.negate, conditions, groups)

    def condition(self, condition: Condition, path: str) -> CheckedCondition | None:
        self.condition_count += 1
        entity = self.entity(condition.entity, f"{path}.entity")
        if entity is None:
            return None
        result = check_condition(condition, entity, path)
        if isinstance(result, list):
            self.problems.extend(result)
            return None
        return result


def check_definition(
    definition: Definition, base: Entity, catalog: EntityCatalog
) -> tuple[CheckedDefinition | None, list[InputProblem]]:
    """Check every rule against the entities it names; return the result or the problems.

    Conditions without an entity read `base`; `catalog` supplies any other entity.
    """
    if definition.flat:
        root = definition.rules[0].group if definition.rules else Group()
        if not root.conditions:
            return None, [
                InputProblem("conditions", "REQUIRED", "a segment needs at least one condition")
            ]
    elif not 1 <= len(definition.rules) <= MAX_RULES:
        return None, [
            InputProblem(
                "rules",
                "INVALID",
                f"a segment needs 1 to {MAX_RULES} rules, got {len(definition.rules)}",
            )
        ]

    checker = _Checker(base, catalog)
    rules: list[CheckedRule] = []
    for index, rule in enumerate(definition.rules):
        prefix = "" if definition.flat else f"rules.{index}.group."
        group = checker.group(rule.group, prefix, 1)
        if group is not None:
            rules.append(CheckedRule(group, rule.set_operator))

    if checker.condition_count > MAX_CONDITIONS:
        return None, [
            InputProblem(
                "rules" if not definition.flat else "conditions",
                "TOO_MANY",
                f"{checker.condition_count} conditions given; at most {MAX_CONDITIONS} are allowed",
            )
        ]
    if checker.problems:
        return None, checker.problems
    return CheckedDefinition(rules, checker.entities), []


def definition_to_json(definition: Definition) -> dict[str, Any]:
    """Return the definition as stored JSON, in the shape of the GraphQL SegmentInput."""
    if definition.flat:
        root = definition.rules[0].group
        return {"combinator": root.combinator, "conditions": _conditions_json(root.conditions)}
    return {
        "rules": [
            {"setOperator": rule.set_operator.value, "group": _group_json(rule.group)}
            for rule in definition.rules
        ]
    }


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "combinator": group.combinator,
        "negate": group.negate,
        "conditions": _conditions_json(group.conditions),
        "groups": [_group_json(nested) for nested in group.groups],
    }


def _conditions_json(conditions: list[Condition]) -> list[dict[str, Any]]:
    return [
        {
            "entity": condition.entity,
            "attribute": condition.attribute,
            "operator": condition.operator.value,
            "value": condition.value,
            "values": condition.values,
            "caseInsensitive": condition.case_insensitive,
        }
        for condition in conditions
    ]


def definition_from_json(raw: dict[str, Any]) -> Definition:
    """Read a definition stored by `definition_to_json`."""
    if "rules" not in raw:
        group = Group(raw.get("combinator", "AND"), False, _conditions(raw.get("conditions", [])))
        return Definition([SegmentRule(group)], flat=True)
    return Definition(
        [
            SegmentRule(_group(item["group"]), SetOperator(item.get("setOperator", "UNION")))
            for item in raw["rules"]
        ]
    )


def _group(raw: dict[str, Any]) -> Group:
    return Group(
        raw.get("combinator", "AND"),
        bool(raw.get("negate", False)),
        _conditions(raw.get("conditions", [])),
        [_group(item) for item in raw.get("groups", [])],
    )


def _conditions(raw: list[dict[str, Any]]) -> list[Condition]:
    return [
        Condition(
            attribute=item["attribute"],
            operator=Operator(item["operator"]),
            value=item.get("value"),
            values=item.get("values"),
            case_insensitive=bool(item.get("caseInsensitive", False)),
            entity=item.get("entity"),
        )
        for item in raw
    ]
