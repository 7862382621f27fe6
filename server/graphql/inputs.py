"""Input types and the payload of segment mutations."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from server.graphql.scalars import Combinator, Operator
from server.graphql.types import Segment
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
        default=False, description="Compare text ignoring case (text attributes only)."
    )


@strawberry.input(description="A new segment: a name and conditions joined by AND or OR.")
class SegmentInput:
    name: str = strawberry.field(description="Unique among segments, ignoring case.")
    description: str | None = None
    combinator: Combinator = strawberry.field(
        default=Combinator.AND, description="How the conditions combine."
    )
    conditions: list[ConditionInput] = strawberry.field(description="At least one condition.")

    def to_rule(self) -> Rule:
        return Rule(
            combinator=self.combinator.value,
            conditions=[
                Condition(
                    attribute=item.attribute,
                    operator=item.operator,
                    value=item.value,
                    values=list(item.values) if item.values is not None else None,
                    case_insensitive=item.case_insensitive,
                )
                for item in self.conditions
            ],
        )


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
