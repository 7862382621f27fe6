"""The schema: queries, mutations, and the masking of unexpected errors."""

from __future__ import annotations

import logging
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import Info

from server.graphql.audit import AuditQueries
from server.graphql.context import Context
from server.graphql.db import run_db
from server.graphql.document_cache import DocumentParserCache, DocumentValidationCache
from server.graphql.inputs import InputError, SegmentInput, SegmentPayload
from server.graphql.operation_name import RequireOperationName
from server.graphql.pagination import decode_number_cursor, page_size
from server.graphql.permissions import IsContributor, IsViewer
from server.graphql.predictions import PredictionMutations, PredictionQueries, Subscription
from server.graphql.prefetch import read_segment_with_members, requested_member_page
from server.graphql.segment_operations import SegmentMutations, SegmentQueries, segment_request
from server.graphql.tokens import TokenMutations, TokenQueries
from server.graphql.types import (
    OutputEntity,
    Prediction,
    Segment,
    SegmentConnection,
    read_output_entity,
    read_predictions,
    read_segment,
    read_segments,
)
from server.graphql.uploads import UploadMutations
from server.graphql.viewer import Viewer, resolve_viewer
from server.ids import MAX_ID, parse_id
from server.security.limits import RequestLimits
from server.security.suggestions import HideSuggestions
from server.segments.rules import InputProblem
from server.segments.service import create_segment

logger = logging.getLogger(__name__)


def _context(info: Info) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


@strawberry.type(description="Reads; every field needs at least the viewer role.")
class Query(TokenQueries, AuditQueries, SegmentQueries, PredictionQueries):
    viewer: Viewer = strawberry.field(
        resolver=resolve_viewer,
        description="The caller behind the API token, with its role.",
        permission_classes=[IsViewer],
    )

    @strawberry.field(description="All predictions, oldest first.", permission_classes=[IsViewer])
    async def predictions(self, info: Info) -> list[Prediction]:
        return await run_db(read_predictions, _context(info).engine)

    @strawberry.field(description="One prediction by id.", permission_classes=[IsViewer])
    async def prediction(self, info: Info, id: strawberry.ID) -> Prediction | None:
        prediction_id = parse_id(id)
        if prediction_id is None:
            return None
        found = await run_db(read_predictions, _context(info).engine, prediction_id)
        return found[0] if found else None

    @strawberry.field(description="One output entity by name.", permission_classes=[IsViewer])
    async def output_entity(self, info: Info, name: str) -> OutputEntity | None:
        return await run_db(read_output_entity, _context(info).engine, name)

    @strawberry.field(description="Segments, oldest first.", permission_classes=[IsViewer])
    async def segments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> SegmentConnection:
        context = _context(info)
        size = page_size(first, context.settings.max_page_size)
        after_id = decode_number_cursor("segment", after, MAX_ID)
        return await run_db(read_segments, context.engine, size, after_id)

    @strawberry.field(description="One segment by id.", permission_classes=[IsViewer])
    async def segment(self, info: Info, id: strawberry.ID) -> Segment | None:
        segment_id = parse_id(id)
        if segment_id is None:
            return None
        context = _context(info)
        loader = context.loaders.member_page
        key = requested_member_page(info, segment_id, context.settings.max_page_size)
        # A loader that does not cache (WebSocket operations) would not keep a primed page.
        if key is None or not loader.cache:
            return await run_db(read_segment, context.engine, segment_id)
        segment, page = await run_db(read_segment_with_members, context.engine, key)
        if page is not None:
            loader.prime(key, page)
        return segment


def _not_found(prediction_id: str) -> SegmentPayload:
    return SegmentPayload(
        segment=None,
        errors=[
            InputError(
                field="predictionId",
                code="NOT_FOUND",
                message=f"no prediction has id {prediction_id[:40]!r}; list them with "
                "the predictions query",
            )
        ],
    )


@strawberry.type(description="Changes; each names the role it needs.")
class Mutation(TokenMutations, SegmentMutations, UploadMutations, PredictionMutations):
    @strawberry.mutation(
        description="Create a segment from attributes of a prediction's output entity.",
        permission_classes=[IsContributor],
    )
    async def create_segment_from_prediction(
        self, info: Info, prediction_id: strawberry.ID, input: SegmentInput
    ) -> SegmentPayload:
        context = _context(info)
        parsed = parse_id(prediction_id)
        found = await run_db(read_predictions, context.engine, parsed) if parsed else []
        if not found:
            return _not_found(prediction_id)
        prediction = found[0]
        request = segment_request(input, prediction.output_entity_name, parsed)
        if isinstance(request, InputProblem):
            return SegmentPayload(segment=None, errors=[_error(request)])
        outcome = await run_db(create_segment, context.engine, request, context.principal)
        if isinstance(outcome, list):
            return SegmentPayload(segment=None, errors=[_error(item) for item in outcome])
        return SegmentPayload(
            segment=await run_db(read_segment, context.engine, outcome), errors=[]
        )


def _error(problem: InputProblem) -> InputError:
    return InputError.from_problem(problem)


def _should_mask(error: GraphQLError) -> bool:
    """Mask every error except those raised on purpose for the client to read."""
    original = error.original_error
    if original is None:
        return False
    if isinstance(original, GraphQLError):
        return False
    logger.error("unexpected error in %s", error.path, exc_info=original)
    return True


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        RequestLimits,
        DocumentParserCache,
        DocumentValidationCache,
        RequireOperationName,
        HideSuggestions,
        partial(
            MaskErrors,
            should_mask_error=_should_mask,
            error_message="internal error; the server log has the details",
        ),
    ],
)
