"""Previewing a segment: its size, each rule's size and a few members, writing nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from server.segments.compiler import CUSTOMER_ID, compile_counts, compile_members
from server.segments.definition import Definition
from server.segments.rules import InputProblem
from server.segments.service import check_request_rules
from server.storage.tables import utc_now

MAX_SAMPLE_SIZE = 100


@dataclass(frozen=True)
class SegmentPreview:
    """The customers a definition would select now."""

    member_count: int
    rule_counts: list[int]
    sample: list[str]


def preview_segment(
    engine: Engine,
    entity_name: str,
    definition: Definition,
    *,
    sample_size: int = 10,
    base_field: str = "predictionId",
    now: datetime | None = None,
) -> SegmentPreview | list[InputProblem]:
    """Count the members of `definition` on base entity `entity_name` and read a sample.

    Two read statements: one returns every count, the other the first `sample_size`
    members by CustomerId. `now` (aware or naive UTC) defaults to the current time.
    """
    if not 0 <= sample_size <= MAX_SAMPLE_SIZE:
        return [
            InputProblem(
                "sampleSize",
                "INVALID",
                f"sampleSize must be between 0 and {MAX_SAMPLE_SIZE}, got {sample_size}",
            )
        ]
    evaluated_at = (now or utc_now()).replace(tzinfo=None)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # One snapshot for both statements, so the counts and the sample agree while
            # a run replaces the entity. SQLite's read transaction already has one.
            connection.execution_options(isolation_level="REPEATABLE READ")
        checked = check_request_rules(connection, entity_name, definition, base_field)
        if isinstance(checked, list):
            return checked
        base, rules = checked

        counts = connection.execute(compile_counts(rules, base, evaluated_at)).one()
        # Ordering the members statement itself, not a subquery of it, lets the
        # database walk the CustomerId index and stop after `sample_size` members.
        members = compile_members(rules, base, evaluated_at)
        column = members.selected_columns[CUSTOMER_ID]
        sample = connection.execute(members.order_by(column).limit(sample_size)).scalars()
        return SegmentPreview(
            member_count=int(counts[0]),
            rule_counts=[int(value) for value in counts[1:]],
            sample=[str(value) for value in sample],
        )
