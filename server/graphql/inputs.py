"""Input types and the payloads of segment mutations."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from server.graphql.scalars import Combinator, Operator, SegmentKind, SetOperator
from server.graphql.types import Segment
from server.segments.definition import Definition, Group, SegmentRule
from server.segments.rules import Condition, InputProblem, Rule


@strawberry.input(description="One condition: attribute, operator and value(s).")
class ConditionInput:
    attribute: str = strawberry.field(description="A column name from OutputEntity.attributes.")
    operator: Operator = strawberry.field(description="One of the attribute's operators.")
    value: JSON | None = strawberry.field(
        default=None, description="The value, for operators that take one."
    )
    values: list[JSON] | None = strawberry.field(
        default=None, description="The values, for IN, NOT_IN and BETWEEN ([low, high])."
    )
    case_insensitive: bool = strawberry.field(
        default=False,
        description="Compare text ignoring the case of the letters A to Z (text attributes "
        "only); other letters compare exactly.",
    )
    entity: str | None = strawberry.field(
        default=None,
        description="The entity the attribute belongs to, from the entities query; "
        "null for the segment's base entity (the prediction's output entity).",
    )

    def to_condition(self) -> Condition:
        return Condition(
            attribute=self.attribute,
            operator=self.operator,
            value=self.value,
            values=list(self.values) if self.values is not None else None,
            case_insensitive=self.case_insensitive,
            entity=self.entity,
        )


@strawberry.input(
    description="Conditions and nested groups joined by one combinator. Conditions of a "
    "group that name the same entity must hold on one row of it."
)
class ConditionGroupInput:
    combinator: Combinator = strawberry.field(
        default=Combinator.AND, description="How the conditions and groups combine."
    )
    negate: bool = strawberry.field(
        default=False, description="Select the customers the group does not match (NOT)."
    )
    conditions: list[ConditionInput] = strawberry.field(
        default_factory=list, description="Conditions of this group."
    )
    groups: list[ConditionGroupInput] = strawberry.field(
        default_factory=list, description="Nested groups, at most 5 levels deep in all."
    )

    def to_group(self) -> Group:
        return Group(
            combinator=self.combinator.value,
            negate=self.negate,
            conditions=[item.to_condition() for item in self.conditions],
            groups=[item.to_group() for item in self.groups],
        )


@strawberry.input(description="A rule: a tree of condition groups.")
class RuleInput:
    group: ConditionGroupInput = strawberry.field(description="The root group of the rule.")
    set_operator: SetOperator = strawberry.field(
        default=SetOperator.UNION,
        description="How this rule combines with the rules before it; ignored on the first.",
    )


@strawberry.input(
    description="A segment: a name and either conditions joined by one combinator, "
    "or rules combined by UNION, INTERSECT and EXCEPT."
)
class SegmentInput:
    name: str = strawberry.field(description="Unique among segments, ignoring case.")
    description: str | None = None
    combinator: Combinator = strawberry.field(
        default=Combinator.AND, description="How the conditions combine."
    )
    conditions: list[ConditionInput] = strawberry.field(
        default_factory=list, description="At least one condition, unless rules are given."
    )
    rules: list[RuleInput] | None = strawberry.field(
        default=None,
        description="Rules applied from left to right; give these or conditions, not both.",
    )
    kind: SegmentKind = strawberry.field(
        default=SegmentKind.DYNAMIC, description="Whether a refresh re-evaluates the rules."
    )

    def to_rule(self) -> Rule:
        return Rule(
            combinator=self.combinator.value,
            conditions=[item.to_condition() for item in self.conditions],
        )

    def to_definition(self) -> Definition | InputProblem:
        if self.rules is None:
            return Definition.from_rule(self.to_rule())
        if self.conditions:
            return InputProblem("rules", "INVALID", "give either conditions or rules, not both")
        return Definition(
            [SegmentRule(item.group.to_group(), item.set_operator) for item in self.rules]
        )


@strawberry.input(description="A segment on one attribute of any entity and one operator.")
class QuickSegmentInput:
    name: str = strawberry.field(description="Unique among segments; previews ignore it.")
    description: str | None = None
    entity: str = strawberry.field(description="The entity, from the entities query.")
    attribute: str = strawberry.field(description="A column of the entity.")
    operator: Operator = strawberry.field(description="One of the attribute's operators.")
    value: JSON | None = None
    values: list[JSON] | None = None
    case_insensitive: bool = False
    kind: SegmentKind = SegmentKind.DYNAMIC

    def to_definition(self) -> Definition:
        condition = Condition(
            attribute=self.attribute,
            operator=self.operator,
            value=self.value,
            values=list(self.values) if self.values is not None else None,
            case_insensitive=self.case_insensitive,
        )
        return Definition.from_rule(Rule("AND", [condition]))


@strawberry.type(description="A mistake in the input that the caller can fix.")
class InputError:
    field: str = strawberry.field(description="Path of the input field, e.g. conditions.0.value.")
    code: str = strawberry.field(description="Machine-readable reason, e.g. UNKNOWN_ATTRIBUTE.")
    message: str = strawberry.field(description="What is wrong and how to fix it.")

    @classmethod
    def from_problem(cls, problem: InputProblem) -> InputError:
        return cls(field=problem.field, code=problem.code, message=problem.message)


@strawberry.type(description="The created segment, or the input errors that prevented it.")
class SegmentPayload:
    segment: Segment | None = strawberry.field(description="Null whenever errors is not empty.")
    errors: list[InputError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The result of deleting a segment.")
class DeleteSegmentPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The id of the deleted segment; null when errors is not empty."
    )
    errors: list[InputError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The customers a definition would select now; nothing is saved.")
class SegmentPreview:
    member_count: int = strawberry.field(description="Customers the whole definition selects.")
    rule_counts: list[int] = strawberry.field(
        description="Customers each rule selects on its own, in the order of the rules."
    )
    sample: list[str] = strawberry.field(description="The first members by CustomerId.")


@strawberry.type(description="A preview, or the input errors that prevented it.")
class SegmentPreviewPayload:
    preview: SegmentPreview | None = strawberry.field(
        description="Null whenever errors is not empty."
    )
    errors: list[InputError] = strawberry.field(description="Empty on success.")
