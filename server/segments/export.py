"""`GET /segments/{id}/members.csv`: a segment's members with chosen attributes, as CSV.

The request names attributes in `?attributes=ChurnScore,Region`. A bare name is looked
up in the segment's base entity, then in the customer profile; `Entity.Attribute`
reads any entity. Rows come from one SELECT run with a server-side cursor and are
written out a batch at a time, so an export never keeps the whole segment in memory.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, Select, select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from server.auth.roles import Role
from server.auth.tokens import TokenError, authenticate_cached
from server.graphql.context import bearer_secret
from server.graphql.db import run_db
from server.ids import parse_id
from server.segments.compiler import CUSTOMER_ID
from server.segments.introspect import PROFILE_ENTITY, Entity, EntityCatalog, EntityNotFound
from server.storage.tables import Segment, SegmentMember, table_of

logger = logging.getLogger(__name__)

BATCH_ROWS = 1000
MAX_ATTRIBUTES = 50
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportProblem(ValueError):
    """Raised when the requested attributes cannot be exported; the message states why."""


@dataclass(frozen=True)
class ExportColumn:
    header: str
    entity: Entity
    attribute: str


@dataclass(frozen=True)
class ExportPlan:
    segment_name: str
    query: Select[Any]
    headers: list[str]


async def segment_members_csv(request: Request) -> Response:
    """Stream the members of a segment as CSV to a caller with at least the viewer role."""
    engine: Engine = request.app.state.engine
    secret = bearer_secret(request)
    if secret is None:
        return _unauthorized("missing API token; send 'Authorization: Bearer <token>'")
    try:
        principal = await run_db(authenticate_cached, engine, secret)
    except TokenError as error:
        return _unauthorized(str(error))
    if principal.role < Role.VIEWER:
        return PlainTextResponse("the viewer role or higher is needed\n", status_code=403)

    raw_id = str(request.path_params.get("segment_id", ""))
    segment_id = parse_id(raw_id)
    requested = [
        name.strip()
        for name in request.query_params.get("attributes", "").split(",")
        if name.strip()
    ]
    try:
        plan = await run_db(plan_export, engine, segment_id, requested)
    except ExportProblem as error:
        return PlainTextResponse(f"{error}\n", status_code=400)
    if plan is None:
        return PlainTextResponse(f"no segment has id {raw_id[:40]!r}\n", status_code=404)

    filename = f"segment-{segment_id}-members.csv"
    return StreamingResponse(
        write_rows(engine, plan),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _unauthorized(message: str) -> Response:
    return PlainTextResponse(
        f"{message}\n", status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


def plan_export(engine: Engine, segment_id: int | None, requested: list[str]) -> ExportPlan | None:
    """Resolve the requested attributes and build the export query; None for no segment."""
    if segment_id is None:
        return None
    if len(requested) > MAX_ATTRIBUTES:
        raise ExportProblem(f"at most {MAX_ATTRIBUTES} attributes can be exported at once")
    segments = table_of(Segment)
    with engine.connect() as connection:
        row = connection.execute(
            select(segments.c.name, segments.c.entity_name).where(segments.c.id == segment_id)
        ).first()
        if row is None:
            return None
        catalog = EntityCatalog(connection)
        columns = [resolve_attribute(catalog, row.entity_name, name) for name in requested]
    return ExportPlan(row.name, _query(segment_id, columns), [CUSTOMER_ID, *_headers(columns)])


def resolve_attribute(catalog: EntityCatalog, base_name: str, requested: str) -> ExportColumn:
    """Find `requested` (`Attribute` or `Entity.Attribute`); raise ExportProblem if unknown."""
    entity_name, dot, attribute = requested.partition(".")
    if dot:
        try:
            entity = catalog.get(entity_name)
        except EntityNotFound:
            valid = ", ".join(catalog.names())
            raise ExportProblem(
                f"unknown entity {entity_name[:80]!r} in attribute {requested[:80]!r}; "
                f"valid: {valid}"
            ) from None
        if attribute not in entity.attributes:
            raise ExportProblem(_unknown(requested, [entity]))
        return ExportColumn(requested, entity, attribute)

    searched = []
    for name in dict.fromkeys([base_name, PROFILE_ENTITY]):
        try:
            entity = catalog.get(name)
        except EntityNotFound:
            continue
        searched.append(entity)
        if requested in entity.attributes:
            return ExportColumn(requested, entity, requested)
    raise ExportProblem(_unknown(requested, searched))


def _unknown(requested: str, entities: list[Entity]) -> str:
    valid = "; ".join(f"{entity.name}: {', '.join(entity.attribute_names)}" for entity in entities)
    return (
        f"unknown attribute {requested[:80]!r}; valid ({valid}), "
        "or Entity.Attribute for any other entity"
    )


def _headers(columns: list[ExportColumn]) -> list[str]:
    return [column.header for column in columns]


def _query(segment_id: int, columns: list[ExportColumn]) -> Select[Any]:
    members = table_of(SegmentMember)
    customer_id = members.c.customer_id
    joined: Any = members
    selected: list[Any] = [customer_id]
    aliases: dict[str, Any] = {}
    for index, column in enumerate(columns):
        alias = aliases.get(column.entity.name)
        if alias is None:
            alias = column.entity.table.alias(f"e{len(aliases)}")
            aliases[column.entity.name] = alias
            joined = joined.outerjoin(alias, alias.c[CUSTOMER_ID] == customer_id)
        selected.append(alias.c[column.attribute].label(f"c{index}"))
    # NOTE: a member appears once per row of each joined entity, so an entity with
    # several rows per customer repeats the member on several lines.
    return (
        select(*selected)
        .select_from(joined)
        .where(members.c.segment_id == segment_id)
        .order_by(customer_id)
    )


def write_rows(engine: Engine, plan: ExportPlan) -> Iterator[str]:
    """Yield the CSV text of `plan`: the header line, then one chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(plan.headers)
    yield _drain(buffer)

    rows = 0
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
            plan.query
        )
        for batch in result.partitions():
            writer.writerows([[_cell(value) for value in row] for row in batch])
            rows += len(batch)
            yield _drain(buffer)
    logger.info("exported %s rows of segment %r", rows, plan.segment_name)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        # Quoting with an apostrophe keeps the text visible but never evaluated.
        return "'" + value
    return value
