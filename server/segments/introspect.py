"""Discovering an entity's attributes from its live table.

Attribute names and types come only from the database's own catalog, so a rule can
reference nothing but columns that exist; these are the only identifiers that ever
reach compiled SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    select,
)
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.types import TypeEngine

from server.segments.operators import OPERATORS_BY_TYPE, AttributeType, Operator
from server.storage.tables import OutputEntityRecord, table_of


class EntityNotFound(LookupError):
    """Raised when an entity is not registered or its table does not exist yet."""


@dataclass(frozen=True)
class Attribute:
    """A column of an entity, with its data type and the operators valid for it."""

    name: str
    data_type: AttributeType

    @property
    def operators(self) -> list[Operator]:
        return OPERATORS_BY_TYPE[self.data_type]


@dataclass(frozen=True)
class Entity:
    """A registered entity and its reflected table."""

    name: str
    table: Table
    attributes: dict[str, Attribute]

    @property
    def attribute_names(self) -> list[str]:
        return list(self.attributes)


def attribute_type(column_type: TypeEngine[object]) -> AttributeType | None:
    """Map a reflected column type to an attribute type; None for unsupported types."""
    if isinstance(column_type, Boolean):
        return AttributeType.BOOLEAN
    if isinstance(column_type, DateTime):
        return AttributeType.DATETIME
    if isinstance(column_type, Date):
        return AttributeType.DATE
    if isinstance(column_type, Integer | Float | Numeric):
        return AttributeType.NUMBER
    if isinstance(column_type, String):
        return AttributeType.STRING
    return None


def reflect_entity(bind: Engine | Connection, entity_name: str) -> Entity:
    """Reflect the live table of `entity_name`; raise EntityNotFound when there is none."""
    registry = table_of(OutputEntityRecord)
    with _connect(bind) as connection:
        table_name = connection.execute(
            select(registry.c.table_name).where(registry.c.name == entity_name)
        ).scalar_one_or_none()
        if table_name is None:
            raise EntityNotFound(f"entity {entity_name!r} does not exist")
        try:
            table = Table(table_name, MetaData(), autoload_with=connection)
        except NoSuchTableError:
            raise EntityNotFound(f"the table of entity {entity_name!r} does not exist") from None

    attributes: dict[str, Attribute] = {}
    for column in table.columns:
        data_type = attribute_type(column.type)
        if data_type is not None:
            attributes[column.name] = Attribute(column.name, data_type)
    return Entity(entity_name, table, attributes)


@contextmanager
def _connect(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as connection:
            yield connection
