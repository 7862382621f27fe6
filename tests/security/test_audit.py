"""The audit log: recorded with the change, readable by admins only, never a secret."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, insert, select

from server.auth.roles import Role
from server.auth.tokens import Principal
from server.security.audit import AuditAction, AuditTarget, record_audit
from server.storage.engine import write_transaction
from server.storage.tables import AuditEvent, Segment, table_of, utc_now
from tests.graphql.conftest import GraphQLCaller
from tests.graphql.test_create_segment import CREATE, segment_input

EVENTS = """
query($first: Int, $after: String) {
  auditEvents(first: $first, after: $after) {
    edges { node { action targetType targetId actorTokenId actorName details } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE_TOKEN = 'mutation { createToken(input: {name: "audited", role: VIEWER}) { secret } }'


def audit_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table_of(AuditEvent))).scalar_one()
        )


async def test_segment_creation_audited(
    contributor: GraphQLCaller, admin: GraphQLCaller, prediction_id: int
) -> None:
    created = await contributor(
        CREATE, {"predictionId": str(prediction_id), "input": segment_input()}
    )
    segment_id = created["data"]["createSegmentFromPrediction"]["segment"]["id"]

    body = await admin(EVENTS, {"first": 10})

    nodes = [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]
    segment_events = [node for node in nodes if node["targetType"] == "SEGMENT"]
    assert len(segment_events) == 1
    event = segment_events[0]
    assert event["action"] == "CREATE"
    assert event["targetId"] == segment_id
    assert event["actorName"] == "test-CONTRIBUTOR"
    assert event["details"]["name"] == "High risk"


LIFECYCLE = """
mutation($id: ID!, $input: SegmentInput!) {
  updateSegment(id: $id, input: $input) { errors { code } }
  refreshSegment(id: $id) { errors { code } }
  deleteSegment(id: $id) { errors { code } }
}
"""


async def test_segment_lifecycle_audited(
    contributor: GraphQLCaller, admin: GraphQLCaller, prediction_id: int
) -> None:
    created = await contributor(
        CREATE, {"predictionId": str(prediction_id), "input": segment_input()}
    )
    segment_id = created["data"]["createSegmentFromPrediction"]["segment"]["id"]
    changed = await contributor(
        LIFECYCLE, {"id": segment_id, "input": segment_input(name="Renamed")}
    )
    assert "errors" not in changed, changed

    body = await admin(EVENTS, {"first": 10})

    nodes = [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]
    segment_events = [node for node in nodes if node["targetType"] == "SEGMENT"]
    assert [node["action"] for node in segment_events] == ["DELETE", "REFRESH", "UPDATE", "CREATE"]
    assert {node["targetId"] for node in segment_events} == {segment_id}
    assert {node["actorName"] for node in segment_events} == {"test-CONTRIBUTOR"}


async def test_token_creation_audited_without_secret(admin: GraphQLCaller, engine: Engine) -> None:
    body = await admin(CREATE_TOKEN)
    secret = body["data"]["createToken"]["secret"]

    events = await admin(EVENTS, {"first": 1})

    newest = events["data"]["auditEvents"]["edges"][0]["node"]
    assert newest["action"] == "CREATE"
    assert newest["targetType"] == "TOKEN"
    assert newest["actorName"] == "test-ADMIN"
    assert secret not in str(events)
    assert secret[4:] not in str(events)


async def test_audit_events_paginate_newest_first(admin: GraphQLCaller) -> None:
    for _ in range(3):
        await admin(CREATE_TOKEN)

    first = await admin(EVENTS, {"first": 2})
    cursor = first["data"]["auditEvents"]["pageInfo"]["endCursor"]
    second = await admin(EVENTS, {"first": 2, "after": cursor})

    first_ids = [int(e["node"]["targetId"]) for e in first["data"]["auditEvents"]["edges"]]
    second_ids = [int(e["node"]["targetId"]) for e in second["data"]["auditEvents"]["edges"]]
    assert first_ids == sorted(first_ids, reverse=True)
    assert first["data"]["auditEvents"]["pageInfo"]["hasNextPage"] is True
    assert max(second_ids) < min(first_ids)


async def test_audit_events_bad_cursor(admin: GraphQLCaller) -> None:
    body = await admin(EVENTS, {"first": 2, "after": "bm9wZQ=="})

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_contributor_cannot_read_audit(contributor: GraphQLCaller) -> None:
    body = await contributor(EVENTS, {"first": 2})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_audit_rolls_back_with_change(engine: Engine) -> None:
    before = audit_count(engine)
    principal = Principal(token_id=7, name="writer", role=Role.CONTRIBUTOR)

    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        connection.execute(
            insert(table_of(Segment)).values(
                name="rolled back",
                entity_name="ChurnPredictions",
                definition={},
                member_count=0,
                created_at=utc_now(),
                last_evaluated_at=utc_now(),
            )
        )
        record_audit(connection, principal, AuditAction.CREATE, AuditTarget.SEGMENT, 1)
        raise RuntimeError("fail after the audit event")

    assert audit_count(engine) == before


def test_record_audit_rejects_unknown_action(engine: Engine) -> None:
    with pytest.raises(ValueError), write_transaction(engine) as connection:
        record_audit(connection, None, "EXPLODE", AuditTarget.SEGMENT, 1)  # type: ignore[arg-type]
