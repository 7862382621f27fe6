"""Prediction mutations, the `run` query and the `runProgress` subscription.

Mutations only write configuration and queue runs; the server's run worker
(`server.prediction.worker`) trains in the background. Every change is audited in
the transaction that makes it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import Connection
from strawberry.scalars import JSON
from strawberry.types import Info

from server.auth.tokens import Principal
from server.graphql.context import context_value
from server.graphql.db import run_db
from server.graphql.inputs import InputError
from server.graphql.permissions import IsContributor, IsViewer
from server.graphql.run_types import PredictionRun, read_run
from server.graphql.scalars import PredictionKind
from server.graphql.segment_operations import errors_of, parse_id
from server.graphql.types import Prediction, read_predictions
from server.prediction.configuration import (
    PredictionChanges,
    PredictionSpec,
    create_prediction,
    delete_prediction,
    update_prediction,
)
from server.prediction.runner import FINISHED, RunInProgressError, queue_run
from server.prediction.worker import RUN_EVENTS, wake_workers
from server.security.audit import AuditAction, AuditTarget, record_audit
from server.segments.rules import InputProblem

# How often a subscription re-reads its run when no notification arrives, as when
# another server process executes the run.
POLL_SECONDS = 1.0


@strawberry.input(description="A new prediction; it stays DRAFT until it first runs.")
class CreatePredictionInput:
    kind: PredictionKind = strawberry.field(description="The model to train.")
    name: str = strawberry.field(description="Unique among predictions, ignoring case.")
    output_entity_name: str = strawberry.field(
        description="The entity the runs write, such as ChurnPredictions: 1 to 60 letters, "
        "digits or underscores, starting with a letter, unique ignoring case."
    )
    parameters: JSON = strawberry.field(
        default_factory=dict,
        description="The kind's parameters by name; omitted ones take their defaults.",
    )
    schedule_days: int | None = strawberry.field(
        default=None,
        description="Retrain every this many days (1 to 3650), counted from the latest run; "
        "null runs it only on request.",
    )


@strawberry.input(description="Changes to a prediction; omitted fields stay as they are.")
class UpdatePredictionInput:
    name: str | None = strawberry.field(default=None, description="A new unique name.")
    output_entity_name: str | None = strawberry.field(
        default=None, description="A new entity name; allowed only before a run wrote the entity."
    )
    parameters: JSON | None = strawberry.field(
        default=None,
        description="All parameters, replacing the current ones; the next run uses them.",
    )
    schedule_days: int | None = strawberry.field(
        default=None, description="A new retraining interval in days (1 to 3650)."
    )
    clear_schedule: bool = strawberry.field(
        default=False, description="Stop scheduled retraining; overrides scheduleDays."
    )


@strawberry.type(description="The saved prediction, or the input errors that prevented it.")
class PredictionPayload:
    prediction: Prediction | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[InputError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The queued run, or the input errors that prevented it.")
class RunPayload:
    run: PredictionRun | None = strawberry.field(description="Null when errors is not empty.")
    errors: list[InputError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The result of deleting a prediction.")
class DeletePredictionPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The id of the deleted prediction; null when errors is not empty."
    )
    errors: list[InputError] = strawberry.field(description="Empty on success.")


def _auditor(
    principal: Principal | None, action: AuditAction, details: dict[str, Any]
) -> Callable[[Connection, int], None]:
    """Return a callback that audits `action` on a prediction inside the change's transaction."""

    def record(connection: Connection, prediction_id: int) -> None:
        record_audit(connection, principal, action, AuditTarget.PREDICTION, prediction_id, details)

    return record


def _no_prediction(raw: str) -> list[InputProblem]:
    return [
        InputProblem(
            "id",
            "NOT_FOUND",
            f"no prediction has id {raw[:40]!r}; list them with the predictions query",
        )
    ]


def _parameters(raw: JSON | None, field: str) -> dict[str, Any] | InputProblem:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return InputProblem(field, "INVALID", "parameters must be a JSON object of names to values")
    return dict(raw)


async def _saved(info: Info, outcome: int | list[InputProblem]) -> PredictionPayload:
    if isinstance(outcome, list):
        return PredictionPayload(prediction=None, errors=errors_of(outcome))
    found = await run_db(read_predictions, context_value(info.context).engine, outcome)
    return PredictionPayload(prediction=found[0] if found else None, errors=[])


@strawberry.type
class PredictionQueries:
    @strawberry.field(description="One prediction run by id.", permission_classes=[IsViewer])
    async def run(self, info: Info, id: strawberry.ID) -> PredictionRun | None:
        run_id = parse_id(id)
        if run_id is None:
            return None
        return await run_db(read_run, context_value(info.context).engine, run_id)


@strawberry.type
class PredictionMutations:
    @strawberry.mutation(
        description="Create a prediction; its parameters are checked against its kind.",
        permission_classes=[IsContributor],
    )
    async def create_prediction(
        self, info: Info, input: CreatePredictionInput
    ) -> PredictionPayload:
        context = context_value(info.context)
        parameters = _parameters(input.parameters, "parameters")
        if isinstance(parameters, InputProblem):
            return PredictionPayload(prediction=None, errors=errors_of([parameters]))
        spec = PredictionSpec(
            name=input.name,
            kind=input.kind.value,
            output_entity_name=input.output_entity_name,
            parameters=parameters,
            schedule_days=input.schedule_days,
        )
        details = {"name": input.name.strip(), "kind": input.kind.value}
        audit = _auditor(context.principal, AuditAction.CREATE, details)
        return await _saved(info, await run_db(create_prediction, context.engine, spec, audit))

    @strawberry.mutation(
        description="Change a prediction's name, parameters, schedule or entity name.",
        permission_classes=[IsContributor],
    )
    async def update_prediction(
        self, info: Info, id: strawberry.ID, input: UpdatePredictionInput
    ) -> PredictionPayload:
        context = context_value(info.context)
        prediction_id = parse_id(id)
        if prediction_id is None:
            return PredictionPayload(prediction=None, errors=errors_of(_no_prediction(id)))
        parameters = (
            None if input.parameters is None else _parameters(input.parameters, "parameters")
        )
        if isinstance(parameters, InputProblem):
            return PredictionPayload(prediction=None, errors=errors_of([parameters]))
        changes = PredictionChanges(
            name=input.name,
            output_entity_name=input.output_entity_name,
            parameters=parameters,
            schedule_days=input.schedule_days,
            clear_schedule=input.clear_schedule,
        )
        changed = [
            name
            for name in ("name", "output_entity_name", "parameters", "schedule_days")
            if getattr(input, name) is not None
        ] + (["schedule_days"] if input.clear_schedule else [])
        audit = _auditor(context.principal, AuditAction.UPDATE, {"changed": changed})
        outcome = await run_db(update_prediction, context.engine, prediction_id, changes, audit)
        return await _saved(info, outcome)

    @strawberry.mutation(
        description="Queue a run of a prediction and return it; the server's worker "
        "executes it. Follow it with the run query or the runProgress subscription.",
        permission_classes=[IsContributor],
    )
    async def run_prediction(self, info: Info, id: strawberry.ID) -> RunPayload:
        context = context_value(info.context)
        prediction_id = parse_id(id)
        if prediction_id is None:
            return RunPayload(run=None, errors=errors_of(_no_prediction(id)))

        principal = context.principal

        def audit(connection: Connection, run_id: int) -> None:
            details = {"runId": str(run_id)}
            record_audit(
                connection,
                principal,
                AuditAction.RUN,
                AuditTarget.PREDICTION,
                prediction_id,
                details,
            )

        try:
            run_id = await run_db(queue_run, context.engine, prediction_id, on_queued=audit)
        except LookupError:
            return RunPayload(run=None, errors=errors_of(_no_prediction(id)))
        except RunInProgressError as error:
            problem = InputProblem("id", "RUN_IN_PROGRESS", str(error))
            return RunPayload(run=None, errors=errors_of([problem]))
        wake_workers()
        return RunPayload(run=await run_db(read_run, context.engine, run_id), errors=[])

    @strawberry.mutation(
        description="Delete a prediction with its runs and output entity; rejected while "
        "a segment reads the entity or a run is in progress.",
        permission_classes=[IsContributor],
    )
    async def delete_prediction(self, info: Info, id: strawberry.ID) -> DeletePredictionPayload:
        context = context_value(info.context)
        prediction_id = parse_id(id)
        if prediction_id is None:
            return DeletePredictionPayload(deleted_id=None, errors=errors_of(_no_prediction(id)))
        audit = _auditor(context.principal, AuditAction.DELETE, {})
        problems = await run_db(delete_prediction, context.engine, prediction_id, audit)
        if problems:
            return DeletePredictionPayload(deleted_id=None, errors=errors_of(problems))
        return DeletePredictionPayload(deleted_id=id, errors=[])


@strawberry.type(description="Live updates over WebSocket (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="The run each time its status or step changes, ending once it "
        "SUCCEEDED or FAILED.",
        permission_classes=[IsViewer],
    )
    async def run_progress(
        self, info: Info, run_id: strawberry.ID
    ) -> AsyncGenerator[PredictionRun, None]:
        engine = context_value(info.context).engine
        parsed = parse_id(run_id)
        last: tuple[str, str | None] | None = None
        while True:
            run = await run_db(read_run, engine, parsed) if parsed is not None else None
            if run is None:
                raise GraphQLError(
                    f"no run has id {run_id[:40]!r}; runPrediction returns the id of a run",
                    extensions={"code": "NOT_FOUND"},
                )
            state = (run.status.value, run.step)
            if state != last:
                last = state
                yield run
            if run.status.value in FINISHED:
                return
            await RUN_EVENTS.wait(int(run.id), POLL_SECONDS)
