"""Runs of predictions: status changes, the kind's training and scoring, and the results.

A run goes QUEUED -> RUNNING -> SUCCEEDED or FAILED, and its prediction follows the
same statuses. A run first checks the data (see `server.prediction.usability`) and
fails at once on blocking errors. A successful run replaces the output entity (see
`server.prediction.output`), refreshes the dynamic segments that read it and stores
the results JSON on the prediction. A failed run stores a short reason, without a
stack trace, and keeps the previous output entity and results. The step a run is in
is stored on it as the run enters the step. Timestamps are aware datetimes in UTC.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, insert, select, update
from sqlmodel import Session

from server.prediction.base import KindResult, ParameterError, PredictionDataError, Progress
from server.prediction.dependents import refresh_dynamic_segments
from server.prediction.native_threads import single_native_thread
from server.prediction.output import replace_entity
from server.prediction.registry import get_kind
from server.prediction.schedule import advance_schedule
from server.prediction.usability import check_prediction_data
from server.storage.engine import write_transaction
from server.storage.tables import Prediction, PredictionRun, table_of, utc_now

logger = logging.getLogger(__name__)

QUEUED = "QUEUED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
IN_PROGRESS = (QUEUED, RUNNING)
FINISHED = (SUCCEEDED, FAILED)
MANUAL = "MANUAL"
SCHEDULE = "SCHEDULE"
INTERRUPTED_REASON = "server stopped during the run"
MAX_REASON_LENGTH = 1000

_predictions = table_of(Prediction)
_runs = table_of(PredictionRun)


class RunError(Exception):
    """Raised when a run cannot start or fails in a way the user can fix.

    Its message is stored as the run's error, so it must stay free of internals.
    """


class RunInProgressError(RunError):
    """Raised when a prediction already has a queued or running run."""


OnQueued = Callable[[Connection, int], None]
"""Called with the queuing transaction's connection and the new run's id, to write more."""


def run_prediction(
    engine: Engine, prediction_id: int, progress: Progress | None = None
) -> PredictionRun:
    """Queue and execute a run of prediction `prediction_id`; return the finished run.

    A failure of the run itself does not raise: the returned run is FAILED and its
    `error` gives the reason. Raises `LookupError` when the prediction does not exist and
    `RunInProgressError` when it already has a run in progress.
    """
    run_id = queue_run(engine, prediction_id)
    return execute_run(engine, run_id, progress)


def queue_run(
    engine: Engine,
    prediction_id: int,
    *,
    trigger: str = MANUAL,
    on_queued: OnQueued | None = None,
) -> int:
    """Create a QUEUED run of prediction `prediction_id` and return its id.

    `trigger` is MANUAL or SCHEDULE. The same transaction moves the prediction's next
    scheduled run and calls `on_queued` (an audit record, for example), so all of it
    commits or none does. Raises `LookupError` when the prediction does not exist and
    `RunInProgressError` when it already has a QUEUED or RUNNING run.
    """
    with write_transaction(engine) as connection:
        # FOR UPDATE serialises concurrent requests on PostgreSQL; SQLite already
        # holds the write lock from BEGIN IMMEDIATE.
        found = connection.execute(
            select(_predictions.c.id).where(_predictions.c.id == prediction_id).with_for_update()
        ).scalar_one_or_none()
        if found is None:
            raise LookupError(f"prediction {prediction_id} not found")

        active = connection.execute(
            select(_runs.c.id, _runs.c.status).where(
                _runs.c.prediction_id == prediction_id, _runs.c.status.in_(IN_PROGRESS)
            )
        ).first()
        if active is not None:
            raise RunInProgressError(
                f"prediction {prediction_id} already has run {active.id} {active.status}; "
                "wait for it to finish before starting another"
            )

        now = utc_now()
        run_id = connection.execute(
            insert(_runs)
            .values(prediction_id=prediction_id, status=QUEUED, trigger=trigger, queued_at=now)
            .returning(_runs.c.id)
        ).scalar_one()
        connection.execute(
            update(_predictions)
            .where(_predictions.c.id == prediction_id)
            .values(status=QUEUED, error=None, updated_at=now)
        )
        advance_schedule(connection, prediction_id, now)
        if on_queued is not None:
            on_queued(connection, int(run_id))
    logger.info("run %s of prediction %s queued (%s)", run_id, prediction_id, trigger)
    return int(run_id)


def execute_run(engine: Engine, run_id: int, progress: Progress | None = None) -> PredictionRun:
    """Train, score and write the output entity for the QUEUED run `run_id`.

    Returns the run, SUCCEEDED or FAILED. Any `Exception` raised by the kind or while
    writing the output is caught, logged and stored as the run's error. A
    `BaseException` (such as KeyboardInterrupt) propagates and leaves the run
    RUNNING until `mark_interrupted_runs` is called. Raises `LookupError` when the run
    does not exist and `RunError` when it is not QUEUED, before changing anything.
    """
    prediction = _start(engine, run_id)
    prediction_id = prediction["id"]
    started = time.perf_counter()
    logger.info("run %s of prediction %s (%s) started", run_id, prediction_id, prediction["kind"])

    def report_step(step: str) -> None:
        logger.debug("run %s: %s", run_id, step)
        _record_step(engine, run_id, step)
        if progress is not None:
            progress(step)

    try:
        result, row_count = _train_and_write(engine, prediction, report_step)
    except Exception as error:
        elapsed = time.perf_counter() - started
        reason = _failure_reason(error, run_id)
        if isinstance(error, ParameterError | PredictionDataError | RunError):
            logger.warning(
                "run %s of prediction %s failed after %.1f s: %s",
                run_id,
                prediction_id,
                elapsed,
                reason,
            )
        else:
            logger.exception(
                "run %s of prediction %s failed after %.1f s", run_id, prediction_id, elapsed
            )
        _finish_failed(engine, run_id, prediction_id, reason)
        return get_run(engine, run_id)

    _finish_succeeded(engine, run_id, prediction_id, result, row_count)
    logger.info(
        "run %s of prediction %s succeeded in %.1f s: %s rows, grade %s",
        run_id,
        prediction_id,
        time.perf_counter() - started,
        row_count,
        result.grade,
    )
    return get_run(engine, run_id)


def get_run(engine: Engine, run_id: int) -> PredictionRun:
    """Return run `run_id`, detached from any session; raise `LookupError` if missing."""
    with Session(engine) as session:
        run = session.get(PredictionRun, run_id)
        if run is None:
            raise LookupError(f"prediction run {run_id} not found")
        session.expunge(run)
    return run


def mark_interrupted_runs(engine: Engine) -> list[int]:
    """Mark QUEUED and RUNNING runs as FAILED, because their process is gone; return their ids.

    Call it at start-up, together with `drop_stale_staging_tables`, while no other
    process runs predictions on this database: it cannot tell a dead process's run
    from a live one.
    """
    now = utc_now()
    with write_transaction(engine) as connection:
        run_ids = list(
            connection.execute(
                select(_runs.c.id).where(_runs.c.status.in_(IN_PROGRESS)).order_by(_runs.c.id)
            ).scalars()
        )
        connection.execute(
            update(_runs)
            .where(_runs.c.status.in_(IN_PROGRESS))
            .values(status=FAILED, error=INTERRUPTED_REASON, finished_at=now)
        )
        connection.execute(
            update(_predictions)
            .where(_predictions.c.status.in_(IN_PROGRESS))
            .values(status=FAILED, error=INTERRUPTED_REASON, updated_at=now)
        )
    if run_ids:
        logger.warning("marked %s interrupted runs as failed: %s", len(run_ids), run_ids)
    return run_ids


def _start(engine: Engine, run_id: int) -> dict[str, Any]:
    with write_transaction(engine) as connection:
        # FOR UPDATE makes a second worker wait and then read RUNNING, so a run starts once.
        run = connection.execute(
            select(_runs.c.prediction_id, _runs.c.status)
            .where(_runs.c.id == run_id)
            .with_for_update()
        ).first()
        if run is None:
            raise LookupError(f"prediction run {run_id} not found")
        if run.status != QUEUED:
            raise RunError(f"run {run_id} is {run.status}; only a QUEUED run can start")

        now = utc_now()
        connection.execute(
            update(_runs).where(_runs.c.id == run_id).values(status=RUNNING, started_at=now)
        )
        connection.execute(
            update(_predictions)
            .where(_predictions.c.id == run.prediction_id)
            .values(status=RUNNING, error=None, updated_at=now)
        )
        prediction = connection.execute(
            select(_predictions).where(_predictions.c.id == run.prediction_id)
        ).one()
    return dict(prediction._mapping)


def _train_and_write(
    engine: Engine, prediction: Mapping[str, Any], progress: Progress
) -> tuple[KindResult, int]:
    try:
        kind = get_kind(prediction["kind"])
    except KeyError as error:
        raise RunError(str(error.args[0])) from None

    parameters = kind.validate_parameters(prediction["parameters"] or {})
    progress("checking data")
    report = check_prediction_data(engine, prediction["kind"], parameters)
    if report.errors:
        raise RunError(report.summary())

    with single_native_thread():
        result = kind.run(engine, parameters, progress)
    progress("writing")
    entity_name = prediction["output_entity_name"]
    row_count = replace_entity(engine, entity_name, result.rows, prediction_id=prediction["id"])
    progress("refreshing segments")
    try:
        refresh_dynamic_segments(engine, entity_name)
    except Exception:
        # The entity is already replaced, so the run stays a success; segments keep
        # their members until the next refresh.
        logger.exception("refreshing the segments that read %s failed", entity_name)
    return result, row_count


def _record_step(engine: Engine, run_id: int, step: str) -> None:
    with write_transaction(engine) as connection:
        connection.execute(update(_runs).where(_runs.c.id == run_id).values(step=step[:64]))


def _finish_succeeded(
    engine: Engine, run_id: int, prediction_id: int, result: KindResult, row_count: int
) -> None:
    finished = utc_now()
    metrics: list[dict[str, Any]] = [
        {"name": m.name, "value": _number(m.value), "baseline": _number(m.baseline)}
        for m in result.metrics
    ]
    results = {
        "grade": result.grade,
        "grade_reason": result.grade_reason,
        "metrics": metrics,
        "factors": [{"name": f.name, "importance": _number(f.importance)} for f in result.factors],
        "details": _plain(result.details),
        "row_count": row_count,
        "run_id": run_id,
        "finished_at": finished.isoformat(),
    }
    run_metrics: dict[str, Any] = {"grade": result.grade}
    for metric in metrics:
        run_metrics[metric["name"]] = metric["value"]
        run_metrics[f"{metric['name']}_baseline"] = metric["baseline"]

    with write_transaction(engine) as connection:
        connection.execute(
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(
                status=SUCCEEDED, finished_at=finished, metrics=run_metrics, row_count=row_count
            )
        )
        connection.execute(
            update(_predictions)
            .where(_predictions.c.id == prediction_id)
            .values(status=SUCCEEDED, error=None, results=results, updated_at=finished)
        )


def _finish_failed(engine: Engine, run_id: int, prediction_id: int, reason: str) -> None:
    finished = utc_now()
    with write_transaction(engine) as connection:
        connection.execute(
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(status=FAILED, finished_at=finished, error=reason)
        )
        connection.execute(
            update(_predictions)
            .where(_predictions.c.id == prediction_id)
            .values(status=FAILED, error=reason, updated_at=finished)
        )


def _failure_reason(error: Exception, run_id: int) -> str:
    if isinstance(error, ParameterError | PredictionDataError | RunError):
        reason = str(error)
    else:
        # Other errors may carry SQL or internal paths, so the stored reason only
        # names the error type and where the details are.
        reason = (
            f"internal error ({type(error).__name__}) during run {run_id}; "
            "the server log has the details"
        )
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[: MAX_REASON_LENGTH - 1] + "…"
    return reason


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    """Convert numpy scalars and non-finite floats so `value` can be stored as JSON."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float):
        return _number(value)
    return value
