"""The GraphQL peer: a minimal Strawberry app serving the same segments from memory.

`python -m bench.peer_app DATABASE_URL PORT` reads every segment and its members,
with their profile, once at start-up and serves them under uvicorn with the field
names of the real schema, without authentication or database access per request.
"""

from __future__ import annotations

import base64
import sys
from typing import Any

import strawberry
import uvicorn
from sqlalchemy import create_engine, text
from strawberry.asgi import GraphQL

SEGMENTS: list[dict[str, Any]] = []
MEMBERS: dict[str, list[dict[str, Any]]] = {}


@strawberry.type
class Customer:
    customer_id: str
    country: str | None
    city: str | None
    region: str | None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int


def _cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"customer:{key}".encode()).decode()


@strawberry.type
class Segment:
    id: strawberry.ID
    name: str
    member_count: int

    @strawberry.field
    def members(self, first: int = 20, after: str | None = None) -> CustomerConnection:
        rows = MEMBERS.get(str(self.id), [])
        start = 0
        if after is not None:
            key = base64.urlsafe_b64decode(after.encode()).decode().split(":", 1)[1]
            start = next((i + 1 for i, row in enumerate(rows) if row["customer_id"] == key), 0)
        page = rows[start : start + first]
        edges = [
            CustomerEdge(cursor=_cursor(row["customer_id"]), node=Customer(**row)) for row in page
        ]
        return CustomerConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=start + first < len(rows),
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=len(rows),
        )


@strawberry.type
class SegmentEdge:
    cursor: str
    node: Segment


@strawberry.type
class SegmentConnection:
    edges: list[SegmentEdge]
    total_count: int


@strawberry.type
class Query:
    @strawberry.field
    def segments(self, first: int = 20) -> SegmentConnection:
        nodes = [Segment(**row) for row in SEGMENTS[:first]]
        return SegmentConnection(
            edges=[SegmentEdge(cursor=str(node.id), node=node) for node in nodes],
            total_count=len(SEGMENTS),
        )

    @strawberry.field
    def segment(self, id: strawberry.ID) -> Segment | None:
        found = [row for row in SEGMENTS if str(row["id"]) == str(id)]
        return Segment(**found[0]) if found else None


def load(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        for row in connection.execute(
            text("SELECT id, name, member_count FROM segment ORDER BY id")
        ).mappings():
            SEGMENTS.append(
                {
                    "id": strawberry.ID(str(row["id"])),
                    "name": row["name"],
                    "member_count": row["member_count"],
                }
            )
        members = connection.execute(
            text(
                "SELECT m.segment_id, m.customer_id, c.country, c.city, c.region "
                "FROM segment_member m LEFT JOIN customer c ON c.customer_id = m.customer_id "
                "ORDER BY m.segment_id, m.customer_id"
            )
        ).mappings()
        for row in members:
            MEMBERS.setdefault(str(row["segment_id"]), []).append(
                {key: row[key] for key in ("customer_id", "country", "city", "region")}
            )
    engine.dispose()


def main() -> None:
    url, port = sys.argv[1], int(sys.argv[2])
    load(url)
    app = GraphQL(strawberry.Schema(query=Query), graphql_ide=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
