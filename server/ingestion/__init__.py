"""Loading order files into the customer profile and order_line tables.

`load_orders(engine, path, "cdnow", source="cdnow")` reads a file with a declared
column mapping, validates every row, and replaces the source's previous rows in one
transaction.
"""

from server.ingestion.builtin import BUILTIN_MAPPINGS, get_mapping
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.loader import load_orders
from server.ingestion.mapping import (
    WHITESPACE,
    ColumnMapping,
    DuplicatePolicy,
    ProfileColumns,
    ReaderOptions,
)
from server.ingestion.report import LoadReport

__all__ = [
    "BUILTIN_MAPPINGS",
    "WHITESPACE",
    "ColumnMapping",
    "DuplicatePolicy",
    "IngestionError",
    "LoadReport",
    "ProfileColumns",
    "ReaderOptions",
    "RowMessage",
    "get_mapping",
    "load_orders",
]
