"""Creating, changing and deleting predictions.

Each change is one write transaction that checks every field first, so all the
problems of a request are returned together and nothing is written while any remains.
`on_change` runs inside that transaction, so an audit record commits with the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.names import name_character_problem, name_key, normalize_name
from server.prediction.base import ParameterError
from server.prediction.output import table_name_for, validate_entity_name
from server.prediction.registry import KINDS, get_kind
from server.prediction.runner import IN_PROGRESS
from server.prediction.schedule import check_schedule_days, next_run_at
from server.segments.introspect import PROFILE_ENTITY
from server.segments.rules import InputProblem
from server.storage.constraints import violated_unique_columns
from server.storage.engine import write_transaction
from server.storage.tables import (
    OutputEntityRecord,
    Prediction,
    PredictionRun,
    Segment,
    SegmentEntity,
    table_of,
    utc_now,
)

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 128
OnChange = Callable[[Connection, int], None]

_predictions = table_of(Prediction)
_entities = table_of(OutputEntityRecord)
_runs = table_of(PredictionRun)


@dataclass(frozen=True)
class PredictionSpec:
    """A request to create a prediction."""

    name: str
    kind: str
    output_entity_name: str
    parameters: Mapping[str, Any]
    schedule_days: int | None = None


@dataclass(frozen=True)
class PredictionChanges:
    """A request to change a prediction; a None field stays as it is."""

    name: str | None = None
    output_entity_name: str | None = None
    parameters: Mapping[str, Any] | None = None
    schedule_days: int | None = None
    clear_schedule: bool = False


def create_prediction(
    engine: Engine, spec: PredictionSpec, on_change: OnChange | None = None
) -> int | list[InputProblem]:
    """Create a DRAFT prediction; return its id, or the problems that stop it."""
    try:
        with write_transaction(engine) as connection:
            return _create(connection, spec, on_change)
    except IntegrityError as error:
        return _raced(error, spec.name, spec.output_entity_name)


def _create(
    connection: Connection, spec: PredictionSpec, on_change: OnChange | None
) -> int | list[InputProblem]:
    problems = _check_name(connection, spec.name, None)
    problems += _check_entity_name(connection, spec.output_entity_name, None)
    problems += _schedule_problems(spec.schedule_days)
    parameters: dict[str, Any] = {}
    if spec.kind not in KINDS:
        valid = ", ".join(sorted(KINDS))
        message = f"this server cannot run {spec.kind} predictions yet; valid: {valid}"
        problems.append(InputProblem("kind", "UNSUPPORTED_KIND", message))
    else:
        checked = _check_parameters(spec.kind, spec.parameters)
        if isinstance(checked, list):
            problems += checked
        else:
            parameters = checked
    if problems:
        return problems

    now = utc_now()
    prediction_id = connection.execute(
        insert(_predictions)
        .values(
            name=normalize_name(spec.name),
            kind=spec.kind,
            status="DRAFT",
            output_entity_name=spec.output_entity_name,
            parameters=parameters,
            schedule_days=spec.schedule_days,
            next_run_at=next_run_at(now, spec.schedule_days),
            created_at=now,
            updated_at=now,
        )
        .returning(_predictions.c.id)
    ).scalar_one()
    if on_change is not None:
        on_change(connection, int(prediction_id))
    logger.info("prediction %s (%s) created", prediction_id, spec.kind)
    return int(prediction_id)


def update_prediction(
    engine: Engine,
    prediction_id: int,
    changes: PredictionChanges,
    on_change: OnChange | None = None,
) -> int | list[InputProblem]:
    """Apply `changes` to a prediction; the next run uses them. Return its id or problems."""
    try:
        with write_transaction(engine) as connection:
            return _update(connection, prediction_id, changes, on_change)
    except IntegrityError as error:
        return _raced(error, changes.name, changes.output_entity_name)


def _update(
    connection: Connection,
    prediction_id: int,
    changes: PredictionChanges,
    on_change: OnChange | None,
) -> int | list[InputProblem]:
    row = _lock(connection, prediction_id)
    if row is None:
        return [_not_found(prediction_id)]

    values: dict[str, Any] = {}
    problems: list[InputProblem] = []
    if changes.name is not None:
        problems += _check_name(connection, changes.name, prediction_id)
        values["name"] = normalize_name(changes.name)
        values["name_key"] = name_key(changes.name)
    if (
        changes.output_entity_name is not None
        and changes.output_entity_name != row.output_entity_name
    ):
        problems += _check_entity_rename(connection, row.output_entity_name, row.id)
        problems += _check_entity_name(connection, changes.output_entity_name, prediction_id)
        values["output_entity_name"] = changes.output_entity_name
        values["output_entity_key"] = name_key(changes.output_entity_name)
    if changes.parameters is not None:
        checked = _check_parameters(row.kind, changes.parameters)
        if isinstance(checked, list):
            problems += checked
        else:
            values["parameters"] = checked
    if changes.clear_schedule or changes.schedule_days is not None:
        days = None if changes.clear_schedule else changes.schedule_days
        problems += _schedule_problems(days)
        values["schedule_days"] = days
        values["next_run_at"] = next_run_at(utc_now(), days)
    if problems:
        return problems

    values["updated_at"] = utc_now()
    connection.execute(
        update(_predictions).where(_predictions.c.id == prediction_id).values(**values)
    )
    if on_change is not None:
        on_change(connection, prediction_id)
    logger.info("prediction %s updated: %s", prediction_id, ", ".join(sorted(values)))
    return prediction_id


def delete_prediction(
    engine: Engine, prediction_id: int, on_change: OnChange | None = None
) -> list[InputProblem]:
    """Delete a prediction, its runs and its output entity; return problems, empty on success.

    Rejected while a run is queued or running, and while a segment reads the output
    entity, because deleting the table would break that segment.
    """
    with write_transaction(engine) as connection:
        row = _lock(connection, prediction_id)
        if row is None:
            return [_not_found(prediction_id)]
        problems = _delete_problems(connection, prediction_id, row.output_entity_name)
        if problems:
            return problems

        _drop_output_entity(connection, prediction_id, row.output_entity_name)
        connection.execute(delete(_runs).where(_runs.c.prediction_id == prediction_id))
        connection.execute(delete(_predictions).where(_predictions.c.id == prediction_id))
        if on_change is not None:
            on_change(connection, prediction_id)
    logger.info("prediction %s deleted with entity %s", prediction_id, row.output_entity_name)
    return []


def _delete_problems(
    connection: Connection, prediction_id: int, entity_name: str
) -> list[InputProblem]:
    active = connection.execute(
        select(_runs.c.id, _runs.c.status).where(
            _runs.c.prediction_id == prediction_id, _runs.c.status.in_(IN_PROGRESS)
        )
    ).first()
    if active is not None:
        return [
            InputProblem(
                "id",
                "RUN_IN_PROGRESS",
                f"run {active.id} of this prediction is {active.status}; delete the "
                "prediction after the run finishes",
            )
        ]
    readers = _segments_reading(connection, entity_name)
    if readers:
        listed = ", ".join(repr(name) for name in readers)
        return [
            InputProblem(
                "id",
                "ENTITY_IN_USE",
                f"segments {listed} read the output entity {entity_name}; delete those "
                "segments or change their rules first",
            )
        ]
    return []


def _segments_reading(connection: Connection, entity_name: str) -> list[str]:
    # The same query as server.segments.service.segments_reading, run on this
    # transaction's connection so a segment saved meanwhile cannot slip past the check.
    segments = table_of(Segment)
    reads = table_of(SegmentEntity)
    query = (
        select(segments.c.name)
        .join(reads, reads.c.segment_id == segments.c.id)
        .where(reads.c.entity_name == entity_name)
        .order_by(segments.c.name)
    )
    return list(connection.execute(query).scalars())


def _drop_output_entity(connection: Connection, prediction_id: int, entity_name: str) -> None:
    found = connection.execute(
        select(_entities.c.table_name, _entities.c.prediction_id).where(
            _entities.c.name == entity_name
        )
    ).first()
    if found is None or found.prediction_id != prediction_id:
        return
    preparer = connection.dialect.identifier_preparer
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {preparer.quote(found.table_name)}")
    connection.execute(delete(_entities).where(_entities.c.name == entity_name))


def _lock(connection: Connection, prediction_id: int) -> Any:
    return connection.execute(
        select(_predictions).where(_predictions.c.id == prediction_id).with_for_update()
    ).first()


def _check_parameters(kind: str, raw: Mapping[str, Any]) -> dict[str, Any] | list[InputProblem]:
    try:
        return get_kind(kind).validate_parameters(raw)
    except ParameterError as error:
        return [
            InputProblem(f"parameters.{name}", "INVALID_PARAMETER", f"{name} {reason}")
            for name, reason in error.problems.items()
        ]


def _check_name(connection: Connection, name: str, except_id: int | None) -> list[InputProblem]:
    stripped = normalize_name(name)
    if not stripped:
        return [InputProblem("name", "REQUIRED", "a prediction needs a non-empty name")]
    problem = name_character_problem(stripped)
    if problem is not None:
        return [InputProblem("name", "INVALID_CHARACTER", problem)]
    if len(stripped) > MAX_NAME_LENGTH:
        return [
            InputProblem(
                "name", "TOO_LONG", f"prediction names are limited to {MAX_NAME_LENGTH} characters"
            )
        ]
    query = select(_predictions.c.name).where(_predictions.c.name_key == name_key(stripped))
    if except_id is not None:
        query = query.where(_predictions.c.id != except_id)
    existing = connection.execute(query).scalar()
    if existing is not None:
        return [_taken("name", existing)]
    return []


def _check_entity_name(
    connection: Connection, name: str, except_id: int | None
) -> list[InputProblem]:
    try:
        validate_entity_name(name)
    except ValueError as error:
        return [InputProblem("outputEntityName", "INVALID", str(error))]
    if name.lower() == PROFILE_ENTITY.lower():
        return [_taken("outputEntityName", PROFILE_ENTITY)]

    # Table names are the lower-cased entity names, so names that differ only in case clash.
    claimed = select(_predictions.c.output_entity_name).where(
        _predictions.c.output_entity_key == name_key(name)
    )
    if except_id is not None:
        claimed = claimed.where(_predictions.c.id != except_id)
    registered = select(_entities.c.name).where(_entities.c.table_name == table_name_for(name))
    if except_id is not None:
        # A prediction may keep the entity it wrote itself.
        registered = registered.where(_entities.c.prediction_id.is_distinct_from(except_id))
    existing = connection.execute(claimed).scalar() or connection.execute(registered).scalar()
    if existing is not None:
        return [_taken("outputEntityName", existing)]
    return []


def _check_entity_rename(
    connection: Connection, current: str, prediction_id: int
) -> list[InputProblem]:
    active = connection.execute(
        select(_runs.c.id).where(
            _runs.c.prediction_id == prediction_id, _runs.c.status.in_(["QUEUED", "RUNNING"])
        )
    ).first()
    if active is not None:
        return [
            InputProblem(
                "outputEntityName",
                "RUN_IN_PROGRESS",
                f"run {active.id} is about to write the output entity {current}; wait until "
                "it finishes before renaming the entity",
            )
        ]
    written = connection.execute(
        select(_entities.c.name).where(_entities.c.name == current)
    ).first()
    if written is None:
        return []
    return [
        InputProblem(
            "outputEntityName",
            "ENTITY_WRITTEN",
            f"a run already wrote the output entity {current}, and segments may read it "
            "by that name; create a new prediction to write another entity",
        )
    ]


def _schedule_problems(schedule_days: int | None) -> list[InputProblem]:
    reason = check_schedule_days(schedule_days)
    return [] if reason is None else [InputProblem("scheduleDays", "INVALID", reason)]


def _taken(field: str, existing: str) -> InputProblem:
    what = "a prediction" if field == "name" else "an entity"
    return InputProblem(
        field,
        "DUPLICATE_NAME",
        f"{what} named {existing!r} already exists (names are compared ignoring case); "
        "choose another name",
    )


def _raced(error: IntegrityError, name: str | None, entity_name: str | None) -> list[InputProblem]:
    """Return the duplicate-name problem for a unique key of `prediction` that `error` reports.

    Another transaction can commit the same name or output entity name ignoring case
    between the checks and the write, and a unique index then rejects the write.
    Re-raise `error` when it is any other violation.
    """
    columns = violated_unique_columns(error, _predictions)
    if name is not None and columns & {"name", "name_key"}:
        problem = _raced_name("name", normalize_name(name))
    elif entity_name is not None and columns & {"output_entity_name", "output_entity_key"}:
        problem = _raced_name("outputEntityName", entity_name)
    else:
        raise error
    logger.info(
        "prediction not saved: another request saved its %s at the same time", problem.field
    )
    return [problem]


def _raced_name(field: str, requested: str) -> InputProblem:
    what = "a prediction" if field == "name" else "an entity"
    return InputProblem(
        field,
        "DUPLICATE_NAME",
        f"{what} named {requested.strip()!r}, or a name equal to it ignoring case, was saved "
        "by another request at the same time; choose another name",
    )


def _not_found(prediction_id: int) -> InputProblem:
    return InputProblem(
        "id",
        "NOT_FOUND",
        f"no prediction has id {prediction_id}; list them with the predictions query",
    )
