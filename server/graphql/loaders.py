"""DataLoaders that read, in one statement per request, what a list's items would each query.

A nested query such as `predictions { outputEntity }` or `segments { members }`
would otherwise send one statement per prediction or segment. A resolver calls
`context.loaders.output_entity.load(name)` instead, and Strawberry's DataLoader
collects the keys of one execution step into a single batch. The loaders return
rows and reflected entities, not schema types, so this module imports no type module.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Row,
    Select,
    literal,
    select,
    union_all,
)
from strawberry.dataloader import DataLoader

from server.graphql.db import run_db
from server.prediction import usability
from server.segments.introspect import Entity, reflect_entities
from server.segments.service import MemberPage
from server.storage.tables import (
    Customer,
    OutputEntityRecord,
    PredictionRun,
    SegmentEntity,
    SegmentEvaluation,
    SegmentMember,
    table_of,
)

# (segment id, page size, customer id to start after)
MemberKey = tuple[int, int, str | None]
# (segment id, page size, evaluation id to start after)
EvaluationKey = tuple[int, int, int | None]
# (prediction id, how many runs)
RunKey = tuple[int, int]
# (prediction kind, parameters as sorted JSON)
DataReportKey = tuple[str, str]

# Parents per UNION ALL statement. SQLite allows 500 terms in a compound SELECT by
# default (SQLITE_MAX_COMPOUND_SELECT), and a page of the default size 100 fits one.
UNION_PARENTS = 100

_Key = TypeVar("_Key", bound=Hashable)


def read_output_entities(engine: Engine, names: list[str]) -> list[dict[str, Any] | None]:
    """Return the output_entity registry row of each name (None when missing), in order."""
    table = table_of(OutputEntityRecord)
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.name.in_(set(names)))).mappings()
        found = {row["name"]: dict(row) for row in rows}
    return [found.get(name) for name in names]


def read_entities(engine: Engine, names: list[str]) -> list[Entity | None]:
    """Reflect the entities called `names` (None for a missing one), in order."""
    found = reflect_entities(engine, list(dict.fromkeys(names)))
    return [found[name] for name in names]


def read_member_pages(engine: Engine, keys: list[MemberKey]) -> list[MemberPage]:
    """Read the member pages of `keys`, one statement per distinct (page size, after)."""
    with engine.connect() as connection:
        return find_member_pages(connection, keys)


def find_member_pages(connection: Connection, keys: list[MemberKey]) -> list[MemberPage]:
    """Read the member pages of `keys` on `connection`, as `read_member_pages` does."""
    members = table_of(SegmentMember)
    customers = table_of(Customer)
    joined = members.outerjoin(customers, customers.c.customer_id == members.c.customer_id)
    columns = (
        members.c.segment_id,
        members.c.customer_id,
        customers.c.source,
        customers.c.segment,
        customers.c.country,
        customers.c.city,
        customers.c.state,
        customers.c.region,
    )

    def page_query(segment_id: int, first: int, after: str | None) -> Select[Any]:
        query = (
            select(*columns)
            .select_from(joined)
            .where(members.c.segment_id == segment_id)
            .order_by(members.c.customer_id)
            .limit(first + 1)
        )
        return query if after is None else query.where(members.c.customer_id > after)

    pages: dict[MemberKey, MemberPage] = {}
    for (first, after), segment_ids in _group_keys(keys).items():
        queries = {parent: page_query(parent, first, after) for parent in segment_ids}
        found = _rows_by_parent(connection, queries)
        for segment_id in segment_ids:
            rows = [_member(row) for row in found[segment_id]]
            pages[(segment_id, first, after)] = MemberPage(rows[:first], len(rows) > first)
    return [pages[key] for key in keys]


def _member(row: Row[Any]) -> dict[str, Any]:
    member = dict(row._mapping)
    del member["segment_id"]
    member.pop("_parent", None)
    return member


def read_evaluations(engine: Engine, keys: list[EvaluationKey]) -> list[list[Row[Any]]]:
    """Read up to size + 1 evaluations of each key's segment, newest first, before `after`."""
    table = table_of(SegmentEvaluation)

    def page_query(segment_id: int, size: int, after: int | None) -> Select[Any]:
        query = (
            select(table)
            .where(table.c.segment_id == segment_id)
            .order_by(table.c.id.desc())
            .limit(size + 1)
        )
        return query if after is None else query.where(table.c.id < after)

    pages: dict[EvaluationKey, list[Row[Any]]] = {}
    with engine.connect() as connection:
        for (size, after), segment_ids in _group_keys(keys).items():
            queries = {parent: page_query(parent, size, after) for parent in segment_ids}
            found = _rows_by_parent(connection, queries)
            for segment_id in segment_ids:
                rows = sorted(found[segment_id], key=lambda row: row.id, reverse=True)
                pages[(segment_id, size, after)] = rows
    return [pages[key] for key in keys]


def read_runs(engine: Engine, keys: list[RunKey]) -> list[list[Row[Any]]]:
    """Read the latest `first` runs of each key's prediction, newest first."""
    table = table_of(PredictionRun)
    by_size: dict[int, set[int]] = defaultdict(set)
    for prediction_id, first in keys:
        by_size[first].add(prediction_id)

    runs: dict[RunKey, list[Row[Any]]] = {}
    with engine.connect() as connection:
        for first, prediction_ids in by_size.items():
            queries = {
                prediction_id: select(table)
                .where(table.c.prediction_id == prediction_id)
                .order_by(table.c.id.desc())
                .limit(first)
                for prediction_id in prediction_ids
            }
            found = _rows_by_parent(connection, queries)
            for prediction_id in prediction_ids:
                rows = sorted(found[prediction_id], key=lambda row: row.id, reverse=True)
                runs[(prediction_id, first)] = rows
    return [runs[key] for key in keys]


def read_segment_entities(engine: Engine, segment_ids: list[int]) -> list[list[str]]:
    """Return the entity names each segment's rules read, sorted by name."""
    table = table_of(SegmentEntity)
    query = (
        select(table.c.segment_id, table.c.entity_name)
        .where(table.c.segment_id.in_(set(segment_ids)))
        .order_by(table.c.entity_name)
    )
    names: dict[int, list[str]] = defaultdict(list)
    with engine.connect() as connection:
        for segment_id, entity_name in connection.execute(query):
            names[segment_id].append(entity_name)
    return [names[segment_id] for segment_id in segment_ids]


def data_report_key(kind: str, parameters: Any) -> DataReportKey:
    """Key a data report by what it depends on, so equal configurations share one check."""
    return kind, json.dumps(parameters or {}, sort_keys=True, default=str)


def check_data(engine: Engine, keys: list[DataReportKey]) -> list[usability.DataReport]:
    """Check the data of each distinct (kind, parameters) once.

    NOTE: each distinct configuration still costs its own checks, so the statements of
    `predictions { dataReport }` grow with the number of distinct configurations.
    """
    return [
        usability.check_prediction_data(engine, kind, json.loads(parameters))
        for kind, parameters in keys
    ]


def _group_keys(keys: Iterable[tuple[int, int, _Key]]) -> dict[tuple[int, _Key], list[int]]:
    """Group (parent, size, after) keys by (size, after), keeping each parent once."""
    groups: dict[tuple[int, _Key], list[int]] = defaultdict(list)
    for parent, size, after in keys:
        group = groups[(size, after)]
        if parent not in group:
            group.append(parent)
    return groups


def _rows_by_parent(
    connection: Connection, queries: dict[int, Select[Any]]
) -> dict[int, list[Row[Any]]]:
    """Run one limited query per parent as UNION ALL statements and split the rows by parent.

    Each part keeps its own ORDER BY and LIMIT, so the database reads only the rows of
    a page through the parent's index, where a window function over the parents would
    number every row of every parent first.
    """
    if len(queries) == 1:
        # One parent, the usual case of a single segment or prediction, needs no
        # tagged subquery. Its rows then have no `_parent` column.
        ((parent, query),) = queries.items()
        return {parent: list(connection.execute(query))}

    found: dict[int, list[Row[Any]]] = {parent: [] for parent in queries}
    parents = list(queries)
    for start in range(0, len(parents), UNION_PARENTS):
        chunk = parents[start : start + UNION_PARENTS]
        parts = [_tagged(queries[parent], parent) for parent in chunk]
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        for row in connection.execute(statement):
            found[row._mapping["_parent"]].append(row)
    return found


def _tagged(query: Select[Any], parent: int) -> Select[Any]:
    """Wrap a limited query as a subquery with its parent's id in a `_parent` column."""
    inner = query.subquery()
    parent_column: ColumnElement[int] = literal(parent, Integer).label("_parent")
    return select(*inner.c, parent_column)


@dataclass
class Loaders:
    """The loaders of one request; each caches its keys for that request only."""

    output_entity: DataLoader[str, dict[str, Any] | None]
    entity: DataLoader[str, Entity | None]
    member_page: DataLoader[MemberKey, MemberPage]
    evaluations: DataLoader[EvaluationKey, list[Row[Any]]]
    runs: DataLoader[RunKey, list[Row[Any]]]
    segment_entities: DataLoader[int, list[str]]
    data_report: DataLoader[DataReportKey, usability.DataReport]


def build_loaders(engine: Engine, *, cache: bool = True) -> Loaders:
    """Build one request's loaders; each batch runs in one worker thread.

    With `cache` false a loader still batches the keys of one execution step but
    reads them again on a later step.
    """

    def loader(read: Any) -> DataLoader[Any, Any]:
        async def load(keys: Sequence[Any]) -> list[Any]:
            return list(await run_db(read, engine, list(keys)))

        return DataLoader(load_fn=load, cache=cache)

    return Loaders(
        output_entity=loader(read_output_entities),
        entity=loader(read_entities),
        member_page=loader(read_member_pages),
        evaluations=loader(read_evaluations),
        runs=loader(read_runs),
        segment_entities=loader(read_segment_entities),
        data_report=loader(check_data),
    )
