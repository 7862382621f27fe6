"""Keeping segments current after a run replaces the output entity they read."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, select

from server.segments.lifecycle import refresh_segment, segment_kind
from server.segments.service import SegmentKind
from server.storage.tables import Segment, SegmentEntity, table_of

logger = logging.getLogger(__name__)


def refresh_dynamic_segments(engine: Engine, entity_name: str) -> list[int]:
    """Re-evaluate every dynamic segment that reads `entity_name`; return the refreshed ids.

    A segment whose saved rules no longer fit the entity keeps its members, and the
    problem is logged, because the run that replaced the entity still succeeded.
    """
    segments = table_of(Segment)
    reads = table_of(SegmentEntity)
    query = (
        select(segments.c.id, segments.c.definition)
        .join(reads, reads.c.segment_id == segments.c.id)
        .where(reads.c.entity_name == entity_name)
        .order_by(segments.c.id)
    )
    with engine.connect() as connection:
        found = connection.execute(query).all()

    refreshed: list[int] = []
    for segment_id, definition in found:
        if segment_kind(definition) is not SegmentKind.DYNAMIC:
            continue
        outcome = refresh_segment(engine, segment_id)
        if isinstance(outcome, list):
            logger.warning(
                "segment %s kept its members after entity %s changed: %s",
                segment_id,
                entity_name,
                "; ".join(problem.message for problem in outcome),
            )
        else:
            refreshed.append(segment_id)
    return refreshed
