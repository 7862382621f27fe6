"""Discovering an entity's attributes from its live table.

Attribute names and types come only from the database's own catalog (or, for the
built-in customer profile, from the fixed `customer` table), so a rule can reference
nothing but columns that exist; these are the only identifiers that ever reach
compiled SQL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
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
from sqlalchemy.sql import FromClause
from sqlalchemy.types import TypeEngine

from server.segments.operators import OPERATORS_BY_TYPE, AttributeType, Operator
from server.storage.tables import Customer, OutputEntityRecord, table_of

# The customer profile is an entity of its own: the `customer` table, with its
# snake_case columns exposed under the attribute names of every other entity.
PROFILE_ENTITY = "CustomerProfile"
PROFILE_COLUMNS = {
    "CustomerId": "customer_id",
    "Source": "source",
    "Segment": "segment",
    "Country": "country",
    "City": "city",
    "State": "state",
    "Region": "region",
}


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
    """An entity: its name, a selectable whose columns are named as its attributes, and role.

    `table` is the reflected table of a registered entity, or for the customer profile a
    subquery over `customer` that renames its columns.
    """

    name: str
    table: FromClause
    attributes: dict[str, Attribute]
    role: str = "output"

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


def profile_entity() -> Entity:
    """Return the customer profile as an entity, one row per customer."""
    customer = table_of(Customer)
    renamed = select(
        *[customer.c[column].label(name) for name, column in PROFILE_COLUMNS.items()]
    ).subquery(PROFILE_ENTITY)
    attributes = {name: Attribute(name, AttributeType.STRING) for name in PROFILE_COLUMNS}
    return Entity(PROFILE_ENTITY, renamed, attributes, role="profile")


def list_entity_names(bind: Engine | Connection) -> list[str]:
    """Return the names of every entity a segment can read, the customer profile first."""
    registry = table_of(OutputEntityRecord)
    with _connect(bind) as connection:
        names = connection.execute(select(registry.c.name).order_by(registry.c.name)).scalars()
        return [PROFILE_ENTITY, *[name for name in names if name != PROFILE_ENTITY]]


def reflect_entity(bind: Engine | Connection, entity_name: str) -> Entity:
    """Reflect the live table of `entity_name`; raise EntityNotFound when there is none.

    The built-in customer profile takes precedence over a registered entity of the
    same name.
    """
    found = reflect_entities(bind, [entity_name])[entity_name]
    if found is None:
        raise EntityNotFound(f"entity {entity_name!r} does not exist")
    return found


def reflect_entities(bind: Engine | Connection, names: list[str]) -> dict[str, Entity | None]:
    """Reflect several entities with one registry query; None for each that does not exist.

    A reflected table is cached for the process under its registry version, which
    every replacement of the rows increments, so columns changed by a later run are
    reflected again while an unchanged entity costs one registry query in all.
    """
    found: dict[str, Entity | None] = {name: None for name in names}
    if PROFILE_ENTITY in found:
        found[PROFILE_ENTITY] = profile_entity()
    wanted = [name for name in names if name != PROFILE_ENTITY]
    if not wanted:
        return found

    registry = table_of(OutputEntityRecord)
    with _connect(bind) as connection:
        rows = connection.execute(
            select(
                registry.c.name, registry.c.table_name, registry.c.role, registry.c.version
            ).where(registry.c.name.in_(set(wanted)))
        ).all()
        for name, table_name, role, version in rows:
            table = _reflect_table(connection, table_name, version)
            if table is not None:
                found[name] = Entity(name, table, _attributes_of(table), role=role)
    return found


_REFLECTED: OrderedDict[tuple[str, str, int], Table] = OrderedDict()
_REFLECTED_LOCK = threading.Lock()
_REFLECTED_MAX = 512


def _reflect_table(connection: Connection, table_name: str, version: int) -> Table | None:
    key = (connection.engine.url.render_as_string(hide_password=True), table_name, version)
    with _REFLECTED_LOCK:
        cached = _REFLECTED.get(key)
        if cached is not None:
            _REFLECTED.move_to_end(key)
            return cached
    try:
        table = Table(table_name, MetaData(), autoload_with=connection)
    except NoSuchTableError:
        return None
    with _REFLECTED_LOCK:
        _REFLECTED[key] = table
        while len(_REFLECTED) > _REFLECTED_MAX:
            _REFLECTED.popitem(last=False)
    return table


def _attributes_of(table: Table) -> dict[str, Attribute]:
    attributes: dict[str, Attribute] = {}
    for column in table.columns:
        data_type = attribute_type(column.type)
        if data_type is not None:
            attributes[column.name] = Attribute(column.name, data_type)
    return attributes


class EntityCatalog:
    """The entities readable on one connection, reflected once each on first use."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._entities: dict[str, Entity] = {}

    def get(self, name: str) -> Entity:
        """Return entity `name`; raise EntityNotFound when there is none."""
        if name not in self._entities:
            self._entities[name] = reflect_entity(self.connection, name)
        return self._entities[name]

    def names(self) -> list[str]:
        return list_entity_names(self.connection)


@contextmanager
def _connect(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as connection:
            yield connection
