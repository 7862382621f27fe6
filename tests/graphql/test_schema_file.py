from __future__ import annotations

from pathlib import Path

from server.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_matches_code() -> None:
    exported = schema.as_str() + "\n"

    assert SCHEMA_FILE.read_text() == exported, (
        "schema.graphql differs from the schema in the code; "
        "regenerate it with: lookahead schema > schema.graphql"
    )


def test_schema_keeps_core_contract() -> None:
    sdl = schema.as_str()

    for line in [
        "createSegmentFromPrediction(predictionId: ID!, input: SegmentInput!): SegmentPayload!",
        "segments(first: Int = null, after: String = null): SegmentConnection!",
        "members(first: Int = null, after: String = null): CustomerConnection!",
        "attributes: [Attribute!]!",
    ]:
        assert line in sdl
