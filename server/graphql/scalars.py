"""Enums shared by the schema, mapped from the server's own enums."""

from __future__ import annotations

from enum import Enum

import strawberry

from server.segments import definition, operators, service

strawberry.enum(operators.Operator, description="A comparison a condition applies.")
strawberry.enum(
    operators.AttributeType, description="The data type of an attribute, from its live column."
)
Operator = operators.Operator
AttributeType = operators.AttributeType


@strawberry.enum(description="The model a prediction trains.")
class PredictionKind(Enum):
    TRANSACTIONAL_CHURN = "TRANSACTIONAL_CHURN"
    SUBSCRIPTION_CHURN = "SUBSCRIPTION_CHURN"
    CUSTOMER_LIFETIME_VALUE = "CUSTOMER_LIFETIME_VALUE"
    PRODUCT_RECOMMENDATION = "PRODUCT_RECOMMENDATION"


@strawberry.enum(description="Where a prediction is in its life.")
class PredictionStatus(Enum):
    DRAFT = "DRAFT"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@strawberry.enum(description="How the conditions of a rule combine.")
class Combinator(Enum):
    AND = "AND"
    OR = "OR"


strawberry.enum(
    definition.SetOperator,
    description="How a rule combines with the customers chosen by the rules before it.",
)
strawberry.enum(
    service.SegmentKind,
    description="DYNAMIC segments re-evaluate their rules on refresh; STATIC ones keep "
    "the members they were created with.",
)
SetOperator = definition.SetOperator
SegmentKind = service.SegmentKind
