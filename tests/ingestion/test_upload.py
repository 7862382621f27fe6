"""The loadOrdersFile mutation, run on the schema with an in-memory upload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from server.auth.roles import Role
from server.auth.tokens import Principal
from server.graphql.context import Context
from server.graphql.schema import schema
from server.settings import Settings
from tests.ingestion.test_shop_exports import SHOPIFY_FILE

LOAD_ORDERS_FILE = """
mutation Load($file: Upload!, $dryRun: Boolean!) {
  loadOrdersFile(file: $file, source: "shop", dryRun: $dryRun) {
    report { mapping mode dryRun rowsRead rowsLoaded customers orders netRevenue
             excluded { reason rows } linesAdded }
    problems { row column message }
    errors { field code }
  }
}
"""


class MemoryUpload:
    """The part of Starlette's UploadFile that the mutation reads."""

    def __init__(self, path: Path, filename: str) -> None:
        self.data = path.read_bytes()
        self.filename = filename
        self.offset = 0

    async def read(self, size: int) -> bytes:
        block = self.data[self.offset : self.offset + size]
        self.offset += len(block)
        return block


def _context(engine: Engine, role: Role) -> Context:
    principal = Principal(token_id=1, name=role.name.lower(), role=role)
    return Context(engine, Settings.from_env(), None, principal, None)


async def _load(engine: Engine, role: Role, upload: MemoryUpload, dry_run: bool) -> Any:
    return await schema.execute(
        LOAD_ORDERS_FILE,
        variable_values={"file": upload, "dryRun": dry_run},
        context_value=_context(engine, role),
    )


async def test_upload_loads_shopify_export(sqlite_engine: Engine) -> None:
    upload = MemoryUpload(SHOPIFY_FILE, "orders_export.csv")

    result = await _load(sqlite_engine, Role.CONTRIBUTOR, upload, dry_run=False)

    assert result.errors is None
    payload = result.data["loadOrdersFile"]
    assert payload["errors"] == []
    assert payload["report"]["mapping"] == "shopify"
    assert payload["report"]["customers"] == 3
    assert payload["report"]["orders"] == 4
    assert payload["report"]["netRevenue"] == 131.5
    assert payload["report"]["linesAdded"] == 6
    assert payload["report"]["excluded"] == [
        {"reason": "cancelled", "rows": 1},
        {"reason": "test order", "rows": 1},
    ]


async def test_upload_rejected_file_lists_problems(sqlite_engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(SHOPIFY_FILE.read_text().replace("5.50,,STK-3", "five,,STK-3"))

    result = await _load(sqlite_engine, Role.CONTRIBUTOR, MemoryUpload(bad, "bad.csv"), False)

    payload = result.data["loadOrdersFile"]
    assert payload["report"] is None
    assert payload["errors"][0]["code"] == "INVALID_FILE"
    assert payload["problems"][0]["row"] == 5
    assert payload["problems"][0]["column"] == "Lineitem price"


async def test_upload_needs_contributor(sqlite_engine: Engine) -> None:
    upload = MemoryUpload(SHOPIFY_FILE, "orders.csv")

    result = await _load(sqlite_engine, Role.VIEWER, upload, dry_run=True)

    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "FORBIDDEN"}


def audit_events(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT actor_name, action, target_type, target_id, details FROM audit_event")
        ).all()
    return [tuple(row) for row in rows]


async def test_upload_records_audit_event(engine: Engine) -> None:
    upload = MemoryUpload(SHOPIFY_FILE, "orders_export.csv")

    result = await _load(engine, Role.CONTRIBUTOR, upload, dry_run=False)

    assert result.data["loadOrdersFile"]["errors"] == []
    events = audit_events(engine)
    assert len(events) == 1
    actor, action, target_type, target_id, details = events[0]
    assert (actor, action, target_type, target_id) == ("contributor", "LOAD", "SOURCE", "shop")
    details = json.loads(details) if isinstance(details, str) else details
    assert details["mapping"] == "shopify"
    assert details["lines_added"] == 6


async def test_rejected_or_dry_upload_records_nothing(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(SHOPIFY_FILE.read_text().replace("5.50,,STK-3", "five,,STK-3"))

    await _load(engine, Role.CONTRIBUTOR, MemoryUpload(bad, "bad.csv"), dry_run=False)
    await _load(engine, Role.CONTRIBUTOR, MemoryUpload(SHOPIFY_FILE, "o.csv"), dry_run=True)

    assert audit_events(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM order_line")).scalar_one() == 0
