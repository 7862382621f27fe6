"""Reading a source's subscriptions and its customers' profile attributes from the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, MetaData, Select, Table, func, select

from server.prediction.base import PredictionDataError
from server.prediction.frames import frame_from_rows
from server.storage.tables import OutputEntityRecord, Subscription, table_of

logger = logging.getLogger(__name__)

SUBSCRIPTION_COLUMNS = (
    "customer_id",
    "start_date",
    "end_date",
    "recurrence_months",
    "recurring_amount",
    "is_recurring",
)


@dataclass(frozen=True)
class SubscriptionHistory:
    """A source's subscriptions and the profile attributes of its customers.

    `subscriptions` has the columns of `SUBSCRIPTION_COLUMNS`, dates as datetime64 and
    `end_date` NaT while active. `profile` is indexed by CustomerId and has one column
    per attribute; customers without a profile row are absent from it.
    """

    subscriptions: pd.DataFrame
    profile: pd.DataFrame

    @property
    def as_of(self) -> pd.Timestamp:
        """The day after the latest start or end date: everything before it is recorded."""
        latest = max(self.subscriptions["start_date"].max(), self.subscriptions["end_date"].max())
        return pd.Timestamp(latest) + pd.Timedelta(days=1)


def load_history(
    engine: Engine, source: str, profile_entity: str | None = None
) -> tuple[SubscriptionHistory, list[str]]:
    """Read the subscriptions of `source` and the profile entities of its customers.

    Without `profile_entity`, every profile entity that has a row for at least one of
    the source's customers is joined, in name order. Returns the history and the names
    of the profile entities read. Raises PredictionDataError when the source has no
    subscriptions or `profile_entity` is not a profile entity.
    """
    with engine.connect() as connection:
        subscriptions = _read_subscriptions(connection, source)
        entities = _profile_entities(connection, source, profile_entity)
        profiles = [_read_profile(connection, source, table) for table in entities.values()]

    profile = _join_profiles(list(entities), profiles)
    logger.info(
        "read %s subscriptions of source %r and %s profile attributes from %s",
        len(subscriptions),
        source,
        profile.shape[1],
        list(entities),
    )
    return SubscriptionHistory(subscriptions=subscriptions, profile=profile), list(entities)


def _source_customers(source: str) -> Select[tuple[str]]:
    table = table_of(Subscription)
    return select(table.c.customer_id).where(table.c.source == source)


def _read_subscriptions(connection: Connection, source: str) -> pd.DataFrame:
    table = table_of(Subscription)
    columns = [table.c[name] for name in SUBSCRIPTION_COLUMNS]
    rows = connection.execute(select(*columns).where(table.c.source == source)).all()
    if not rows:
        raise PredictionDataError(
            f"source {source!r} has no subscriptions; load them with "
            "server.ingestion.subscriptions.load_subscriptions, or choose another source"
        )

    frame = frame_from_rows(rows, SUBSCRIPTION_COLUMNS)
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    frame["recurrence_months"] = frame["recurrence_months"].astype(int)
    frame["recurring_amount"] = frame["recurring_amount"].astype(float)
    frame["is_recurring"] = frame["is_recurring"].astype(bool)
    return frame


def _profile_entities(connection: Connection, source: str, requested: str | None) -> dict[str, str]:
    """Return the profile entities to join, as entity name to table name."""
    registry = table_of(OutputEntityRecord)
    query = select(registry.c.name, registry.c.table_name).where(registry.c.role == "profile")
    known = dict(connection.execute(query.order_by(registry.c.name)).tuples().all())
    if requested is not None:
        if requested not in known:
            raise PredictionDataError(
                f"profile entity {requested!r} not found; profile entities: "
                f"{', '.join(known) or 'none'}. Load one with load_subscriptions"
            )
        return {requested: known[requested]}

    chosen = {}
    for name, table_name in known.items():
        table = _reflect(connection, table_name)
        overlap = select(func.count()).where(table.c["CustomerId"].in_(_source_customers(source)))
        if connection.execute(overlap).scalar_one() > 0:
            chosen[name] = table_name
    return chosen


def _reflect(connection: Connection, table_name: str) -> Table:
    return Table(table_name, MetaData(), autoload_with=connection)


def _read_profile(connection: Connection, source: str, table_name: str) -> pd.DataFrame:
    table = _reflect(connection, table_name)
    query = select(table).where(table.c["CustomerId"].in_(_source_customers(source)))
    result = connection.execute(query)
    frame = frame_from_rows(result.all(), list(result.keys()))
    # Typed columns (nullable booleans, integers, strings) let the model tell numeric
    # attributes from categorical ones.
    return frame.set_index("CustomerId").convert_dtypes()


def _join_profiles(names: list[str], profiles: list[pd.DataFrame]) -> pd.DataFrame:
    joined = pd.DataFrame(index=pd.Index([], name="CustomerId", dtype=object))
    for name, profile in zip(names, profiles, strict=True):
        repeated = [column for column in profile.columns if column in joined.columns]
        profile = profile.rename(columns={column: f"{name}_{column}" for column in repeated})
        joined = joined.join(profile, how="outer")
    return joined
