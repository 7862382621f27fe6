"""The audit log: who created, changed, refreshed, ran, loaded, deleted or revoked what, and when.

Call `record_audit` with the connection of the write transaction that makes the
change, so the change and its audit event commit or roll back together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select

from server.storage.tables import AuditEvent, table_of, utc_now

if TYPE_CHECKING:
    from server.auth.tokens import Principal

# The actor name of changes made on the server's own machine, such as
# `lookahead tokens create`, where no API token is involved.
LOCAL_ACTOR = "local command"
MAX_TARGET_ID_LENGTH = 64


class AuditAction(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    REFRESH = "REFRESH"
    RUN = "RUN"
    DELETE = "DELETE"
    REVOKE = "REVOKE"
    LOAD = "LOAD"


class AuditTarget(StrEnum):
    SEGMENT = "SEGMENT"
    PREDICTION = "PREDICTION"
    TOKEN = "TOKEN"
    # A source of customer data, such as the orders loaded from a file; the id is its name.
    SOURCE = "SOURCE"


@dataclass(frozen=True)
class AuditRecord:
    """One audit event as read back."""

    id: int
    occurred_at: datetime
    actor_token_id: int | None
    actor_name: str
    action: AuditAction
    target_type: AuditTarget
    target_id: str
    details: dict[str, Any]


def record_audit(
    connection: Connection,
    principal: Principal | None,
    action: AuditAction,
    target_type: AuditTarget,
    target_id: int | str,
    details: dict[str, Any] | None = None,
) -> None:
    """Insert an audit event in the caller's transaction; `principal` None is a local command.

    `details` must be JSON-serialisable and must hold no secrets or customer data,
    because admins read it back verbatim.
    """
    target = str(target_id)
    if len(target) > MAX_TARGET_ID_LENGTH:
        raise ValueError(
            f"audit target id {target[:20]!r}… is longer than {MAX_TARGET_ID_LENGTH} characters"
        )
    connection.execute(
        insert(table_of(AuditEvent)).values(
            occurred_at=utc_now(),
            actor_token_id=principal.token_id if principal else None,
            actor_name=principal.name if principal else LOCAL_ACTOR,
            action=AuditAction(action).value,
            target_type=AuditTarget(target_type).value,
            target_id=target,
            details=details or {},
        )
    )


def read_audit_events(engine: Engine, first: int, before_id: int | None) -> list[AuditRecord]:
    """Read up to `first` events, newest first, older than event `before_id` when given."""
    table = table_of(AuditEvent)
    query = select(table).order_by(table.c.id.desc()).limit(first)
    if before_id is not None:
        query = query.where(table.c.id < before_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        AuditRecord(
            id=row.id,
            occurred_at=row.occurred_at,
            actor_token_id=row.actor_token_id,
            actor_name=row.actor_name,
            action=AuditAction(row.action),
            target_type=AuditTarget(row.target_type),
            target_id=row.target_id,
            details=row.details,
        )
        for row in rows
    ]
