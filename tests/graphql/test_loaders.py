"""The batch reads behind the DataLoaders return what the per-item reads return."""

from __future__ import annotations

from sqlalchemy import Engine, insert

from server.graphql.loaders import (
    read_evaluations,
    read_member_pages,
    read_output_entities,
    read_runs,
    read_segment_entities,
)
from server.segments.service import member_page
from server.storage.engine import write_transaction
from server.storage.tables import (
    PredictionRun,
    SegmentEntity,
    SegmentEvaluation,
    table_of,
    utc_now,
)
from tests.graphql.conftest import add_prediction
from tests.graphql.test_query_count import add_predictions_with_segments, counted_statements


def test_member_pages_match_single_reads(engine: Engine) -> None:
    segment_ids = add_predictions_with_segments(engine, 0, 3)
    keys = [(segment_id, 7, None) for segment_id in segment_ids]
    keys += [(segment_ids[1], 5, "C0010"), (segment_ids[2], 40, None)]

    with counted_statements(engine) as statements:
        pages = read_member_pages(engine, keys)
    with engine.connect() as connection:
        expected = [member_page(connection, *key) for key in keys]

    assert pages == expected
    # One statement per distinct (page size, after), plus the transaction's BEGIN on SQLite.
    assert len([text for text in statements if text.lstrip().upper().startswith("SELECT")]) == 3


def test_output_entities_in_key_order(engine: Engine) -> None:
    add_predictions_with_segments(engine, 0, 2)

    rows = read_output_entities(engine, ["Churn1", "Missing", "Churn0"])

    assert [row["name"] if row else None for row in rows] == ["Churn1", None, "Churn0"]


def test_runs_newest_first_per_prediction(engine: Engine) -> None:
    first = add_prediction(engine, name="First", entity="FirstChurn")
    second = add_prediction(engine, name="Second", entity="SecondChurn")
    table = table_of(PredictionRun)
    with write_transaction(engine) as connection:
        ids = [
            connection.execute(
                insert(table).values(prediction_id=prediction_id).returning(table.c.id)
            ).scalar_one()
            for prediction_id in (first, second, first, first, second)
        ]

    runs = read_runs(engine, [(first, 2), (second, 5), (first, 0)])

    assert [[row.id for row in rows] for rows in runs] == [[ids[3], ids[2]], [ids[4], ids[1]], []]


def test_evaluation_pages_before_cursor(engine: Engine) -> None:
    first, second = add_predictions_with_segments(engine, 0, 2)
    table = table_of(SegmentEvaluation)
    with write_transaction(engine) as connection:
        ids = [
            connection.execute(
                insert(table)
                .values(segment_id=segment_id, evaluated_at=utc_now(), member_count=1)
                .returning(table.c.id)
            ).scalar_one()
            for segment_id in (first, second, first, first)
        ]

    keys = [(first, 1, None), (first, 5, ids[3]), (second, 5, None)]
    pages = read_evaluations(engine, keys)

    # A page holds up to size + 1 rows, so the caller can tell whether another follows.
    assert [[row.id for row in rows] for rows in pages] == [
        [ids[3], ids[2]],
        [ids[2], ids[0]],
        [ids[1]],
    ]


def test_segment_entities_per_segment(engine: Engine) -> None:
    first, second = add_predictions_with_segments(engine, 0, 2)
    with write_transaction(engine) as connection:
        connection.execute(
            insert(table_of(SegmentEntity)),
            [
                {"segment_id": first, "entity_name": "Customer"},
                {"segment_id": first, "entity_name": "Churn0"},
            ],
        )

    names = read_segment_entities(engine, [second, first])

    assert names == [[], ["Churn0", "Customer"]]
