"""Loading a customer profile file (CustomerId plus attributes) into the customer table.

Customers are keyed as the order loader keys them: by id, or by the hashed,
normalised e-mail when a row has no id. The load is an upsert within one source:
new customers are added, customers whose attributes differ are updated, and the
source's other customers stay as they are. Customers that another source owns are
rejected, as order loads reject them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from server.ingestion.cells import empty_to_none, limit_length
from server.ingestion.characters import reject_control_in_text, reject_invisible_in_ids
from server.ingestion.customers_key import customer_keys
from server.ingestion.encoding import with_encoding
from server.ingestion.layouts import resolve_layout
from server.ingestion.mapping import DETECT, ProfileColumns, ReaderOptions
from server.ingestion.reader import SourceReader
from server.ingestion.record_report import RecordLoadReport
from server.ingestion.row_messages import RowMessages
from server.ingestion.store import LOOKUP_CHUNK_IDS, find_foreign_customers, lock_customers
from server.ingestion.targets import CUSTOMER_TABLE, max_length
from server.ingestion.whole_file import find_repeated, read_whole, reject
from server.storage.engine import write_transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CustomerMapping:
    """The layout of a customer profile file.

    The key columns must be in the file. A profile column the file lacks leaves that
    attribute as it is; an empty cell clears it.
    """

    name: str
    customer_id: str | None = None
    customer_email: str | None = None
    anonymous_customer_ids: tuple[str, ...] = ()
    profile: ProfileColumns = field(default_factory=ProfileColumns)
    reader: ReaderOptions = field(
        default_factory=lambda: ReaderOptions(separator=DETECT, encoding=DETECT)
    )

    def __post_init__(self) -> None:
        if self.customer_id is None and self.customer_email is None:
            raise ValueError(f"mapping {self.name!r} needs customer_id, customer_email or both")

    def source_columns(self) -> list[str]:
        """List the key columns, which every file of this layout must have."""
        return [column for column in (self.customer_id, self.customer_email) if column]


# The customer profile as Lookahead names it, and as `lookahead generate` writes it.
PROFILE = CustomerMapping(
    name="profile",
    customer_id="CustomerId",
    profile=ProfileColumns(
        segment="Segment", country="Country", city="City", state="State", region="Region"
    ),
)
CUSTOMER_MAPPINGS: MappingProxyType[str, CustomerMapping] = MappingProxyType({"profile": PROFILE})


@dataclass(frozen=True)
class _Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


class _DryRun(Exception):
    def __init__(self, counts: _Counts) -> None:
        self.counts = counts


def load_customers(
    engine: Engine,
    path: str | Path,
    mapping: CustomerMapping | str | None = None,
    source: str = "customers",
    *,
    dry_run: bool = False,
    encoding: str | None = None,
) -> RecordLoadReport:
    """Upsert the customers of the profile file at `path` into `source`.

    `mapping` is a CustomerMapping, a built-in name, or None to recognise the
    built-in from the header. Raises IngestionError listing every problem of the
    file (nothing is written), ValueError for an unknown mapping, and OSError when
    the file cannot be read. `encoding` (a Python codec name or "auto") replaces the
    mapping's encoding of text files.
    """
    started = time.perf_counter()
    path = Path(path)
    layout = with_encoding(_resolve(path, mapping, encoding), encoding)
    cells, reader = read_whole(path, layout)
    attributes = {
        name: column for name, column in layout.profile.by_attribute().items() if column in cells
    }
    problems = RowMessages()
    rows = _validate(cells, layout, attributes, problems)
    reject(reader, problems)

    try:
        with write_transaction(engine) as connection:
            lock_customers(connection)
            _reject_foreign(connection, rows, layout, source, reader)
            counts = _upsert(connection, rows, list(attributes), source)
            if dry_run:
                raise _DryRun(counts)
    except _DryRun as rolled_back:
        counts = rolled_back.counts

    used = {*layout.source_columns(), *attributes.values()}
    report = RecordLoadReport(
        kind="customers",
        source=source,
        file_name=reader.path.name,
        mapping=layout.name,
        rows_read=reader.rows_read,
        rows_loaded=len(rows),
        added=counts.added,
        updated=counts.updated,
        unchanged=counts.unchanged,
        removed=0,
        attributes=tuple(attributes),
        ignored_columns=tuple(column for column in reader.columns if column not in used),
        dry_run=dry_run,
        duration_seconds=time.perf_counter() - started,
    )
    logger.info("%s", report.summary())
    return report


def _resolve(
    path: Path, mapping: CustomerMapping | str | None, encoding: str | None
) -> CustomerMapping:
    if isinstance(mapping, CustomerMapping):
        return mapping
    message = (
        f"The header of {path.name} has no CustomerId column. Name the key columns in a "
        'JSON file for --mapping, such as {"name": "crm", "customer_id": "Client", '
        '"customer_email": "Email", "profile": {"country": "Land"}}.'
    )
    return resolve_layout(path, "customer", mapping, CUSTOMER_MAPPINGS, PROFILE, encoding, message)


def _validate(
    cells: pd.DataFrame,
    layout: CustomerMapping,
    attributes: dict[str, str],
    problems: RowMessages,
) -> pd.DataFrame:
    rows = pd.DataFrame(index=cells.index)
    for column, label in ((layout.customer_id, "customer id"), (layout.customer_email, "e-mail")):
        if column is not None:
            reject_invisible_in_ids(cells[column], column, label, problems)
    rows["customer_id"] = customer_keys(cells, layout, problems)
    key_column = layout.customer_id or layout.customer_email
    assert key_column is not None
    find_repeated(rows["customer_id"], key_column, "customer", problems)
    for name, column in attributes.items():
        reject_control_in_text(cells[column], column, problems)
        length = max_length(CUSTOMER_TABLE, name)
        if length is not None:
            limit_length(cells[column], column, length, problems)
        rows[name] = empty_to_none(cells[column])
    return rows


def _reject_foreign(
    connection: Connection,
    rows: pd.DataFrame,
    layout: CustomerMapping,
    source: str,
    reader: SourceReader,
) -> None:
    owners = find_foreign_customers(connection, rows["customer_id"].tolist(), source)
    if not owners:
        return
    column = layout.customer_id or layout.customer_email
    assert column is not None
    problems = RowMessages()
    keys = rows["customer_id"]
    problems.add(
        keys.isin(list(owners)),
        keys,
        column,
        lambda row, value: (
            f"Row {row}, column {column!r}: customer {value!r} already belongs to source "
            f"{owners[value]!r}. Load the file with that source to update its customers."
        ),
    )
    reject(reader, problems)


def _upsert(
    connection: Connection, rows: pd.DataFrame, attributes: list[str], source: str
) -> _Counts:
    """Insert new customers and update those whose attributes differ; count each kind."""
    stored = _stored_customers(connection, rows["customer_id"].tolist(), attributes)
    records: list[dict[str, Any]] = rows.astype(object).to_dict("records")  # type: ignore[assignment]
    new = [record for record in records if record["customer_id"] not in stored]
    changed = [
        record
        for record in records
        if record["customer_id"] in stored
        and any(stored[record["customer_id"]][name] != record[name] for name in attributes)
    ]

    if new:
        connection.execute(insert(CUSTOMER_TABLE), [{**record, "source": source} for record in new])
    if changed:
        customer = CUSTOMER_TABLE.c
        statement = (
            update(CUSTOMER_TABLE)
            .where(customer.customer_id == bindparam("key"))
            .values({name: bindparam(f"new_{name}") for name in attributes})
        )
        parameters = [
            {"key": record["customer_id"], **{f"new_{name}": record[name] for name in attributes}}
            for record in changed
        ]
        connection.execute(statement, parameters)
    return _Counts(
        added=len(new), updated=len(changed), unchanged=len(records) - len(new) - len(changed)
    )


def _stored_customers(
    connection: Connection, customer_ids: list[str], attributes: list[str]
) -> dict[str, dict[str, Any]]:
    customer = CUSTOMER_TABLE.c
    stored: dict[str, dict[str, Any]] = {}
    for start in range(0, len(customer_ids), LOOKUP_CHUNK_IDS):
        chunk = customer_ids[start : start + LOOKUP_CHUNK_IDS]
        query = select(customer.customer_id, *(customer[name] for name in attributes)).where(
            customer.customer_id.in_(chunk)
        )
        for row in connection.execute(query).mappings():
            stored[row["customer_id"]] = dict(row)
    return stored
