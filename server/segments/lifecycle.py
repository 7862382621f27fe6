"""Changing saved segments: replacing their rules, refreshing and deleting them.

Each change is one write transaction that first locks the segment row, so two
refreshes of one segment run one after the other instead of racing on its members.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from server.names import name_key, normalize_name
from server.security.audit import AuditAction, AuditTarget, record_audit
from server.segments.definition import definition_from_json
from server.segments.rules import InputProblem
from server.segments.service import (
    SegmentKind,
    SegmentRequest,
    check_name,
    check_request_rules,
    duplicate_name_problems,
    evaluate,
    stored_definition,
)
from server.storage.engine import write_transaction
from server.storage.tables import Segment, table_of, utc_now

if TYPE_CHECKING:
    from server.auth.tokens import Principal

logger = logging.getLogger(__name__)


def _not_found(segment_id: int) -> list[InputProblem]:
    return [
        InputProblem(
            "id", "NOT_FOUND", f"no segment has id {segment_id}; list them with the segments query"
        )
    ]


def _lock(connection: Connection, segment_id: int) -> Any:
    table = table_of(Segment)
    return connection.execute(
        select(table).where(table.c.id == segment_id).with_for_update()
    ).first()


def segment_kind(definition: dict[str, Any]) -> SegmentKind:
    """Return the kind stored with a definition; segments saved without one are dynamic."""
    return SegmentKind(definition.get("kind", SegmentKind.DYNAMIC.value))


def update_segment(
    engine: Engine, segment_id: int, request: SegmentRequest, actor: Principal | None = None
) -> int | list[InputProblem]:
    """Replace name, description, kind and rules of a segment and re-evaluate its members.

    The base entity stays the one the segment was created on, whatever the request names.
    """
    try:
        with write_transaction(engine) as connection:
            outcome = _update(connection, segment_id, request)
            if isinstance(outcome, int):
                record_audit(
                    connection,
                    actor,
                    AuditAction.UPDATE,
                    AuditTarget.SEGMENT,
                    segment_id,
                    {"name": normalize_name(request.name)},
                )
            return outcome
    except IntegrityError as error:
        return duplicate_name_problems(error, request.name)


def _update(
    connection: Connection, segment_id: int, request: SegmentRequest
) -> int | list[InputProblem]:
    row = _lock(connection, segment_id)
    if row is None:
        return _not_found(segment_id)
    problems = check_name(connection, request.name, except_id=segment_id)
    checked = check_request_rules(connection, row.entity_name, request.definition, "id")
    if isinstance(checked, list):
        return problems + checked
    if problems:
        return problems
    base, definition = checked

    segments = table_of(Segment)
    connection.execute(
        update(segments)
        .where(segments.c.id == segment_id)
        .values(
            name=normalize_name(request.name),
            name_key=name_key(request.name),
            description=request.description,
            definition=stored_definition(request),
        )
    )
    count = evaluate(connection, segment_id, base, definition, utc_now())
    logger.info("segment %s updated with %s members", segment_id, count)
    return segment_id


def refresh_segment(
    engine: Engine, segment_id: int, actor: Principal | None = None
) -> int | list[InputProblem]:
    """Re-evaluate a dynamic segment's rules against the live entities; return its id.

    `actor` None stands for the server itself, as in the refresh after a prediction run.
    """
    with write_transaction(engine) as connection:
        row = _lock(connection, segment_id)
        if row is None:
            return _not_found(segment_id)
        if segment_kind(row.definition) is SegmentKind.STATIC:
            return [
                InputProblem(
                    "id",
                    "STATIC_SEGMENT",
                    f"segment {row.name!r} is static, so its members stay as they were "
                    "created; update it to change its rules, or make it DYNAMIC",
                )
            ]
        checked = check_request_rules(
            connection, row.entity_name, definition_from_json(row.definition), "id"
        )
        if isinstance(checked, list):
            # An entity changed under the segment: report which condition no longer fits.
            return [
                InputProblem(
                    f"definition.{item.field}",
                    item.code,
                    f"the saved rules no longer fit the live entities: {item.message}",
                )
                for item in checked
            ]
        base, definition = checked
        count = evaluate(connection, segment_id, base, definition, utc_now())
        record_audit(
            connection,
            actor,
            AuditAction.REFRESH,
            AuditTarget.SEGMENT,
            segment_id,
            {"memberCount": count},
        )
    logger.info("segment %s refreshed with %s members", segment_id, count)
    return segment_id


def delete_segment(
    engine: Engine, segment_id: int, actor: Principal | None = None
) -> list[InputProblem]:
    """Delete a segment with its members and history; return problems, empty on success."""
    table = table_of(Segment)
    with write_transaction(engine) as connection:
        row = _lock(connection, segment_id)
        if row is None:
            return _not_found(segment_id)
        connection.execute(delete(table).where(table.c.id == segment_id))
        record_audit(
            connection,
            actor,
            AuditAction.DELETE,
            AuditTarget.SEGMENT,
            segment_id,
            {"name": row.name},
        )
    logger.info("segment %s deleted", segment_id)
    return []
