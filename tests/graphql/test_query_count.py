"""SQL statements per GraphQL request must not grow with the number of items listed.

A `before_cursor_execute` listener counts every statement the engine sends while
one request runs, token lookup and table reflection included. The server reuses a
token lookup for a few seconds, so tests that compare counts make one uncounted
request first and compare the steady state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, insert

from server.prediction.output import replace_entity
from server.storage.engine import write_transaction
from server.storage.tables import Segment, SegmentMember, table_of, utc_now
from tests.graphql.conftest import GraphQLCaller, add_prediction, churn_rows

NESTED = """
query {
  predictions { id name outputEntity { name rowCount attributes { name dataType } } }
  segments(first: 50) {
    edges { node { id name memberCount
      members(first: 5) { totalCount edges { node { customerId region } } } } }
  }
}
"""

MEMBERS = """
query Members($id: ID!, $first: Int!) {
  segment(id: $id) { members(first: $first) { edges { node { customerId region } } } }
}
"""


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*arguments: Any) -> None:
        statements.append(str(arguments[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_predictions_with_segments(engine: Engine, first: int, count: int) -> list[int]:
    """Add `count` predictions, each with an output entity and a segment of 30 members."""
    segment_ids = []
    for number in range(first, first + count):
        entity = f"Churn{number}"
        prediction = add_prediction(engine, name=f"Churn {number}", entity=entity)
        rows = churn_rows(30, seed=number)
        replace_entity(engine, entity, rows, prediction_id=prediction)
        with write_transaction(engine) as connection:
            segment_id = connection.execute(
                insert(table_of(Segment))
                .values(
                    name=f"Segment {number}",
                    entity_name=entity,
                    prediction_id=prediction,
                    definition={},
                    member_count=len(rows),
                    created_at=utc_now(),
                    last_evaluated_at=utc_now(),
                )
                .returning(table_of(Segment).c.id)
            ).scalar_one()
            connection.execute(
                insert(table_of(SegmentMember)),
                [{"segment_id": segment_id, "customer_id": key} for key in rows["CustomerId"]],
            )
        segment_ids.append(int(segment_id))
    return segment_ids


async def statements_for(
    engine: Engine, caller: GraphQLCaller, query: str, variables: dict[str, Any] | None = None
) -> list[str]:
    with counted_statements(engine) as statements:
        body = await caller(query, variables)
    assert "errors" not in body, body["errors"]
    return statements


async def test_nested_query_constant_statements(engine: Engine, viewer: GraphQLCaller) -> None:
    """Count the statements of one nested query over one and over five predictions.

    Reflected tables are cached per process and entity version, so the first request
    after new entities appear also reflects them. One uncounted request before each
    counted one warms that cache, and the counts compare the steady state.
    """
    add_predictions_with_segments(engine, 0, 1)
    await statements_for(engine, viewer, NESTED)
    one = await statements_for(engine, viewer, NESTED)
    add_predictions_with_segments(engine, 1, 4)
    await statements_for(engine, viewer, NESTED)
    five = await statements_for(engine, viewer, NESTED)

    assert len(five) == len(one), "\n".join(five)


async def test_members_page_size_keeps_statements(engine: Engine, viewer: GraphQLCaller) -> None:
    [segment_id] = add_predictions_with_segments(engine, 0, 1)
    await statements_for(engine, viewer, MEMBERS, {"id": str(segment_id), "first": 2})
    small = await statements_for(engine, viewer, MEMBERS, {"id": str(segment_id), "first": 2})
    large = await statements_for(engine, viewer, MEMBERS, {"id": str(segment_id), "first": 30})

    assert len(large) == len(small)


async def test_counter_sees_each_request(engine: Engine, viewer: GraphQLCaller) -> None:
    add_predictions_with_segments(engine, 0, 2)
    statements = await statements_for(engine, viewer, NESTED)

    # The first request of a token looks it up, so a silent listener would fail here.
    assert len(statements) >= 2
