"""Creating segments and reading their members.

Saving a segment is one write transaction: the segment row, then one
`INSERT … SELECT` of its members from the compiled rule, so no customer row passes
through Python and a failure leaves nothing behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from server.segments.compiler import compile_members
from server.segments.introspect import EntityNotFound, reflect_entity
from server.segments.rules import InputProblem, Rule, check_rule
from server.storage.engine import write_transaction
from server.storage.tables import Customer, Segment, SegmentMember, table_of, utc_now

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 128


@dataclass(frozen=True)
class SegmentRequest:
    """What a user asks for when creating a segment from an entity."""

    name: str
    description: str | None
    entity_name: str
    rule: Rule
    prediction_id: int | None = None


def check_name(connection: Connection, name: str) -> list[InputProblem]:
    stripped = name.strip()
    if not stripped:
        return [InputProblem("name", "REQUIRED", "a segment needs a non-empty name")]
    if len(stripped) > MAX_NAME_LENGTH:
        return [
            InputProblem(
                "name", "TOO_LONG", f"segment names are limited to {MAX_NAME_LENGTH} characters"
            )
        ]
    table = table_of(Segment)
    taken = connection.execute(
        select(table.c.id).where(func.lower(table.c.name) == stripped.lower())
    ).first()
    if taken is not None:
        return [
            InputProblem(
                "name",
                "DUPLICATE_NAME",
                f"a segment named {stripped!r} exists; choose another name",
            )
        ]
    return []


def create_segment(engine: Engine, request: SegmentRequest) -> int | list[InputProblem]:
    """Create the segment and its members; return its id, or the problems that stop it."""
    try:
        with write_transaction(engine) as connection:
            # Problems are found before anything is written, so returning them
            # commits an empty transaction.
            return _create(connection, request)
    except IntegrityError:
        # Another request took the name between our check and our insert.
        return [
            InputProblem(
                "name",
                "DUPLICATE_NAME",
                f"a segment named {request.name.strip()!r} exists; choose another name",
            )
        ]


def _create(connection: Connection, request: SegmentRequest) -> int | list[InputProblem]:
    problems = check_name(connection, request.name)
    try:
        entity = reflect_entity(connection, request.entity_name)
    except EntityNotFound as error:
        return [
            *problems,
            InputProblem("predictionId", "NO_OUTPUT_ENTITY", f"{error}; run the prediction first"),
        ]
    checked, rule_problems = check_rule(request.rule, entity)
    problems += rule_problems
    if problems or checked is None:
        return problems

    now = utc_now()
    segments = table_of(Segment)
    segment_id = connection.execute(
        insert(segments)
        .values(
            name=request.name.strip(),
            description=request.description,
            prediction_id=request.prediction_id,
            entity_name=entity.name,
            definition=rule_definition(request.rule),
            member_count=0,
            created_at=now,
            last_evaluated_at=now,
        )
        .returning(segments.c.id)
    ).scalar_one()

    members = compile_members(entity, checked, now.replace(tzinfo=None)).subquery("members")
    member_table = table_of(SegmentMember)
    connection.execute(
        insert(member_table).from_select(
            ["segment_id", "customer_id"],
            select(literal(segment_id), members.c.CustomerId).where(
                members.c.CustomerId.is_not(None)
            ),
        )
    )
    count = connection.execute(
        select(func.count()).where(member_table.c.segment_id == segment_id)
    ).scalar_one()
    connection.execute(
        update(segments).where(segments.c.id == segment_id).values(member_count=count)
    )
    logger.info("segment %s created on entity %s with %s members", segment_id, entity.name, count)
    return int(segment_id)


def rule_definition(rule: Rule) -> dict[str, Any]:
    """The rule as stored JSON, in the same shape as the GraphQL input."""
    return {
        "combinator": rule.combinator,
        "conditions": [
            {
                "attribute": condition.attribute,
                "operator": condition.operator.value,
                "value": condition.value,
                "values": condition.values,
                "caseInsensitive": condition.case_insensitive,
            }
            for condition in rule.conditions
        ],
    }


@dataclass(frozen=True)
class MemberPage:
    rows: list[dict[str, Any]]
    has_next_page: bool


def member_page(
    connection: Connection, segment_id: int, first: int, after: str | None
) -> MemberPage:
    """Read up to `first` members after customer id `after`, with their profile, by id order."""
    members = table_of(SegmentMember)
    customers = table_of(Customer)
    query = (
        select(
            members.c.customer_id,
            customers.c.source,
            customers.c.segment,
            customers.c.country,
            customers.c.city,
            customers.c.state,
            customers.c.region,
        )
        .select_from(members.outerjoin(customers, customers.c.customer_id == members.c.customer_id))
        .where(members.c.segment_id == segment_id)
        .order_by(members.c.customer_id)
        .limit(first + 1)
    )
    if after is not None:
        query = query.where(members.c.customer_id > after)
    rows = [dict(row) for row in connection.execute(query).mappings()]
    return MemberPage(rows[:first], len(rows) > first)
