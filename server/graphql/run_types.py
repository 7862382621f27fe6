"""Types of prediction runs and data usability reports, and the reads behind them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import Engine, select
from strawberry.scalars import JSON

from server.prediction import usability
from server.storage.tables import Prediction as PredictionRow
from server.storage.tables import PredictionRun as PredictionRunRow
from server.storage.tables import table_of, utc_now

MAX_RUNS = 100


@strawberry.enum(description="Where a run is: QUEUED, RUNNING, then SUCCEEDED or FAILED.")
class RunStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@strawberry.enum(description="What started a run.")
class RunTrigger(Enum):
    MANUAL = "MANUAL"
    SCHEDULE = "SCHEDULE"


@strawberry.type(description="One training and scoring of a prediction.")
class PredictionRun:
    id: strawberry.ID = strawberry.field(description="The run's id, for run and runProgress.")
    prediction_id: strawberry.ID = strawberry.field(description="The prediction that ran.")
    status: RunStatus = strawberry.field(description="Where the run is.")
    trigger: RunTrigger = strawberry.field(description="A person (MANUAL) or the schedule.")
    step: str | None = strawberry.field(
        description="The step the run is in, or the last it reached, such as training."
    )
    queued_at: datetime | None = strawberry.field(description="When the run was queued.")
    started_at: datetime | None = strawberry.field(description="When the worker started it.")
    finished_at: datetime | None = strawberry.field(description="When it succeeded or failed.")
    metrics: JSON | None = strawberry.field(
        description="Model metrics by name, each beside its baseline's as <name>_baseline."
    )
    row_count: int | None = strawberry.field(description="Rows written to the output entity.")
    error: str | None = strawberry.field(description="Why the run failed, if it did.")

    @strawberry.field(description="Seconds from start to finish; null until the run finishes.")
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def run_from_row(row: Any) -> PredictionRun:
    return PredictionRun(
        id=strawberry.ID(str(row.id)),
        prediction_id=strawberry.ID(str(row.prediction_id)),
        status=RunStatus(row.status),
        trigger=RunTrigger(row.trigger),
        step=row.step,
        queued_at=row.queued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        metrics=row.metrics,
        row_count=row.row_count,
        error=row.error,
    )


def read_runs(engine: Engine, prediction_id: int, first: int = MAX_RUNS) -> list[PredictionRun]:
    """Read the latest `first` runs of a prediction, newest first."""
    table = table_of(PredictionRunRow)
    query = (
        select(table)
        .where(table.c.prediction_id == prediction_id)
        .order_by(table.c.id.desc())
        .limit(first)
    )
    with engine.connect() as connection:
        return [run_from_row(row) for row in connection.execute(query)]


def read_run(engine: Engine, run_id: int) -> PredictionRun | None:
    table = table_of(PredictionRunRow)
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.id == run_id)).first()
    return None if row is None else run_from_row(row)


@strawberry.type(description="A problem of the data: where it is and how to fix it.")
class DataIssue:
    table: str = strawberry.field(description="The table, such as order_line or prediction.")
    column: str | None = strawberry.field(description="The column, or null for the whole table.")
    message: str = strawberry.field(description="What is wrong, with the figures.")
    fix: str = strawberry.field(description="What to do about it.")


@strawberry.type(description="Whether the loaded data can support a prediction.")
class DataReport:
    errors: list[DataIssue] = strawberry.field(description="Problems that block a run.")
    warnings: list[DataIssue] = strawberry.field(
        description="Problems that leave a run allowed but weaken the model."
    )
    checked_at: datetime = strawberry.field(description="When the data was checked.")


def _issue(issue: usability.DataIssue) -> DataIssue:
    return DataIssue(table=issue.table, column=issue.column, message=issue.message, fix=issue.fix)


def read_data_report(engine: Engine, prediction_id: int) -> DataReport | None:
    """Check the data of prediction `prediction_id` now; None when it does not exist."""
    table = table_of(PredictionRow)
    with engine.connect() as connection:
        row = connection.execute(
            select(table.c.kind, table.c.parameters).where(table.c.id == prediction_id)
        ).first()
    if row is None:
        return None
    report = usability.check_prediction_data(engine, row.kind, row.parameters or {})
    return DataReport(
        errors=[_issue(item) for item in report.errors],
        warnings=[_issue(item) for item in report.warnings],
        checked_at=utc_now(),
    )
