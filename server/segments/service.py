"""Creating segments, evaluating their rules into members, and reading members.

Saving a segment is one write transaction: the segment row, then one
`INSERT … SELECT` of its members from the compiled definition, so no customer row
passes through Python and a failure leaves nothing behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from server.names import name_character_problem, name_key, normalize_name
from server.security.audit import AuditAction, AuditTarget, record_audit
from server.segments.compiler import CUSTOMER_ID, compile_members
from server.segments.definition import (
    CheckedDefinition,
    Definition,
    check_definition,
    definition_to_json,
)
from server.segments.introspect import Entity, EntityCatalog, EntityNotFound
from server.segments.rules import InputProblem
from server.storage.constraints import violated_unique_columns
from server.storage.engine import write_transaction
from server.storage.tables import (
    Customer,
    Segment,
    SegmentEntity,
    SegmentEvaluation,
    SegmentMember,
    table_of,
    utc_now,
)

if TYPE_CHECKING:
    from server.auth.tokens import Principal

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 128


class SegmentKind(Enum):
    """Whether a refresh re-evaluates the rules (DYNAMIC) or members stay as created (STATIC)."""

    DYNAMIC = "DYNAMIC"
    STATIC = "STATIC"


@dataclass(frozen=True)
class SegmentRequest:
    """A request to create or replace a segment.

    `entity_name` is the base entity, whose customers the rules choose from;
    `base_field` is the input field to blame when that entity does not exist.
    """

    name: str
    description: str | None
    entity_name: str
    definition: Definition
    prediction_id: int | None = None
    kind: SegmentKind = SegmentKind.DYNAMIC
    base_field: str = "predictionId"


def check_name(
    connection: Connection, name: str, except_id: int | None = None
) -> list[InputProblem]:
    """Check that `name` is usable and not taken by a segment other than `except_id`."""
    stripped = normalize_name(name)
    if not stripped:
        return [InputProblem("name", "REQUIRED", "a segment needs a non-empty name")]
    problem = name_character_problem(stripped)
    if problem is not None:
        return [InputProblem("name", "INVALID_CHARACTER", problem)]
    if len(stripped) > MAX_NAME_LENGTH:
        return [
            InputProblem(
                "name", "TOO_LONG", f"segment names are limited to {MAX_NAME_LENGTH} characters"
            )
        ]
    table = table_of(Segment)
    query = select(table.c.name).where(table.c.name_key == name_key(stripped))
    if except_id is not None:
        query = query.where(table.c.id != except_id)
    existing = connection.execute(query).scalar()
    if existing is not None:
        return [_duplicate(existing)]
    return []


def _duplicate(existing: str) -> InputProblem:
    return InputProblem(
        "name",
        "DUPLICATE_NAME",
        f"a segment named {existing!r} already exists (names are compared ignoring case); "
        "choose another name",
    )


def duplicate_name_problems(error: IntegrityError, name: str) -> list[InputProblem]:
    """Return the duplicate-name problem when `error` is a violation of a segment name key.

    Another transaction can commit the same name ignoring case between `check_name`
    and the write, and the unique index on `segment.name_key` then rejects the write.
    Re-raise `error` when it is any other violation.
    """
    if not violated_unique_columns(error, table_of(Segment)) & {"name", "name_key"}:
        raise error
    logger.info("segment not saved: another request saved its name at the same time")
    message = (
        f"a segment named {normalize_name(name)!r}, or a name equal to it ignoring case, "
        "was saved by another request at the same time; choose another name"
    )
    return [InputProblem("name", "DUPLICATE_NAME", message)]


def check_request_rules(
    connection: Connection, entity_name: str, definition: Definition, base_field: str
) -> tuple[Entity, CheckedDefinition] | list[InputProblem]:
    """Resolve the base entity and check the definition against every entity it names."""
    catalog = EntityCatalog(connection)
    try:
        base = catalog.get(entity_name)
    except EntityNotFound as error:
        if base_field == "predictionId":
            return [
                InputProblem(base_field, "NO_OUTPUT_ENTITY", f"{error}; run the prediction first")
            ]
        valid = ", ".join(catalog.names())
        return [InputProblem(base_field, "UNKNOWN_ENTITY", f"{error}; valid: {valid}")]
    checked, problems = check_definition(definition, base, catalog)
    if checked is None:
        return problems
    return base, checked


def stored_definition(request: SegmentRequest) -> dict[str, Any]:
    """Return the JSON stored in `segment.definition`: the rules and the segment kind."""
    return {**definition_to_json(request.definition), "kind": request.kind.value}


def create_segment(
    engine: Engine, request: SegmentRequest, actor: Principal | None = None
) -> int | list[InputProblem]:
    """Create the segment and its members; return its id, or the problems that stop it.

    The audit event naming `actor` is written in the same transaction as the segment.
    """
    try:
        with write_transaction(engine) as connection:
            # Problems are found before anything is written, so returning them
            # commits an empty transaction.
            outcome = _create(connection, request)
            if isinstance(outcome, int):
                details = {"name": normalize_name(request.name), "entity": request.entity_name}
                if request.prediction_id is not None:
                    details["predictionId"] = str(request.prediction_id)
                record_audit(
                    connection, actor, AuditAction.CREATE, AuditTarget.SEGMENT, outcome, details
                )
            return outcome
    except IntegrityError as error:
        return duplicate_name_problems(error, request.name)


def _create(connection: Connection, request: SegmentRequest) -> int | list[InputProblem]:
    problems = check_name(connection, request.name)
    checked = check_request_rules(
        connection, request.entity_name, request.definition, request.base_field
    )
    if isinstance(checked, list):
        return problems + checked
    if problems:
        return problems
    base, definition = checked

    now = utc_now()
    segments = table_of(Segment)
    segment_id = connection.execute(
        insert(segments)
        .values(
            name=normalize_name(request.name),
            description=request.description,
            prediction_id=request.prediction_id,
            entity_name=base.name,
            definition=stored_definition(request),
            member_count=0,
            created_at=now,
            last_evaluated_at=now,
        )
        .returning(segments.c.id)
    ).scalar_one()
    count = evaluate(connection, int(segment_id), base, definition, now)
    logger.info("segment %s created on entity %s with %s members", segment_id, base.name, count)
    return int(segment_id)


def evaluate(
    connection: Connection,
    segment_id: int,
    base: Entity,
    definition: CheckedDefinition,
    now: datetime,
) -> int:
    """Replace the members of a segment by evaluating `definition`; return the member count.

    Also records the entities the definition reads and one point of member-count
    history, all on `connection`, which must be inside a write transaction.
    """
    member_table = table_of(SegmentMember)
    connection.execute(delete(member_table).where(member_table.c.segment_id == segment_id))
    members = compile_members(definition, base, now.replace(tzinfo=None)).subquery("members")
    connection.execute(
        insert(member_table).from_select(
            ["segment_id", "customer_id"],
            select(literal(segment_id), members.c[CUSTOMER_ID]),
        )
    )
    count = int(
        connection.execute(
            select(func.count()).where(member_table.c.segment_id == segment_id)
        ).scalar_one()
    )

    segments = table_of(Segment)
    connection.execute(
        update(segments)
        .where(segments.c.id == segment_id)
        .values(member_count=count, last_evaluated_at=now)
    )
    _record_entities(connection, segment_id, definition.entity_names)
    connection.execute(
        insert(table_of(SegmentEvaluation)).values(
            segment_id=segment_id, evaluated_at=now, member_count=count
        )
    )
    return count


def _record_entities(connection: Connection, segment_id: int, names: list[str]) -> None:
    table = table_of(SegmentEntity)
    connection.execute(delete(table).where(table.c.segment_id == segment_id))
    connection.execute(
        insert(table), [{"segment_id": segment_id, "entity_name": name} for name in names]
    )


def segments_reading(engine: Engine, entity_name: str) -> list[str]:
    """Return the names of the segments whose rules read `entity_name`, sorted.

    A caller about to delete an entity (or the prediction that writes it) rejects the
    deletion while this list is not empty, and names these segments in its message.
    """
    segments = table_of(Segment)
    reads = table_of(SegmentEntity)
    query = (
        select(segments.c.name)
        .join(reads, reads.c.segment_id == segments.c.id)
        .where(reads.c.entity_name == entity_name)
        .order_by(segments.c.name)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


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
