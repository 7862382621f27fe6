"""The `auditEvents` query: the audit log for admins, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from server.graphql.context import context_value
from server.graphql.db import run_db
from server.graphql.pagination import PageInfo, decode_number_cursor, encode_cursor, page_size
from server.graphql.permissions import IsAdmin
from server.ids import MAX_ID
from server.security.audit import AuditRecord, read_audit_events


@strawberry.type(description="One change recorded in the audit log.")
class AuditEvent:
    id: strawberry.ID
    occurred_at: datetime = strawberry.field(description="When the change committed.")
    actor_token_id: strawberry.ID | None = strawberry.field(
        description="The id of the API token that made the change; null for a local command."
    )
    actor_name: str = strawberry.field(description="The name of that token at the time.")
    action: str = strawberry.field(
        description="CREATE, UPDATE, REFRESH, RUN, DELETE, REVOKE or LOAD."
    )
    target_type: str = strawberry.field(description="SEGMENT, PREDICTION, TOKEN or SOURCE.")
    target_id: str = strawberry.field(description="The id of the changed object.")
    details: JSON = strawberry.field(description="What changed, such as the new name.")


@strawberry.type(description="An edge of an audit event connection.")
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type(description="A page of audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo


def _event(record: AuditRecord) -> AuditEvent:
    token_id = record.actor_token_id
    return AuditEvent(
        id=strawberry.ID(str(record.id)),
        occurred_at=record.occurred_at,
        actor_token_id=strawberry.ID(str(token_id)) if token_id is not None else None,
        actor_name=record.actor_name,
        action=record.action.value,
        target_type=record.target_type.value,
        target_id=record.target_id,
        details=cast(JSON, record.details),
    )


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The audit log of changes to segments, predictions and tokens, newest first.",
        permission_classes=[IsAdmin],
    )
    async def audit_events(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AuditEventConnection:
        context = context_value(info.context)
        size = page_size(first, context.settings.max_page_size)
        before_id = decode_number_cursor("audit", after, MAX_ID)

        records = await run_db(read_audit_events, context.engine, size + 1, before_id)
        edges = [
            AuditEventEdge(cursor=encode_cursor("audit", str(record.id)), node=_event(record))
            for record in records[:size]
        ]
        end = edges[-1].cursor if edges else None
        return AuditEventConnection(
            edges=edges, page_info=PageInfo(has_next_page=len(records) > size, end_cursor=end)
        )
