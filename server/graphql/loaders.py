"""DataLoaders that read, in one statement per request, what a list's items would each query.

A nested query such as `predictions { outputEntity }` or `segments { members }`
would otherwise send one statement per prediction or segment. A resolver calls
`loaders_for(info.context).output_entity.load(name)` instead, and Strawberry's
DataLoader collects the keys of one execution step into a single batch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from strawberry.dataloader import DataLoader

from server.graphql.db import run_db
from server.segments.service import MemberPage
from server.storage.tables import Customer, OutputEntityRecord, SegmentMember, table_of

# (segment id, page size, customer id to start after)
MemberKey = tuple[int, int, str | None]

_LOADERS_ATTRIBUTE = "_lookahead_loaders"


def read_output_entities(engine: Engine, names: list[str]) -> list[dict[str, Any] | None]:
    """Return the output_entity registry row of each name (None when missing), in order."""
    table = table_of(OutputEntityRecord)
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.name.in_(set(names)))).mappings()
        found = {row["name"]: dict(row) for row in rows}
    return [found.get(name) for name in names]


def read_member_pages(engine: Engine, keys: list[MemberKey]) -> list[MemberPage]:
    """Read the member pages of `keys`, one statement per distinct (page size, after)."""
    groups: dict[tuple[int, str | None], set[int]] = defaultdict(set)
    for segment_id, first, after in keys:
        groups[(first, after)].add(segment_id)

    pages: dict[MemberKey, MemberPage] = {}
    with engine.connect() as connection:
        for (first, after), segment_ids in groups.items():
            rows_by_segment: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for row in connection.execute(_member_query(segment_ids, first, after)).mappings():
                member = dict(row)
                rows_by_segment[member.pop("segment_id")].append(member)
            for segment_id in segment_ids:
                rows = rows_by_segment[segment_id]
                rows.sort(key=lambda member: member["customer_id"])
                pages[(segment_id, first, after)] = MemberPage(rows[:first], len(rows) > first)
    return [pages[key] for key in keys]


def _member_query(segment_ids: set[int], first: int, after: str | None) -> Any:
    """Select the first `first` + 1 members of each segment, by customer id, after `after`.

    ROW_NUMBER needs SQLite 3.25 or later; PostgreSQL has it in every supported release.
    """
    members = table_of(SegmentMember)
    customers = table_of(Customer)
    position = (
        func.row_number()
        .over(partition_by=members.c.segment_id, order_by=members.c.customer_id)
        .label("position")
    )
    ranked = (
        select(
            members.c.segment_id,
            members.c.customer_id,
            customers.c.source,
            customers.c.segment,
            customers.c.country,
            customers.c.city,
            customers.c.state,
            customers.c.region,
            position,
        )
        .select_from(members.outerjoin(customers, customers.c.customer_id == members.c.customer_id))
        .where(members.c.segment_id.in_(segment_ids))
    )
    if after is not None:
        ranked = ranked.where(members.c.customer_id > after)
    inner = ranked.subquery()
    columns = [column for column in inner.c if column.name != "position"]
    return select(*columns).where(inner.c.position <= first + 1)


@dataclass
class Loaders:
    """The loaders of one request; each caches its keys for that request only."""

    output_entity: DataLoader[str, dict[str, Any] | None]
    member_page: DataLoader[MemberKey, MemberPage]


def build_loaders(engine: Engine) -> Loaders:
    async def load_output_entities(names: list[str]) -> list[dict[str, Any] | None]:
        return await run_db(read_output_entities, engine, names)

    async def load_member_pages(keys: list[MemberKey]) -> list[MemberPage]:
        return await run_db(read_member_pages, engine, keys)

    return Loaders(
        output_entity=DataLoader(load_fn=load_output_entities),
        member_page=DataLoader(load_fn=load_member_pages),
    )


def loaders_for(context: Any) -> Loaders:
    """Return the request's loaders, creating them on first use.

    NOTE: the loaders ride on the context object as an extra attribute, so that the
    context class need not change; a `loaders` field built in `build_context` would
    state this more plainly.
    """
    loaders = getattr(context, _LOADERS_ATTRIBUTE, None)
    if loaders is None:
        loaders = build_loaders(context.engine)
        setattr(context, _LOADERS_ATTRIBUTE, loaders)
    return loaders
