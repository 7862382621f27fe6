"""Loading an order file into the customer and order_line tables in one transaction."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from server.ingestion.dates import detect_date_format
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.mapping import ISO8601, ColumnMapping
from server.ingestion.merge import (
    MergeCounts,
    StagedSummary,
    build_profiles,
    find_foreign_customers,
    find_repeated_keys,
    has_unkeyed_lines,
    replace_source,
    summarise,
    upsert_source,
)
from server.ingestion.reader import CHUNK_ROWS, Progress, SourceReader
from server.ingestion.recognise import resolve_mapping
from server.ingestion.report import LoadReport
from server.ingestion.row_messages import RowMessages
from server.ingestion.staging import (
    StagedChunk,
    create_staging,
    drop_staging,
    index_staging,
    stage_chunk,
    stage_excluded_orders,
)
from server.ingestion.store import lock_customers
from server.ingestion.targets import ORDER_LINE_TABLE, max_length
from server.ingestion.validate import ChunkSettings, validate_orders
from server.storage.engine import write_transaction

logger = logging.getLogger(__name__)

AfterWrite = Callable[[Connection, LoadReport], None]
"""Called with the load's connection and report before it commits, such as to audit it."""


@dataclass
class _Totals:
    """Running totals of the chunks of one file, kept while they are read."""

    problems: RowMessages = field(default_factory=RowMessages)
    returns: RowMessages = field(default_factory=RowMessages)
    rows_loaded: int = 0
    refunds: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    revenue_parts: list[float] = field(default_factory=list)
    date_format: str = ""


class _DryRun(Exception):
    """Raised inside the load's transaction to roll it back after a dry run."""

    def __init__(self, report: LoadReport) -> None:
        self.report = report


def load_orders(
    engine: Engine,
    path: str | Path,
    mapping: ColumnMapping | str | None,
    source: str | None = None,
    *,
    dry_run: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    after_write: AfterWrite | None = None,
    encoding: str | None = None,
) -> LoadReport:
    """Load the order file at `path` as `source` and report what was read and written.

    `mapping` is a ColumnMapping, the name of a built-in one, or None to recognise a
    built-in from the file's header. `source` defaults to the mapping's name. The
    file is read in chunks of `chunk_rows` and checked as a whole before anything is
    kept: every row goes to staging tables inside one transaction, which the merge
    then writes (see ColumnMapping.write_mode), so a failed load leaves the database
    as it was. With `dry_run` the transaction is rolled back after the merge.
    Otherwise `after_write`, when given, runs inside the transaction just before the
    commit, so whatever it writes commits or rolls back with the load. `encoding`
    (a Python codec name or "auto") replaces the mapping's encoding of text files.

    Raises IngestionError listing the file's problems (invalid cells, repeated line
    keys, customer ids owned by another source), ValueError for an unknown mapping
    name or an invalid source, and OSError when the file cannot be read.
    """
    started = time.perf_counter()
    path = Path(path)
    resolved = resolve_mapping(path, mapping, encoding)
    source = resolved.name if source is None else source
    _check_source(source)
    logger.info("loading %s as source %r with mapping %r", path.name, source, resolved.name)

    reader = SourceReader(path, resolved, chunk_rows, progress)
    try:
        with write_transaction(engine) as connection:
            report = _load(connection, reader, resolved, source, dry_run, started)
            if dry_run:
                raise _DryRun(report)
            if after_write is not None:
                after_write(connection, report)
    except _DryRun as rolled_back:
        report = rolled_back.report
    logger.info("%s", report.summary())
    return report


def _load(
    connection: Connection,
    reader: SourceReader,
    mapping: ColumnMapping,
    source: str,
    dry_run: bool,
    started: float,
) -> LoadReport:
    lock_customers(connection)
    create_staging(connection)
    totals = _stage_file(connection, reader, mapping)
    column = mapping.customer_id or mapping.customer_email
    assert column is not None
    if mapping.line_id is not None:
        find_repeated_keys(connection, mapping.line_id, totals.problems)
    find_foreign_customers(connection, source, column, totals.problems)
    if totals.problems.count:
        raise IngestionError(
            reader.path.name,
            totals.problems.listed(),
            totals.problems.count,
            rows_read=reader.rows_read,
            rows_rejected=totals.problems.rejected_rows(),
        )

    attributes = list(mapping.profile.by_attribute())
    index_staging(connection)
    conflicts = build_profiles(connection, attributes)
    summary = summarise(connection)
    upsert = mapping.upserts() and not has_unkeyed_lines(connection, source)
    if upsert:
        counts = upsert_source(connection, source, attributes)
    else:
        counts = replace_source(connection, source, attributes)
    drop_staging(connection)
    return _report(
        reader, mapping, source, totals, summary, counts, conflicts, upsert, dry_run, started
    )


def _stage_file(connection: Connection, reader: SourceReader, mapping: ColumnMapping) -> _Totals:
    """Check every chunk and stage its lines; stop staging, not checking, at the first problem."""
    totals = _Totals()
    settings: ChunkSettings | None = None
    for chunk in _whole_orders(reader, mapping):
        if settings is None:
            settings = _settings(reader, mapping, chunk)
            totals.date_format = settings.date_format
        valid = validate_orders(chunk, mapping, settings)
        totals.problems.extend(valid.problems)
        totals.returns.extend(valid.returns)
        if totals.problems.count:
            continue

        totals.rows_loaded += len(valid.lines) - valid.refunds
        totals.refunds += valid.refunds
        totals.revenue_parts.append(math.fsum(valid.lines["amount"].tolist()))
        for reason, count in valid.excluded.items():
            totals.excluded[reason] = totals.excluded.get(reason, 0) + count
        attributes = list(mapping.profile.by_attribute())
        stage_chunk(connection, StagedChunk(valid.lines, attributes))
        stage_excluded_orders(connection, valid.excluded_orders)
    return totals


def _settings(reader: SourceReader, mapping: ColumnMapping, first: pd.DataFrame) -> ChunkSettings:
    options = reader.options
    date_format = mapping.date_format
    if mapping.order_date in reader.iso_date_columns:
        date_format = ISO8601
    elif date_format is None:
        column = mapping.order_date
        date_format = detect_date_format(first[column], column, reader.path.name)
    return ChunkSettings(
        date_format=date_format,
        decimal=options.decimal,
        thousands=options.thousands,
        iso_date_columns=frozenset(reader.iso_date_columns),
    )


def _whole_orders(reader: SourceReader, mapping: ColumnMapping) -> Iterator[pd.DataFrame]:
    """Yield the reader's chunks, moving an order cut at a chunk's end into the next chunk.

    Filling order-level cells, spreading discounts and numbering lines all need every
    row of an order in one chunk. Exports write an order's rows one after another.
    """
    needs_whole = mapping.order_columns or mapping.number_lines or mapping.order_discount
    if mapping.order_id is None or not (needs_whole or mapping.refund_amount):
        yield from reader
        return

    held = pd.DataFrame()
    for chunk in reader:
        cells = pd.concat([held, chunk]) if len(held) else chunk
        orders = cells[mapping.order_id]
        last = orders.iloc[-1]
        tail = orders.iloc[::-1].ne(last).cumsum().iloc[::-1] == 0
        held = cells.loc[tail.to_numpy()]
        if len(held) < len(cells):
            yield cells.loc[~tail.to_numpy()]
    if len(held):
        yield held


def _report(
    reader: SourceReader,
    mapping: ColumnMapping,
    source: str,
    totals: _Totals,
    summary: StagedSummary,
    counts: MergeCounts,
    conflicts: int,
    upsert: bool,
    dry_run: bool,
    started: float,
) -> LoadReport:
    if summary.first_order_date is None or summary.last_order_date is None:
        problem = RowMessage(
            None,
            None,
            None,
            f"{reader.path.name} has no order lines to load: every row was excluded "
            f"({_excluded_text(totals.excluded)}).",
        )
        raise IngestionError(reader.path.name, [problem], 1, rows_read=reader.rows_read)
    return LoadReport(
        source=source,
        file_name=reader.path.name,
        mapping=mapping.name,
        rows_read=reader.rows_read,
        rows_loaded=totals.rows_loaded,
        customers=summary.customers,
        orders=summary.orders,
        returns=totals.returns.count,
        net_revenue=math.fsum(totals.revenue_parts),
        first_order_date=summary.first_order_date,
        last_order_date=summary.last_order_date,
        replaced_rows=0 if upsert else counts.lines_removed,
        profile_conflicts=conflicts,
        duration_seconds=time.perf_counter() - started,
        warnings=tuple(totals.returns.listed()),
        warning_count=totals.returns.count,
        order_lines=summary.lines,
        refunds=totals.refunds,
        excluded_rows=dict(totals.excluded),
        mode="upsert" if upsert else "replace",
        dry_run=dry_run,
        lines_added=counts.lines_added,
        lines_updated=counts.lines_updated,
        lines_unchanged=counts.lines_unchanged,
        lines_removed=counts.lines_removed if upsert else 0,
        customers_added=counts.customers_added,
        customers_updated=counts.customers_updated,
        file_format=reader.file_format,
        encoding=reader.options.encoding,
        separator=reader.options.separator,
        date_format=totals.date_format,
    )


def _excluded_text(excluded: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(excluded.items())) or "none"


def _check_source(source: str) -> None:
    length = max_length(ORDER_LINE_TABLE, "source") or 0
    if not source.strip() or len(source) > length:
        raise ValueError(
            f"invalid source {source!r}; use 1 to {length} characters, such as 'cdnow'"
        )
