"""Loading subscriptions into the subscription and customer tables, with a profile entity.

The input has one row per subscription with the columns subscription_id, customer_id,
start_date, end_date (empty while active), recurrence_months, recurring_amount and,
optionally, is_recurring (empty means true) and cancel_requested_at (the day a
cancellation was requested). Stripe's export and the Telco sample are converted to
these columns first (see `subscription_formats`). Any other column is a customer
attribute. When a profile entity name is given, those attributes become that entity,
one row per customer, so segments and the subscription churn model can read them.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, Table, delete, exists, select

from server.ingestion.encoding import first_undecodable, not_text_problem
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import DETECT, ReaderOptions
from server.ingestion.row_messages import RowMessages
from server.ingestion.sniff import is_parquet, open_binary, resolve_options
from server.ingestion.store import (
    LOOKUP_CHUNK_IDS,
    find_foreign_customers,
    insert_frame,
    lock_customers,
)
from server.ingestion.subscription_formats import (
    SubscriptionCells,
    SubscriptionMapping,
    convert_subscriptions,
)
from server.ingestion.subscription_report import SubscriptionLoadReport
from server.ingestion.subscription_rows import (
    OPTIONAL_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    ValidSubscriptions,
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


__all__ = ["SubscriptionLoadReport", "load_subscriptions"]


@dataclass(frozen=True)
class _Input:
    """The input's cells indexed by data row, its name for messages, and its row count."""

    cells: pd.DataFrame
    file_name: str
    rows_read: int
    text: bool


class _DryRun(Exception):
    """Raised inside the load's transaction to roll it back after a dry run."""

    def __init__(self, replaced: int) -> None:
        self.replaced = replaced


def load_subscriptions(
    engine: Engine,
    subscriptions: pd.DataFrame | str | Path,
    source: str,
    profile_entity_name: str | None = None,
    *,
    layout: SubscriptionMapping | str | None = None,
    dry_run: bool = False,
    encoding: str | None = None,
) -> SubscriptionLoadReport:
    """Load `subscriptions` (a DataFrame or a CSV file) as `source`, replacing its rows.

    `layout` is a format name of `subscription_formats.FORMAT_NAMES` (such as
    "stripe"), a SubscriptionMapping, or None to recognise the format from the
    columns. The source's previous subscriptions are deleted and the new ones
    inserted in one transaction, together with a customer row for each customer id.
    Customers of the source that the input no longer names are deleted unless order
    lines refer to them. A customer id or subscription id that belongs to another
    source is rejected. With `profile_entity_name`, the attribute columns are then
    written as that profile entity, replacing its previous rows. With `dry_run`, the
    transaction is rolled back and no profile entity is written.

    A file is read as `encoding` (a Python codec name), UTF-8 by default.

    Raises IngestionError listing every problem of the input (nothing is written),
    ValueError for an invalid source, format or profile entity name, and OSError
    when the file cannot be read.
    """
    started = time.perf_counter()
    _check_source(source)
    if profile_entity_name is not None:
        _check_profile_name(engine, profile_entity_name)

    given = _read_cells(subscriptions, encoding or "utf-8-sig")
    file_name = given.file_name
    logger.info("loading subscriptions from %s as source %r", file_name, source)
    converted = convert_subscriptions(given.cells, file_name, layout, given.text)
    valid = _validate(converted, given)
    attributes = [str(column) for column in valid.extra.columns]
    profile, conflicts = None, 0
    if profile_entity_name is not None:
        _require_attributes(attributes, file_name)
        check_attribute_names(attributes, file_name)
        profile, conflicts = build_profile(valid, text_input=not converted.typed_attributes)

    rows = valid.subscriptions
    try:
        replaced = _write(engine, rows, source, file_name, dry_run)
    except _DryRun as rolled_back:
        replaced = rolled_back.replaced

    # NOTE: the profile entity is written after the subscriptions commit, because
    # replace_entity runs transactions of its own. If it fails, the subscriptions
    # stay loaded with the previous profile, and loading again repairs both.
    if profile is not None and profile_entity_name is not None and not dry_run:
        replace_entity(engine, profile_entity_name, profile, prediction_id=None, role="profile")

    active = rows["end_date"].isna()
    report = SubscriptionLoadReport(
        source=source,
        file_name=file_name,
        subscriptions=len(rows),
        active_subscriptions=int(active.sum()),
        customers=int(rows["customer_id"].nunique()),
        replaced_rows=replaced,
        first_start_date=rows["start_date"].min().date(),
        last_start_date=rows["start_date"].max().date(),
        profile_entity=profile_entity_name,
        profile_attributes=tuple(attributes) if profile is not None else (),
        profile_conflicts=conflicts,
        ignored_columns=tuple(attributes) if profile is None else (),
        duration_seconds=time.perf_counter() - started,
        format_name=converted.format_name,
        rows_read=given.rows_read,
        rows_loaded=len(rows),
        excluded_rows=dict(converted.excluded),
        ended_subscriptions=int((~active).sum()),
        cancel_requested=int((active & rows["cancel_requested_at"].notna()).sum()),
        monthly_recurring_revenue=monthly_recurring_revenue(rows),
        dry_run=dry_run,
    )
    logger.info("%s", report.summary())
    return report


def monthly_recurring_revenue(rows: pd.DataFrame) -> float:
    """Sum recurring_amount / recurrence_months over active recurring subscriptions."""
    counted = rows[rows["end_date"].isna() & rows["is_recurring"].astype(bool)]
    monthly = counted["recurring_amount"].astype(float) / counted["recurrence_months"].astype(int)
    return math.fsum(monthly.tolist())


def _validate(converted: SubscriptionCells, given: _Input) -> ValidSubscriptions:
    """Check the converted rows; an error counts rejected rows among the rows read."""
    try:
        check_columns(converted.cells, given.file_name)
        return validate_subscriptions(
            converted.cells, given.file_name, converted.names, converted.problems
        )
    except IngestionError as error:
        # Validation adds its problems to converted.problems, so that counts every row.
        raise IngestionError(
            error.file_name,
            error.problems,
            error.problem_count,
            rows_read=given.rows_read,
            rows_rejected=converted.problems.rejected_rows(),
        ) from None


def _write(engine: Engine, rows: pd.DataFrame, source: str, file_name: str, dry_run: bool) -> int:
    """Replace the source's subscriptions and customers; return the subscriptions replaced."""
    with write_transaction(engine) as connection:
        lock_customers(connection)
        _reject_foreign_ids(connection, rows, source, file_name)
        replaced = connection.execute(
            delete(SUBSCRIPTION_TABLE).where(SUBSCRIPTION_TABLE.c.source == source)
        ).rowcount
        _replace_customers(connection, rows["customer_id"].unique().tolist(), source)
        insert_frame(connection, SUBSCRIPTION_TABLE, _subscription_rows(rows, source))
        if dry_run:
            raise _DryRun(replaced)
    return int(replaced)


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


def _read_cells(subscriptions: pd.DataFrame | str | Path, encoding: str) -> _Input:
    """Return the input as a table indexed by 1-based data row, and a name for messages.

    A CSV file is read as text throughout. A DataFrame, and a Parquet file read as
    one, keeps its attribute columns as they are, and only its subscription columns
    are turned into text for checking.
    """
    if isinstance(subscriptions, pd.DataFrame):
        cells = subscriptions.copy()
        cells.columns = pd.Index([str(name).strip() for name in cells.columns])
        cells.index = pd.RangeIndex(1, len(cells) + 1)
        for column in [*SUBSCRIPTION_COLUMNS, *OPTIONAL_COLUMNS]:
            if column in cells.columns:
                cells[column] = _as_text(cells[column])
        return _Input(cells, FRAME_NAME, len(cells), text=False)

    path = Path(subscriptions)
    if is_parquet(path):
        return _read_parquet(path, encoding)
    if encoding == DETECT:
        encoding = resolve_options(path, ReaderOptions(encoding=DETECT)).encoding
    try:
        with open_binary(path) as (stream, _raw):
            cells = pd.read_csv(
                stream, dtype=str, na_filter=False, skip_blank_lines=False, encoding=encoding
            )
    except pd.errors.EmptyDataError:
        problem = RowMessage(None, None, None, f"{path.name} is empty. Add a header and rows.")
        raise IngestionError(path.name, [problem], 1) from None
    except UnicodeDecodeError as error:
        found = first_undecodable(path, encoding) or (error.start, error.reason)
        raise IngestionError(path.name, [not_text_problem(path, encoding, *found)], 1) from None
    except pd.errors.ParserError as error:
        problem = RowMessage(
            None, None, None, f"{path.name} is not a CSV file ({error}). Save it as one."
        )
        raise IngestionError(path.name, [problem], 1) from None

    cells.columns = pd.Index([str(name).strip() for name in cells.columns])
    cells.index = pd.RangeIndex(1, len(cells) + 1)
    for column in cells.columns:
        cells[column] = cells[column].str.strip()
    # Blank lines are dropped without renumbering the rows after them.
    return _Input(cells.loc[~(cells == "").all(axis=1)], path.name, len(cells), text=True)


def _read_parquet(path: Path, encoding: str) -> _Input:
    """Read a Parquet file as a DataFrame input, named after the file in messages."""
    try:
        frame = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as error:
        message = f"{path.name} is not a readable Parquet file ({error}). Save it again."
        problem = RowMessage(None, None, None, message)
        raise IngestionError(path.name, [problem], 1) from None
    read = _read_cells(frame, encoding)
    return _Input(read.cells, path.name, read.rows_read, text=False)


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
            "cancel_requested_at": rows["cancel_requested_at"].dt.date,
        }
    )
