"""Object types of the schema and the reads behind their fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from sqlalchemy import Connection, Engine, func, select
from strawberry.scalars import JSON
from strawberry.types import Info

from server.graphql.context import Context
from server.graphql.db import run_db
from server.graphql.entity_types import Attribute
from server.graphql.loaders import data_report_key
from server.graphql.pagination import (
    MAX_CURSOR_NUMBER,
    PageInfo,
    check_range,
    decode_cursor,
    decode_number_cursor,
    encode_cursor,
    page_size,
)
from server.graphql.run_types import (
    MAX_RUNS,
    DataIssue,
    DataReport,
    PredictionRun,
    run_from_row,
)
from server.graphql.scalars import PredictionKind, PredictionStatus, SegmentKind
from server.ids import MAX_ID
from server.prediction import usability
from server.segments.introspect import reflect_entity
from server.segments.lifecycle import segment_kind
from server.storage.tables import OutputEntityRecord, table_of, utc_now
from server.storage.tables import Prediction as PredictionRow
from server.storage.tables import Segment as SegmentRow


def _context(info: Info) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


@strawberry.type(description="One row of an output entity.")
class OutputRow:
    customer_id: str = strawberry.field(description="The customer the row is about.")
    values: JSON = strawberry.field(description="Every column of the row, by column name.")


@strawberry.type(description="An edge of an output row connection.")
class OutputRowEdge:
    cursor: str
    node: OutputRow


@strawberry.type(description="A page of output entity rows.")
class OutputRowConnection:
    edges: list[OutputRowEdge]
    page_info: PageInfo


@strawberry.type(description="The table a prediction writes its results to.")
class OutputEntity:
    name: str = strawberry.field(description="The name chosen for the entity.")
    row_count: int = strawberry.field(description="Rows written by the latest successful run.")
    version: int = strawberry.field(description="How many times a run has replaced the rows.")
    updated_at: datetime = strawberry.field(description="When a run last replaced the rows.")

    @strawberry.field(description="The live columns, with data types and valid operators.")
    async def attributes(self, info: Info) -> list[Attribute]:
        entity = await _context(info).loaders.entity.load(self.name)
        if entity is None:
            return []
        return [
            Attribute(
                name=item.name,
                data_type=item.data_type,
                operators=item.operators,
                entity_name=self.name,
            )
            for item in entity.attributes.values()
        ]

    @strawberry.field(description="Rows of the entity ordered by CustomerId.")
    async def rows(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> OutputRowConnection:
        context = _context(info)
        size = page_size(first, context.settings.max_page_size)
        last_row = decode_number_cursor("row", after)
        # The row after the largest cursor is past any table, so the page is empty.
        offset = 0 if last_row is None else min(last_row + 1, MAX_CURSOR_NUMBER)
        rows, has_next = await run_db(_read_rows, context.engine, self.name, size, offset)
        edges = [
            OutputRowEdge(
                cursor=encode_cursor("row", str(offset + index)),
                node=OutputRow(
                    customer_id=str(row["CustomerId"]), values=cast(JSON, _jsonable(row))
                ),
            )
            for index, row in enumerate(rows)
        ]
        end = edges[-1].cursor if edges else None
        return OutputRowConnection(
            edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=end)
        )


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row.items()
    }


def _read_rows(
    engine: Engine, entity_name: str, size: int, offset: int
) -> tuple[list[dict[str, Any]], bool]:
    with engine.connect() as connection:
        entity = reflect_entity(connection, entity_name)
        table = entity.table
        query = (
            select(table)
            .order_by(*[column for column in table.columns])
            .offset(offset)
            .limit(size + 1)
        )
        rows = [dict(row) for row in connection.execute(query).mappings()]
    return rows[:size], len(rows) > size


def read_output_entity(engine: Engine, name: str) -> OutputEntity | None:
    table = table_of(OutputEntityRecord)
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.name == name)).mappings().first()
    return None if row is None else output_entity_from_row(row)


def output_entity_from_row(row: Any) -> OutputEntity:
    """Build an OutputEntity from a mapping of its output_entity registry row."""
    return OutputEntity(
        name=row["name"],
        row_count=row["row_count"],
        version=row["version"],
        updated_at=row["updated_at"],
    )


@strawberry.type(description="A quality figure of a model beside its baseline's.")
class Metric:
    name: str = strawberry.field(description="For example rocAuc, precision or rmse.")
    value: float = strawberry.field(description="The model's figure.")
    baseline: float | None = strawberry.field(
        description="The baseline's figure on the same data, when there is a baseline."
    )


@strawberry.type(description="An input that influences the prediction.")
class Factor:
    name: str = strawberry.field(description="The feature, such as recency.")
    importance: float = strawberry.field(description="Relative importance; all factors sum to 1.")


@strawberry.type(description="What the latest successful run of a prediction found.")
class PredictionResults:
    grade: str | None = strawberry.field(description="A, B or C against the kind's baseline.")
    grade_reason: str = strawberry.field(description="How the grade was decided, with figures.")
    metrics: list[Metric] = strawberry.field(description="Model quality beside the baseline.")
    factors: list[Factor] = strawberry.field(description="The most influential factors.")
    row_count: int = strawberry.field(description="Rows written to the output entity.")
    finished_at: datetime | None = strawberry.field(description="When the run finished.")
    details: JSON = strawberry.field(description="Further figures specific to the kind.")


def results_from_json(raw: dict[str, Any] | None) -> PredictionResults | None:
    if not raw:
        return None
    finished = raw.get("finished_at")
    return PredictionResults(
        grade=raw.get("grade"),
        grade_reason=raw.get("grade_reason", ""),
        metrics=[Metric(**item) for item in raw.get("metrics", [])],
        factors=[Factor(**item) for item in raw.get("factors", [])],
        row_count=int(raw.get("row_count", 0)),
        finished_at=datetime.fromisoformat(finished) if finished else None,
        details=raw.get("details", {}),
    )


@strawberry.type(description="A configured model of one kind, with its status and results.")
class Prediction:
    id: strawberry.ID
    name: str
    kind: PredictionKind
    status: PredictionStatus
    error: str | None = strawberry.field(description="Why the latest run failed, if it did.")
    parameters: JSON = strawberry.field(description="The parameters, defaults filled in.")
    output_entity_name: str = strawberry.field(description="The entity the prediction writes.")
    created_at: datetime
    updated_at: datetime
    results: PredictionResults | None = strawberry.field(
        description="Results of the latest successful run; null before the first one."
    )
    schedule_days: int | None = strawberry.field(
        description="Days between scheduled retraining runs; null when it runs only on request."
    )
    next_run_at: datetime | None = strawberry.field(
        description="When the schedule queues the next run; null without a schedule."
    )

    @strawberry.field(description="The output entity; null until a run has written it.")
    async def output_entity(self, info: Info) -> OutputEntity | None:
        row = await _context(info).loaders.output_entity.load(self.output_entity_name)
        return None if row is None else output_entity_from_row(row)

    @strawberry.field(description=f"The latest runs, newest first, at most {MAX_RUNS}.")
    async def runs(self, info: Info, first: int = MAX_RUNS) -> list[PredictionRun]:
        size = check_range("first", first, 1, MAX_RUNS)
        rows = await _context(info).loaders.runs.load((int(self.id), size))
        return [run_from_row(row) for row in rows]

    @strawberry.field(
        description="Whether the loaded data can support a run, checked now: errors "
        "block a run, warnings weaken the model."
    )
    async def data_report(self, info: Info) -> DataReport | None:
        key = data_report_key(self.kind.value, self.parameters)
        report = await _context(info).loaders.data_report.load(key)
        return data_report_from(report)


def data_report_from(report: usability.DataReport) -> DataReport:
    def issue(item: usability.DataIssue) -> DataIssue:
        return DataIssue(table=item.table, column=item.column, message=item.message, fix=item.fix)

    return DataReport(
        errors=[issue(item) for item in report.errors],
        warnings=[issue(item) for item in report.warnings],
        checked_at=utc_now(),
    )


def prediction_from_row(row: Any) -> Prediction:
    return Prediction(
        id=strawberry.ID(str(row.id)),
        name=row.name,
        kind=PredictionKind(row.kind),
        status=PredictionStatus(row.status),
        error=row.error,
        parameters=row.parameters,
        output_entity_name=row.output_entity_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        results=results_from_json(row.results),
        schedule_days=row.schedule_days,
        next_run_at=row.next_run_at,
    )


def read_predictions(engine: Engine, prediction_id: int | None = None) -> list[Prediction]:
    table = table_of(PredictionRow)
    query = select(table).order_by(table.c.id)
    if prediction_id is not None:
        query = query.where(table.c.id == prediction_id)
    with engine.connect() as connection:
        return [prediction_from_row(row) for row in connection.execute(query)]


@strawberry.type(description="A customer with the profile attributes the source provided.")
class Customer:
    customer_id: str = strawberry.field(description="The CustomerId shared by every entity.")
    source: str | None = strawberry.field(description="The data source that loaded the customer.")
    market_segment: str | None = strawberry.field(
        description="Market segment from the source, such as Consumer or Corporate."
    )
    country: str | None
    city: str | None
    state: str | None
    region: str | None


@strawberry.type(description="An edge of a customer connection.")
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type(description="A page of customers.")
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Customers in the whole list.")


@strawberry.type(description="A named set of customers defined by rules over entity attributes.")
class Segment:
    id: strawberry.ID
    name: str
    description: str | None
    entity_name: str = strawberry.field(
        description="The base entity: members are chosen among its customers."
    )
    definition: JSON = strawberry.field(
        description="The rules and kind, in the shape of SegmentInput."
    )
    kind: SegmentKind = strawberry.field(description="Whether a refresh re-evaluates the rules.")
    member_count: int = strawberry.field(description="Customers in the segment.")
    created_at: datetime
    last_evaluated_at: datetime = strawberry.field(description="When members were computed.")
    prediction_id: strawberry.ID | None = strawberry.field(
        description="The prediction whose output entity the segment was created from."
    )

    @strawberry.field(description="The entities the rules read, by name.")
    async def entities(self, info: Info) -> list[str]:
        return await _context(info).loaders.segment_entities.load(int(self.id))

    @strawberry.field(description="Member counts, one per evaluation, newest first.")
    async def member_count_history(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> SegmentEvaluationConnection:
        context = _context(info)
        size = page_size(first, context.settings.max_page_size)
        after_id = decode_number_cursor("evaluation", after, MAX_ID)
        rows = await context.loaders.evaluations.load((int(self.id), size, after_id))
        return evaluation_connection(rows, size)

    @strawberry.field(description="Members ordered by CustomerId.")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> CustomerConnection:
        context = _context(info)
        size = page_size(first, context.settings.max_page_size)
        after_key = decode_cursor("customer", after)
        page = await context.loaders.member_page.load((int(self.id), size, after_key))
        edges = [
            CustomerEdge(
                cursor=encode_cursor("customer", row["customer_id"]),
                node=Customer(
                    customer_id=row["customer_id"],
                    source=row["source"],
                    market_segment=row["segment"],
                    country=row["country"],
                    city=row["city"],
                    state=row["state"],
                    region=row["region"],
                ),
            )
            for row in page.rows
        ]
        end = edges[-1].cursor if edges else None
        return CustomerConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end),
            total_count=self.member_count,
        )


def segment_from_row(row: Any) -> Segment:
    return Segment(
        id=strawberry.ID(str(row.id)),
        name=row.name,
        description=row.description,
        entity_name=row.entity_name,
        definition=row.definition,
        kind=segment_kind(row.definition),
        member_count=row.member_count,
        created_at=row.created_at,
        last_evaluated_at=row.last_evaluated_at,
        prediction_id=strawberry.ID(str(row.prediction_id)) if row.prediction_id else None,
    )


@strawberry.type(description="One evaluation of a segment's rules.")
class SegmentEvaluation:
    evaluated_at: datetime = strawberry.field(description="When the rules were evaluated.")
    member_count: int = strawberry.field(description="Members the evaluation found.")


@strawberry.type(description="An edge of a segment evaluation connection.")
class SegmentEvaluationEdge:
    cursor: str
    node: SegmentEvaluation


@strawberry.type(description="A page of segment evaluations.")
class SegmentEvaluationConnection:
    edges: list[SegmentEvaluationEdge]
    page_info: PageInfo


def evaluation_connection(rows: list[Any], size: int) -> SegmentEvaluationConnection:
    """Page up to `size` + 1 evaluation rows, newest first, into a connection."""
    edges = [
        SegmentEvaluationEdge(
            cursor=encode_cursor("evaluation", str(row.id)),
            node=SegmentEvaluation(evaluated_at=row.evaluated_at, member_count=row.member_count),
        )
        for row in rows[:size]
    ]
    end = edges[-1].cursor if edges else None
    return SegmentEvaluationConnection(
        edges=edges, page_info=PageInfo(has_next_page=len(rows) > size, end_cursor=end)
    )


@strawberry.type(description="An edge of a segment connection.")
class SegmentEdge:
    cursor: str
    node: Segment


@strawberry.type(description="A page of segments.")
class SegmentConnection:
    edges: list[SegmentEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Segments in the whole list.")


def read_segments(engine: Engine, size: int, after: int | None) -> SegmentConnection:
    table = table_of(SegmentRow)
    query = select(table).order_by(table.c.id).limit(size + 1)
    if after is not None:
        query = query.where(table.c.id > after)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        total = connection.execute(select(func.count()).select_from(table)).scalar_one()
    edges = [
        SegmentEdge(cursor=encode_cursor("segment", str(row.id)), node=segment_from_row(row))
        for row in rows[:size]
    ]
    end = edges[-1].cursor if edges else None
    return SegmentConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > size, end_cursor=end),
        total_count=total,
    )


def read_segment(engine: Engine, segment_id: int) -> Segment | None:
    with engine.connect() as connection:
        return find_segment(connection, segment_id)


def find_segment(connection: Connection, segment_id: int) -> Segment | None:
    table = table_of(SegmentRow)
    row = connection.execute(select(table).where(table.c.id == segment_id)).first()
    return segment_from_row(row) if row is not None else None
