"""Loading subscriptions into the subscription and customer tables, with a profile entity.

The input has one row per subscription with the columns subscription_id, customer_id,
start_date, end_date (empty while active), recurrence_months, recurring_amount and,
optionally, is_recurring (empty means true). Any other column is a customer
attribute. When a profile entity name is given, those attributes become that entity,
one row per customer, so segments and the subscription churn model can read them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Table, delete, exists, select

from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.row_messages import RowMessages
from server.ingestion.store import (
    LOOKUP_CHUNK_IDS,
    find_foreign_customers,
    insert_frame,
    lock_customers,
)
from server.ingestion.subscription_rows import (
    OPTIONAL_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    build_profile,
    check_attribute_names,
    check_columns,
    validate_subscriptions,
)
from server.ingestion.targets import CUSTOMER_TABLE, ORDER_LINE_TABLE, max_length
from server.prediction.output import replace_entity, table_name_for
from server.storage.engine import write_transaction
from server.storage.tables import OutputEntityRecord, Subscription, table_of

logger = logging.getLogger(__name__)

SUBSCRIPTION_TABLE: Table = table_of(Subscription)
FRAME_NAME = "DataFrame input"


@dataclass(frozen=True)
class SubscriptionLoadReport:
    """The counts, dates and profile entity that one load of subscriptions wrote.

    `profile_conflicts` counts customers whose attribute values differ between their
    subscriptions (the latest-starting subscription's values were kept).
    `ignored_columns` lists attribute columns that were not loaded because no profile
    entity name was given.
    """

    source: str
    file_name: str
    subscriptions: int
    active_subscriptions: int
    customers: int
    replaced_rows: int
    first_start_date: date
    last_start_date: date
    profile_entity: str | None
    profile_attributes: tuple[str, ...]
    profile_conflicts: int
    ignored_columns: tuple[str, ...]
    duration_seconds: float

    def summary(self) -> str:
        """Describe the load in one line, for a log."""
        profile = (
            f", profile entity {self.profile_entity} with {len(self.profile_attributes)} attributes"
            if self.profile_entity
            else ""
        )
        return (
            f"loaded {self.subscriptions} subscriptions ({self.active_subscriptions} active) "
            f"of {self.customers} customers from {self.file_name} as source {self.source!r} "
            f"in {self.duration_seconds:.2f} s, start dates {self.first_start_date} to "
            f"{self.last_start_date}, {self.replaced_rows} previous subscriptions replaced"
            f"{profile}"
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values, with dates in ISO format."""
        values = asdict(self)
        values["first_start_date"] = self.first_start_date.isoformat()
        values["last_start_date"] = self.last_start_date.isoformat()
        values["profile_attributes"] = list(self.profile_attributes)
        values["ignored_columns"] = list(self.ignored_columns)
        return values


def load_subscriptions(
    engine: Engine,
    subscriptions: pd.DataFrame | str | Path,
    source: str,
    profile_entity_name: str | None = None,
) -> SubscriptionLoadReport:
    """Load `subscriptions` (a DataFrame or a CSV file) as `source`, replacing its rows.

    The source's previous subscriptions are deleted and the new ones inserted in one
    transaction, together with a customer row for each customer id. Customers of the
    source that the input no longer names are deleted unless order lines refer to
    them. A customer id or subscription id that belongs to another source is
    rejected. With `profile_entity_name`, the attribute columns are then written as
    that profile entity, replacing its previous rows.

    Raises IngestionError listing every problem of the input (nothing is written),
    ValueError for an invalid source or profile entity name, and OSError when the
    file cannot be read.
    """
    started = time.perf_counter()
    _check_source(source)
    if profile_entity_name is not None:
        _check_profile_name(engine, profile_entity_name)

    cells, file_name = _read_cells(subscriptions)
    logger.info("loading subscriptions from %s as source %r", file_name, source)
    check_columns(cells, file_name)
    valid = validate_subscriptions(cells, file_name)
    attributes = [str(column) for column in valid.extra.columns]
    profile, conflicts = None, 0
    if profile_entity_name is not None:
        _require_attributes(attributes, file_name)
        check_attribute_names(attributes, file_name)
        profile, conflicts = build_profile(valid, text_input=isinstance(subscriptions, str | Path))

    rows = valid.subscriptions
    with write_transaction(engine) as connection:
        lock_customers(connection)
        _reject_foreign_ids(connection, rows, source, file_name)
        replaced = connection.execute(
            delete(SUBSCRIPTION_TABLE).where(SUBSCRIPTION_TABLE.c.source == source)
        ).rowcount
        _replace_customers(connection, rows["customer_id"].unique().tolist(), source)
        insert_frame(connection, SUBSCRIPTION_TABLE, _subscription_rows(rows, source))

    # NOTE: the profile entity is written after the subscriptions commit, because
    # replace_entity runs transactions of its own. If it fails, the subscriptions
    # stay loaded with the previous profile, and loading again repairs both.
    if profile is not None and profile_entity_name is not None:
        replace_entity(engine, profile_entity_name, profile, prediction_id=None, role="profile")

    report = SubscriptionLoadReport(
        source=source,
        file_name=file_name,
        subscriptions=len(rows),
        active_subscriptions=int(rows["end_date"].isna().sum()),
        customers=int(rows["customer_id"].nunique()),
        replaced_rows=replaced,
        first_start_date=rows["start_date"].min().date(),
        last_start_date=rows["start_date"].max().date(),
        profile_entity=profile_entity_name,
        profile_attributes=tuple(attributes) if profile is not None else (),
        profile_conflicts=conflicts,
        ignored_columns=tuple(attributes) if profile is None else (),
        duration_seconds=time.perf_counter() - started,
    )
    logger.info("%s", report.summary())
    return report


def _check_source(source: str) -> None:
    length = max_length(SUBSCRIPTION_TABLE, "source") or 0
    if not source.strip() or len(source) > length:
        raise ValueError(
            f"invalid source {source!r}; use 1 to {length} characters, such as 'telco'"
        )


def _check_profile_name(engine: Engine, name: str) -> None:
    registry = table_of(OutputEntityRecord)
    table_name = table_name_for(name)
    with engine.connect() as connection:
        owner = connection.execute(
            select(registry.c.name, registry.c.role).where(registry.c.table_name == table_name)
        ).first()
    if owner is not None and owner.role != "profile":
        raise ValueError(
            f"invalid profile entity name {name!r}: entity {owner.name!r} already uses its "
            "table for a prediction's output; choose another name"
        )


def _read_cells(subscriptions: pd.DataFrame | str | Path) -> tuple[pd.DataFrame, str]:
    """Return the input as a table indexed by 1-based data row, and a name for messages.

    A file is read as text throughout. A DataFrame keeps its attribute columns as they
    are, and only its subscription columns are turned into text for checking.
    """
    if isinstance(subscriptions, pd.DataFrame):
        cells = subscriptions.copy()
        cells.columns = pd.Index([str(name).strip() for name in cells.columns])
        cells.index = pd.RangeIndex(1, len(cells) + 1)
        for column in [*SUBSCRIPTION_COLUMNS, *OPTIONAL_COLUMNS]:
            if column in cells.columns:
                cells[column] = _as_text(cells[column])
        return cells, FRAME_NAME

    path = Path(subscriptions)
    try:
        cells = pd.read_csv(path, dtype=str, na_filter=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        problem = RowMessage(None, None, None, f"{path.name} is empty. Add a header and rows.")
        raise IngestionError(path.name, [problem], 1) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        problem = RowMessage(
            None, None, None, f"{path.name} is not a UTF-8 CSV file ({error}). Save it as one."
        )
        raise IngestionError(path.name, [problem], 1) from None

    cells.columns = pd.Index([str(name).strip() for name in cells.columns])
    cells.index = pd.RangeIndex(1, len(cells) + 1)
    for column in cells.columns:
        cells[column] = cells[column].str.strip()
    # Blank lines are dropped without renumbering the rows after them.
    return cells.loc[~(cells == "").all(axis=1)], path.name


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype(object).map(lambda value: "" if pd.isna(value) else str(value).strip())


def _require_attributes(attributes: list[str], file_name: str) -> None:
    if attributes:
        return
    listed = ", ".join([*SUBSCRIPTION_COLUMNS, *OPTIONAL_COLUMNS])
    problem = RowMessage(
        None,
        None,
        None,
        f"A profile entity was requested, but the input has no attribute columns besides "
        f"{listed}. Add attribute columns, or load without a profile entity name.",
    )
    raise IngestionError(file_name, [problem], 1)


def _reject_foreign_ids(
    connection: Connection, rows: pd.DataFrame, source: str, file_name: str
) -> None:
    problems = RowMessages()
    subscription_ids = rows["subscription_id"]
    id_owners = _find_foreign_subscriptions(connection, subscription_ids.tolist(), source)
    problems.add(
        subscription_ids.isin(list(id_owners)),
        subscription_ids,
        "subscription_id",
        lambda row, value: (
            f"Row {row}, column 'subscription_id': subscription id {value!r} already belongs to "
            f"source {id_owners[value]!r}. Change the id in this input, or delete that "
            "source's subscriptions."
        ),
    )

    customer_ids = rows["customer_id"]
    customer_owners = find_foreign_customers(connection, customer_ids.unique().tolist(), source)
    problems.add(
        ~customer_ids.duplicated() & customer_ids.isin(list(customer_owners)),
        customer_ids,
        "customer_id",
        lambda row, value: (
            f"Row {row}, column 'customer_id': customer id {value!r} already belongs to source "
            f"{customer_owners[value]!r}. A customer belongs to one source only, so delete "
            "that source's rows or change the id in this input."
        ),
    )
    problems.raise_if_any(file_name)


def _find_foreign_subscriptions(
    connection: Connection, subscription_ids: list[str], source: str
) -> dict[str, str]:
    table = SUBSCRIPTION_TABLE.c
    owners: dict[str, str] = {}
    for start in range(0, len(subscription_ids), LOOKUP_CHUNK_IDS):
        chunk = subscription_ids[start : start + LOOKUP_CHUNK_IDS]
        query = select(table.subscription_id, table.source).where(
            table.subscription_id.in_(chunk), table.source != source
        )
        owners.update({row.subscription_id: row.source for row in connection.execute(query)})
    return owners


def _replace_customers(connection: Connection, customer_ids: list[str], source: str) -> None:
    """Replace the source's customer rows with `customer_ids`, keeping customers with orders."""
    customer = CUSTOMER_TABLE.c
    has_orders = exists().where(ORDER_LINE_TABLE.c.customer_id == customer.customer_id)
    connection.execute(delete(CUSTOMER_TABLE).where(customer.source == source, ~has_orders))

    existing_ids: set[str] = set()
    for start in range(0, len(customer_ids), LOOKUP_CHUNK_IDS):
        chunk = customer_ids[start : start + LOOKUP_CHUNK_IDS]
        query = select(customer.customer_id).where(customer.customer_id.in_(chunk))
        existing_ids.update(connection.execute(query).scalars())
    new_ids = [customer_id for customer_id in customer_ids if customer_id not in existing_ids]
    insert_frame(
        connection, CUSTOMER_TABLE, pd.DataFrame({"customer_id": new_ids, "source": source})
    )


def _subscription_rows(rows: pd.DataFrame, source: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subscription_id": rows["subscription_id"],
            "source": source,
            "customer_id": rows["customer_id"],
            "start_date": rows["start_date"].dt.date,
            "end_date": rows["end_date"].dt.date,
            "recurrence_months": rows["recurrence_months"].astype(int),
            "recurring_amount": rows["recurring_amount"].astype(float),
            "is_recurring": rows["is_recurring"].astype(bool),
        }
    )
