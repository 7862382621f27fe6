"""The `lookahead ingest` command: load a file, then print its report as text or JSON.

Every kind of file prints the same report shape: rows read, loaded and rejected,
and on failure each problem with its row, column and message.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from server.ingestion.customer_profiles import CustomerMapping, load_customers
from server.ingestion.encoding import encoding_name
from server.ingestion.errors import IngestionError
from server.ingestion.generated_files import GENERATED_SOURCE, is_generated_file
from server.ingestion.loader import load_orders
from server.ingestion.mapping import ColumnMapping
from server.ingestion.mapping_file import read_mapping, read_record_mapping
from server.ingestion.products import ProductMapping, load_products
from server.ingestion.record_report import RecordLoadReport

PROGRESS_MIN_BYTES = 50 * 1024 * 1024
"""Files from this size up show a progress bar, when stderr is a terminal."""

_BAR_WIDTH = 30
KINDS = ("orders", "subscriptions", "customers", "products")
_DEFAULT_SOURCES = {"subscriptions": "subscriptions", "customers": "customers"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, help="what the file contains")
    parser.add_argument("file", type=Path, help="CSV, TSV or Parquet file (.gz, .bz2, .xz, .zip)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--mapping", type=Path, help="JSON file that declares the column mapping")
    chosen.add_argument(
        "--format",
        help="built-in layout (default: recognised from the header). Orders: cdnow, generated, "
        "superstore, shopify, woocommerce. Subscriptions: plain, stripe, telco. "
        "Customers: profile. Products: catalog, generated, superstore",
    )
    parser.add_argument(
        "--source",
        help="name of the source (default: 'generated' for every file that 'lookahead "
        "generate' wrote, else the mapping's name for orders and products, 'subscriptions' "
        "for subscriptions and 'customers' for customers)",
    )
    parser.add_argument(
        "--encoding",
        type=_encoding,
        help="text encoding of a CSV or TSV file, such as utf-8, latin-1, cp1252, utf-16 or "
        "auto (default: the layout's own, UTF-8 for most; Parquet files ignore it)",
    )
    parser.add_argument(
        "--profile-entity",
        help="subscriptions only: write the attribute columns as this profile entity",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and count everything, write nothing"
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def _encoding(raw: str) -> str:
    try:
        return encoding_name(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_ingest(args: argparse.Namespace, engine: Engine) -> int:
    """Load the file and print the report; return 0, or 1 when the file was rejected."""
    if args.profile_entity is not None and args.kind != "subscriptions":
        raise ValueError("--profile-entity applies to subscriptions files only")
    try:
        if args.kind == "subscriptions":
            return _run_subscriptions(args, engine)
        if args.kind in ("customers", "products"):
            return _run_records(args, engine)
        return _run_orders(args, engine)
    except IngestionError as error:
        _print_failure(error, args.json)
        return 1


def _run_orders(args: argparse.Namespace, engine: Engine) -> int:
    mapping: ColumnMapping | str | None = args.format
    if args.mapping is not None:
        mapping = read_mapping(args.mapping)
    progress = _ProgressBar(sys.stderr) if _wants_progress(args.file) else None
    try:
        report = load_orders(
            engine,
            args.file,
            mapping,
            source=args.source,
            dry_run=args.dry_run,
            progress=progress,
            encoding=args.encoding,
        )
    finally:
        if progress is not None:
            progress.finish()

    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print("\n".join(report.details()))
        for warning in report.warnings:
            print(f"  warning: {warning.message}")
    return 0


def _run_subscriptions(args: argparse.Namespace, engine: Engine) -> int:
    from server.ingestion.subscription_formats import SubscriptionMapping
    from server.ingestion.subscriptions import load_subscriptions

    layout: SubscriptionMapping | str | None = args.format
    if args.mapping is not None:
        layout = read_record_mapping(args.mapping, SubscriptionMapping)
    report = load_subscriptions(
        engine,
        args.file,
        _default_source(args),
        args.profile_entity,
        layout=layout,
        dry_run=args.dry_run,
        encoding=args.encoding,
    )
    print(json.dumps(report.as_dict()) if args.json else "\n".join(report.details()))
    return 0


def _run_records(args: argparse.Namespace, engine: Engine) -> int:
    report: RecordLoadReport
    if args.kind == "customers":
        customer_mapping: CustomerMapping | str | None = args.format
        if args.mapping is not None:
            customer_mapping = read_record_mapping(args.mapping, CustomerMapping)
        source = _default_source(args)
        report = load_customers(
            engine,
            args.file,
            customer_mapping,
            source,
            dry_run=args.dry_run,
            encoding=args.encoding,
        )
    else:
        product_mapping: ProductMapping | str | None = args.format
        if args.mapping is not None:
            product_mapping = read_record_mapping(args.mapping, ProductMapping)
        report = load_products(
            engine,
            args.file,
            product_mapping,
            args.source,
            dry_run=args.dry_run,
            encoding=args.encoding,
        )
    print(json.dumps(report.as_dict()) if args.json else "\n".join(report.details()))
    return 0


def _default_source(args: argparse.Namespace) -> str:
    """Return --source, else the default source of a customers or subscriptions file.

    Generated files share the source "generated", which the generated orders and
    products already get from their mapping's name, so they load in any order.
    """
    if args.source:
        return str(args.source)
    if args.mapping is None and is_generated_file(args.kind, args.file, args.encoding):
        return GENERATED_SOURCE
    return _DEFAULT_SOURCES[args.kind]


def _print_failure(error: IngestionError, as_json: bool) -> None:
    if as_json:
        print(json.dumps(error.as_dict()))
        return
    read = "unknown" if error.rows_read is None else str(error.rows_read)
    rejected = "unknown" if error.rows_rejected is None else str(error.rows_rejected)
    print(f"rows read {read}, rows loaded 0, rows rejected {rejected}", file=sys.stderr)
    print(f"load failed: {error}", file=sys.stderr)


def _wants_progress(path: Path) -> bool:
    try:
        large = path.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:
        return False
    return large and sys.stderr.isatty()


class _ProgressBar:
    """A one-line bar on a terminal, redrawn when the percentage changes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if percent == self.shown:
            return
        self.shown = percent
        filled = _BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        self.stream.write(f"\rreading [{bar}] {percent:3d}%")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown >= 0:
            self.stream.write("\n")
            self.stream.flush()
