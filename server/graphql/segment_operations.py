"""Segment queries and mutations beyond createSegmentFromPrediction.

Every segment built here without a prediction chooses its members among the
customers of the customer profile, unless it is a quick segment, which chooses
among the customers of the entity it names.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.graphql.context import context_value
from server.graphql.db import run_db
from server.graphql.entity_types import Entity, read_entities
from server.graphql.inputs import (
    DeleteSegmentPayload,
    InputError,
    QuickSegmentInput,
    SegmentInput,
    SegmentPayload,
    SegmentPreview,
    SegmentPreviewPayload,
)
from server.graphql.permissions import IsContributor, IsViewer
from server.graphql.types import read_predictions, read_segment
from server.ids import parse_id
from server.names import normalize_name
from server.segments.introspect import PROFILE_ENTITY
from server.segments.lifecycle import delete_segment, refresh_segment, update_segment
from server.segments.preview import preview_segment
from server.segments.rules import InputProblem
from server.segments.service import SegmentRequest, create_segment


def errors_of(problems: list[InputProblem]) -> list[InputError]:
    return [InputError.from_problem(problem) for problem in problems]


def segment_request(
    input: SegmentInput,
    entity_name: str,
    prediction_id: int | None = None,
    base_field: str = "predictionId",
) -> SegmentRequest | InputProblem:
    """Turn a SegmentInput into a request on base entity `entity_name`."""
    definition = input.to_definition()
    if isinstance(definition, InputProblem):
        return definition
    return SegmentRequest(
        name=normalize_name(input.name),
        description=input.description,
        entity_name=entity_name,
        definition=definition,
        prediction_id=prediction_id,
        kind=input.kind,
        base_field=base_field,
    )


def quick_request(input: QuickSegmentInput) -> SegmentRequest:
    return SegmentRequest(
        name=normalize_name(input.name),
        description=input.description,
        entity_name=input.entity,
        definition=input.to_definition(),
        kind=input.kind,
        base_field="entity",
    )


async def saved_payload(info: Info, outcome: int | list[InputProblem]) -> SegmentPayload:
    """Return the payload of a mutation that produced a segment id or problems."""
    if isinstance(outcome, list):
        return SegmentPayload(segment=None, errors=errors_of(outcome))
    segment = await run_db(read_segment, context_value(info.context).engine, outcome)
    return SegmentPayload(segment=segment, errors=[])


async def _base_entity(info: Info, prediction_id: strawberry.ID | None) -> str | InputProblem:
    if prediction_id is None:
        return PROFILE_ENTITY
    parsed = parse_id(prediction_id)
    engine = context_value(info.context).engine
    found = await run_db(read_predictions, engine, parsed) if parsed else []
    if not found:
        return InputProblem(
            "predictionId",
            "NOT_FOUND",
            f"no prediction has id {prediction_id[:40]!r}; list them with the predictions query",
        )
    return found[0].output_entity_name


async def _preview(
    info: Info, request: SegmentRequest | InputProblem, sample_size: int
) -> SegmentPreviewPayload:
    if isinstance(request, InputProblem):
        return SegmentPreviewPayload(preview=None, errors=errors_of([request]))
    outcome = await run_db(
        preview_segment,
        context_value(info.context).engine,
        request.entity_name,
        request.definition,
        sample_size=sample_size,
        base_field=request.base_field,
    )
    if isinstance(outcome, list):
        return SegmentPreviewPayload(preview=None, errors=errors_of(outcome))
    preview = SegmentPreview(
        member_count=outcome.member_count, rule_counts=outcome.rule_counts, sample=outcome.sample
    )
    return SegmentPreviewPayload(preview=preview, errors=[])


@strawberry.type
class SegmentQueries:
    @strawberry.field(
        description="Every entity segments can read, the customer profile first.",
        permission_classes=[IsViewer],
    )
    async def entities(self, info: Info) -> list[Entity]:
        return await run_db(read_entities, context_value(info.context).engine)

    @strawberry.field(description="One entity by name.", permission_classes=[IsViewer])
    async def entity(self, info: Info, name: str) -> Entity | None:
        found = await run_db(read_entities, context_value(info.context).engine, name)
        return found[0] if found else None

    @strawberry.field(
        description="Count the customers a segment would hold, per rule and in all, and "
        "list a sample, without saving anything; the name is not checked. With a "
        "predictionId the members come from its output entity, otherwise from the "
        "customer profile.",
        permission_classes=[IsViewer],
    )
    async def preview_segment(
        self,
        info: Info,
        input: SegmentInput,
        prediction_id: strawberry.ID | None = None,
        sample_size: int = 10,
    ) -> SegmentPreviewPayload:
        base = await _base_entity(info, prediction_id)
        if isinstance(base, InputProblem):
            return SegmentPreviewPayload(preview=None, errors=errors_of([base]))
        return await _preview(info, segment_request(input, base), sample_size)

    @strawberry.field(
        description="The size and a sample of a quick segment, without saving it.",
        permission_classes=[IsViewer],
    )
    async def preview_quick_segment(
        self, info: Info, input: QuickSegmentInput, sample_size: int = 10
    ) -> SegmentPreviewPayload:
        return await _preview(info, quick_request(input), sample_size)


@strawberry.type
class SegmentMutations:
    @strawberry.mutation(
        description="Create a segment over the customer profile; conditions may name any entity.",
        permission_classes=[IsContributor],
    )
    async def create_segment(self, info: Info, input: SegmentInput) -> SegmentPayload:
        request = segment_request(input, PROFILE_ENTITY)
        if isinstance(request, InputProblem):
            return SegmentPayload(segment=None, errors=errors_of([request]))
        context = context_value(info.context)
        outcome = await run_db(create_segment, context.engine, request, context.principal)
        return await saved_payload(info, outcome)

    @strawberry.mutation(
        description="Create a segment from one condition on an attribute of any entity; "
        "previewQuickSegment gives its size first.",
        permission_classes=[IsContributor],
    )
    async def create_quick_segment(self, info: Info, input: QuickSegmentInput) -> SegmentPayload:
        context = context_value(info.context)
        request = quick_request(input)
        outcome = await run_db(create_segment, context.engine, request, context.principal)
        return await saved_payload(info, outcome)

    @strawberry.mutation(
        description="Replace a segment's name, description, kind and rules, and "
        "re-evaluate its members; its base entity stays the same.",
        permission_classes=[IsContributor],
    )
    async def update_segment(
        self, info: Info, id: strawberry.ID, input: SegmentInput
    ) -> SegmentPayload:
        segment_id = parse_id(id)
        if segment_id is None:
            return SegmentPayload(segment=None, errors=errors_of(_no_segment(id)))
        request = segment_request(input, "", base_field="id")
        if isinstance(request, InputProblem):
            return SegmentPayload(segment=None, errors=errors_of([request]))
        context = context_value(info.context)
        outcome = await run_db(
            update_segment, context.engine, segment_id, request, context.principal
        )
        return await saved_payload(info, outcome)

    @strawberry.mutation(
        description="Re-evaluate a dynamic segment's rules against the live entities.",
        permission_classes=[IsContributor],
    )
    async def refresh_segment(self, info: Info, id: strawberry.ID) -> SegmentPayload:
        segment_id = parse_id(id)
        if segment_id is None:
            return SegmentPayload(segment=None, errors=errors_of(_no_segment(id)))
        context = context_value(info.context)
        outcome = await run_db(refresh_segment, context.engine, segment_id, context.principal)
        return await saved_payload(info, outcome)

    @strawberry.mutation(
        description="Delete a segment with its members and history.",
        permission_classes=[IsContributor],
    )
    async def delete_segment(self, info: Info, id: strawberry.ID) -> DeleteSegmentPayload:
        segment_id = parse_id(id)
        problems = (
            _no_segment(id)
            if segment_id is None
            else await run_db(
                delete_segment,
                context_value(info.context).engine,
                segment_id,
                context_value(info.context).principal,
            )
        )
        if problems:
            return DeleteSegmentPayload(deleted_id=None, errors=errors_of(problems))
        return DeleteSegmentPayload(deleted_id=id, errors=[])


def _no_segment(raw: str) -> list[InputProblem]:
    return [
        InputProblem(
            "id", "NOT_FOUND", f"no segment has id {raw[:40]!r}; list them with the segments query"
        )
    ]
