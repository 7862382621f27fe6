"""Retraining schedules.

A prediction with `schedule_days` set is due `schedule_days` days after its latest run
was queued, by a person or by the schedule, so a manual run also moves the next
scheduled one.
The server's run worker queues due runs (see `server.prediction.worker`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from server.storage.tables import Prediction, table_of

MAX_SCHEDULE_DAYS = 3650

_predictions = table_of(Prediction)


def check_schedule_days(value: int | None) -> str | None:
    """Return why `value` cannot be a schedule, or None when it can (None means no schedule)."""
    if value is None or 1 <= value <= MAX_SCHEDULE_DAYS:
        return None
    return f"must be a whole number of days from 1 to {MAX_SCHEDULE_DAYS}, or null for no schedule"


def next_run_at(now: datetime, schedule_days: int | None) -> datetime | None:
    """Return when a prediction on this schedule is next due, or None without a schedule."""
    return None if schedule_days is None else now + timedelta(days=schedule_days)


def advance_schedule(connection: Connection, prediction_id: int, now: datetime) -> None:
    """Set the next scheduled run to `schedule_days` after `now`, in the caller's transaction."""
    schedule_days = connection.execute(
        select(_predictions.c.schedule_days).where(_predictions.c.id == prediction_id)
    ).scalar_one_or_none()
    connection.execute(
        update(_predictions)
        .where(_predictions.c.id == prediction_id)
        .values(next_run_at=next_run_at(now, schedule_days))
    )


def due_prediction_ids(engine: Engine, now: datetime) -> list[int]:
    """Return the ids of scheduled predictions whose next run is due at `now`, oldest first."""
    query = (
        select(_predictions.c.id)
        .where(
            _predictions.c.schedule_days.is_not(None),
            _predictions.c.next_run_at.is_not(None),
            _predictions.c.next_run_at <= now,
        )
        .order_by(_predictions.c.next_run_at, _predictions.c.id)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())
