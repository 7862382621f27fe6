"""The batch reads behind the DataLoaders return what the per-item reads return."""

from __future__ import annotations

from sqlalchemy import Engine

from server.graphql.loaders import read_member_pages, read_output_entities
from server.segments.service import member_page
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
