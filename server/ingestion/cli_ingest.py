"""The `lookahead ingest` command: load a file, then print its report as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from server.ingestion.errors import IngestionError
from server.ingestion.loader import load_orders
from server.ingestion.mapping import ColumnMapping
from server.ingestion.mapping_file import read_mapping

PROGRESS_MIN_BYTES = 50 * 1024 * 1024
"""Files from this size up show a progress bar, when stderr is a terminal."""

_BAR_WIDTH = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["orders", "subscriptions"], help="what the file holds")
    parser.add_argument("file", type=Path, help="CSV, TSV or Parquet file (.gz, .bz2, .xz, .zip)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--mapping", type=Path, help="JSON file that declares the column mapping")
    chosen.add_argument(
        "--format",
        help="built-in mapping: cdnow, superstore, shopify or woocommerce (default: "
        "recognised from the header)",
    )
    parser.add_argument("--source", help="name of the source (default: the mapping's name)")
    parser.add_argument(
        "--dry-run", action="store_true", help="check and count everything, write nothing"
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def run_ingest(args: argparse.Namespace, engine: Engine) -> int:
    """Load the file and print the report; return 0, or 1 when the file was rejected."""
    if args.kind == "subscriptions":
        return _run_subscriptions(args, engine)

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
        )
    except IngestionError as error:
        if progress is not None:
            progress.finish()
        _print_failure(error, args.json)
        return 1
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
    from server.ingestion.subscriptions import load_subscriptions

    if args.mapping is not None or args.format is not None or args.dry_run:
        raise ValueError(
            "subscriptions files take no --mapping, --format or --dry-run yet; use the "
            "columns subscription_id, customer_id, start_date, end_date, recurrence_months "
            "and recurring_amount"
        )
    try:
        report = load_subscriptions(engine, args.file, source=args.source or "subscriptions")
    except IngestionError as error:
        _print_failure(error, args.json)
        return 1
    print(json.dumps(report.as_dict()) if args.json else report.summary())
    return 0


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
