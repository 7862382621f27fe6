"""Loading order files into the customer profile and order_line tables.

`load_orders(engine, path, "shopify", source="shop")` reads a CSV, TSV or Parquet file
in chunks with a declared column mapping (or the built-in one its header matches),
checks every row, and writes in one transaction: replacing the source's rows, or
upserting them by line key when the mapping has keys.
"""

from server.ingestion.builtin import BUILTIN_MAPPINGS, get_mapping
from server.ingestion.errors import IngestionError, RowMessage
from server.ingestion.loader import load_orders
from server.ingestion.mapping import (
    DETECT,
    WHITESPACE,
    ColumnMapping,
    DuplicatePolicy,
    Exclusion,
    ProfileColumns,
    ReaderOptions,
)
from server.ingestion.mapping_file import read_mapping, save_mapping
from server.ingestion.report import LoadReport

__all__ = [
    "BUILTIN_MAPPINGS",
    "DETECT",
    "WHITESPACE",
    "ColumnMapping",
    "DuplicatePolicy",
    "Exclusion",
    "IngestionError",
    "LoadReport",
    "ProfileColumns",
    "ReaderOptions",
    "RowMessage",
    "get_mapping",
    "load_orders",
    "read_mapping",
    "save_mapping",
]
