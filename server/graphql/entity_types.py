"""Entities and their attributes, with exact statistics for value pickers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

import strawberry
from sqlalchemy import Engine, func, select
from strawberry.scalars import JSON
from strawberry.types import Info

from server.graphql.context import context_value
from server.graphql.db import run_db
from server.graphql.pagination import check_range
from server.graphql.scalars import AttributeType, Operator
from server.segments.introspect import PROFILE_ENTITY, EntityNotFound, list_entity_names
from server.segments.introspect import reflect_entity as reflect
from server.segments.statistics import MAX_TOP_VALUES, attribute_statistics
from server.storage.tables import Customer, OutputEntityRecord, table_of


def _json(value: Any) -> JSON:
    if isinstance(value, datetime | date):
        return cast(JSON, value.isoformat())
    return cast(JSON, value)


@strawberry.type(description="A value of an attribute and how many rows hold it.")
class ValueCount:
    value: JSON = strawberry.field(description="The value, as JSON.")
    count: int = strawberry.field(description="Rows holding the value.")


@strawberry.type(description="Exact figures over every row of the entity, computed in SQL.")
class AttributeStatistics:
    row_count: int = strawberry.field(description="Rows of the entity.")
    null_count: int = strawberry.field(description="Rows where the attribute is null.")
    distinct_count: int = strawberry.field(description="Distinct non-null values.")
    min: JSON | None = strawberry.field(description="Smallest value; numbers and dates only.")
    max: JSON | None = strawberry.field(description="Largest value; numbers and dates only.")
    quartiles: list[float] | None = strawberry.field(
        description="The 25th, 50th and 75th percentiles, interpolated linearly; numbers only."
    )
    top_values: list[ValueCount] = strawberry.field(
        description="Most frequent non-null values, most frequent first; text and booleans only."
    )


@strawberry.type(description="A column of an entity that conditions can use.")
class Attribute:
    name: str = strawberry.field(description="The column name, as conditions must spell it.")
    data_type: AttributeType = strawberry.field(description="The data type of the live column.")
    operators: list[Operator] = strawberry.field(
        description="The operators valid for this data type."
    )
    entity_name: strawberry.Private[str]

    @strawberry.field(description="Exact statistics of the attribute over the whole entity.")
    async def statistics(self, info: Info, top_values: int = 10) -> AttributeStatistics | None:
        limit = check_range("topValues", top_values, 0, MAX_TOP_VALUES)
        return await run_db(
            read_statistics, context_value(info.context).engine, self.entity_name, self.name, limit
        )


def read_statistics(
    engine: Engine, entity_name: str, attribute_name: str, top_values: int
) -> AttributeStatistics | None:
    with engine.connect() as connection:
        try:
            entity = reflect(connection, entity_name)
        except EntityNotFound:
            return None
        attribute = entity.attributes.get(attribute_name)
        if attribute is None:
            return None
        found = attribute_statistics(connection, entity, attribute, top_values)
    return AttributeStatistics(
        row_count=found.row_count,
        null_count=found.null_count,
        distinct_count=found.distinct_count,
        min=_json(found.minimum),
        max=_json(found.maximum),
        quartiles=found.quartiles,
        top_values=[
            ValueCount(value=_json(item.value), count=item.count) for item in found.top_values
        ],
    )


def read_attributes(engine: Engine, entity_name: str) -> list[Attribute]:
    """Return the live attributes of an entity; empty when it does not exist."""
    try:
        entity = reflect(engine, entity_name)
    except EntityNotFound:
        return []
    return [
        Attribute(
            name=item.name,
            data_type=item.data_type,
            operators=item.operators,
            entity_name=entity_name,
        )
        for item in entity.attributes.values()
    ]


@strawberry.type(
    description="A table segments can read: the customer profile or a registered entity."
)
class Entity:
    name: str = strawberry.field(description="The name conditions give in their entity field.")
    role: str = strawberry.field(
        description="profile for customer attributes, output for a prediction's results."
    )
    row_count: int = strawberry.field(description="Rows of the entity.")

    @strawberry.field(description="The live columns, with data types and valid operators.")
    async def attributes(self, info: Info) -> list[Attribute]:
        return await run_db(read_attributes, context_value(info.context).engine, self.name)


def read_entities(engine: Engine, name: str | None = None) -> list[Entity]:
    """Return every entity, the customer profile first, or only the one called `name`."""
    registry = table_of(OutputEntityRecord)
    with engine.connect() as connection:
        names = list_entity_names(connection)
        if name is not None:
            names = [item for item in names if item == name]
        registered = {row.name: row for row in connection.execute(select(registry)).all()}
        entities = []
        for item in names:
            if item == PROFILE_ENTITY:
                count = connection.execute(
                    select(func.count()).select_from(table_of(Customer))
                ).scalar_one()
                entities.append(Entity(name=item, role="profile", row_count=int(count)))
            else:
                row = registered[item]
                entities.append(Entity(name=item, role=row.role, row_count=row.row_count))
    return entities
