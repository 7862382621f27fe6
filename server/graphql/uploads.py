"""The `loadOrdersFile` mutation: an order file uploaded as a GraphQL multipart request."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Annotated

import strawberry
from sqlalchemy import Connection
from strawberry.file_uploads import Upload
from strawberry.types import Info

from server.auth.tokens import Principal
from server.graphql.context import context_value
from server.graphql.db import run_db
from server.graphql.inputs import InputError
from server.graphql.permissions import IsContributor
from server.graphql.upload_files import (
    UNREADABLE_FILE_ERRORS,
    api_message,
    checked_upload,
    client_file_name,
    empty_archive_message,
    save_upload,
    stored_name,
    unreadable_message,
)
from server.ingestion import IngestionError, LoadReport, load_orders
from server.ingestion.builtin import BUILTIN_MAPPINGS
from server.ingestion.loader import AfterWrite
from server.security.audit import AuditAction, AuditTarget, record_audit

logger = logging.getLogger(__name__)


@strawberry.type(description="Rows left out of a load for one exclusion reason.")
class ExcludedRows:
    reason: str = strawberry.field(description="The mapping's reason, such as cancelled.")
    rows: int = strawberry.field(description="Rows left out for this reason.")


@strawberry.type(description="A problem or warning about one cell, row or the whole file.")
class RowProblem:
    row: int | None = strawberry.field(description="1-based data row; null for the file.")
    column: str | None = strawberry.field(description="The file's column; null for a row.")
    value: str | None = strawberry.field(description="The cell as written in the file.")
    message: str = strawberry.field(description="What is wrong and how to fix it.")


@strawberry.type(description="What a load read, set aside and wrote (or would write).")
class LoadReportType:
    source: str = strawberry.field(description="The source the rows belong to.")
    mapping: str = strawberry.field(description="The column mapping used.")
    mode: str = strawberry.field(description="replace or upsert.")
    dry_run: bool = strawberry.field(description="True when nothing was written.")
    rows_read: int = strawberry.field(description="Data rows in the file, blank ones included.")
    rows_loaded: int = strawberry.field(description="Rows that became order lines.")
    excluded: list[ExcludedRows] = strawberry.field(description="Rows left out, by reason.")
    customers: int = strawberry.field(description="Distinct customers of the loaded rows.")
    orders: int = strawberry.field(description="Distinct orders of the loaded rows.")
    order_lines: int = strawberry.field(description="Lines written, refund lines included.")
    net_revenue: float = strawberry.field(description="Sum of line amounts after discounts.")
    first_order_date: str = strawberry.field(description="Earliest order date, ISO 8601.")
    last_order_date: str = strawberry.field(description="Latest order date, ISO 8601.")
    lines_added: int = strawberry.field(description="New lines.")
    lines_updated: int = strawberry.field(description="Lines whose values changed.")
    lines_unchanged: int = strawberry.field(description="Lines already stored as they are.")
    lines_removed: int = strawberry.field(description="Lines deleted by replace or upsert.")
    warnings: list[RowProblem] = strawberry.field(description="The first 50 returned lines.")

    @classmethod
    def from_report(cls, report: LoadReport) -> LoadReportType:
        return cls(
            source=report.source,
            mapping=report.mapping,
            mode=report.mode,
            dry_run=report.dry_run,
            rows_read=report.rows_read,
            rows_loaded=report.rows_loaded,
            excluded=[
                ExcludedRows(reason=reason, rows=rows)
                for reason, rows in sorted(report.excluded_rows.items())
            ],
            customers=report.customers,
            orders=report.orders,
            order_lines=report.order_lines,
            net_revenue=report.net_revenue,
            first_order_date=report.first_order_date.isoformat(),
            last_order_date=report.last_order_date.isoformat(),
            lines_added=report.lines_added,
            lines_updated=report.lines_updated,
            lines_unchanged=report.lines_unchanged,
            lines_removed=report.lines_removed or report.replaced_rows,
            warnings=[RowProblem(**warning.as_dict()) for warning in report.warnings],
        )


@strawberry.type(description="The load's report, or the problems that stopped it.")
class LoadOrdersPayload:
    report: LoadReportType | None = strawberry.field(description="Null when errors is not empty.")
    problems: list[RowProblem] = strawberry.field(
        description="The first 50 problems of a rejected file, in row order."
    )
    errors: list[InputError] = strawberry.field(description="Empty on success.")


@strawberry.type
class UploadMutations:
    @strawberry.mutation(
        description=(
            "Load an uploaded order file (CSV, TSV or Parquet; 200 MiB by default) as a source. "
            "A rejected file writes nothing."
        ),
        permission_classes=[IsContributor],
    )
    async def load_orders_file(
        self,
        info: Info,
        file: Upload,
        # The GraphQL names are format and source; "source" would clash with the
        # parent-value argument that Strawberry passes to permission checks.
        mapping_name: Annotated[
            str | None,
            strawberry.argument(
                name="format",
                description="A built-in mapping; default: recognised from the header.",
            ),
        ] = None,
        source_name: Annotated[
            str | None,
            strawberry.argument(name="source", description="Default: the mapping's name."),
        ] = None,
        dry_run: bool = False,
    ) -> LoadOrdersPayload:
        context = context_value(info.context)
        upload = checked_upload(file)
        if mapping_name is not None and mapping_name not in BUILTIN_MAPPINGS:
            return _failed("format", "INVALID_VALUE", _unknown_format_message(mapping_name))

        file_name = client_file_name(upload.filename)
        with tempfile.TemporaryDirectory(prefix="lookahead-upload-") as folder:
            path = Path(folder) / stored_name(upload.filename)
            limit = context.settings.max_upload_bytes
            if not await save_upload(upload, path, limit):
                return _failed("file", "TOO_LARGE", _too_large_message(limit))
            empty = empty_archive_message(path, file_name)
            if empty is not None:
                return _failed("file", "INVALID_FILE", empty)
            try:
                report = await run_db(
                    load_orders,
                    context.engine,
                    path,
                    mapping_name,
                    source_name,
                    dry_run=dry_run,
                    after_write=_auditor(context.principal),
                )
            except IngestionError as error:
                return _rejected(error, path.name, file_name)
            except UNREADABLE_FILE_ERRORS as error:
                logger.info("uploaded file %r rejected: %s", file_name, error)
                message = unreadable_message(path, file_name, error)
                return _failed("file", "INVALID_FILE", message)
            except ValueError as error:
                if not str(error).startswith("invalid source"):
                    raise
                return _failed("source", "INVALID_VALUE", str(error))
        logger.info("uploaded file loaded as source %r: %s", report.source, report.summary())
        return LoadOrdersPayload(report=LoadReportType.from_report(report), problems=[], errors=[])


def _auditor(principal: Principal | None) -> AfterWrite:
    """Return a hook that records the load as an audit event: counts, never rows."""

    def record(connection: Connection, report: LoadReport) -> None:
        details = {
            "kind": "orders",
            "mapping": report.mapping,
            "mode": report.mode,
            "rows_read": report.rows_read,
            "rows_loaded": report.rows_loaded,
            "lines_added": report.lines_added,
            "lines_updated": report.lines_updated,
            "lines_removed": report.lines_removed or report.replaced_rows,
        }
        record_audit(
            connection, principal, AuditAction.LOAD, AuditTarget.SOURCE, report.source, details
        )

    return record


def _rejected(error: IngestionError, stored: str, display_name: str) -> LoadOrdersPayload:
    problems = []
    for problem in error.problems:
        values = problem.as_dict()
        values["message"] = api_message(values["message"], stored, display_name)
        problems.append(RowProblem(**values))
    message = api_message(str(error), stored, display_name)
    return LoadOrdersPayload(
        report=None,
        problems=problems,
        errors=[InputError(field="file", code="INVALID_FILE", message=message)],
    )


def _unknown_format_message(name: str) -> str:
    valid = ", ".join(sorted(BUILTIN_MAPPINGS))
    return (
        f"unknown format {name[:40]!r}; valid formats: {valid}. Leave format out to "
        "recognise it from the file's header"
    )


def _failed(field: str, code: str, message: str) -> LoadOrdersPayload:
    return LoadOrdersPayload(
        report=None, problems=[], errors=[InputError(field=field, code=code, message=message)]
    )


def _too_large_message(limit: int) -> str:
    return (
        f"the file is larger than {limit // (1024 * 1024)} MiB; compress it "
        "with gzip, or load it on the server with 'lookahead ingest orders'"
    )
