"""Loading a product catalog file into the `product` table, replacing the source's catalog.

A ProductMapping names the file's product id, name, category and sub-category
columns. With `one_row_per_product` every other column becomes a further attribute
(numbers stay numbers), and a repeated product id is a problem. Without it the file
is an order file that repeats each product's columns on its lines, as Superstore
does, and the most frequent value of each product wins (see
`catalog.products_from_order_lines`). The write itself is `catalog.replace_products`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from server.ingestion.cells import limit_length, require_values
from server.ingestion.characters import reject_control_in_text, reject_invisible_in_ids
from server.ingestion.encoding import with_encoding
from server.ingestion.layouts import resolve_layout
from server.ingestion.mapping import DETECT, ReaderOptions
from server.ingestion.record_report import RecordLoadReport
from server.ingestion.row_messages import RowMessages
from server.ingestion.targets import max_length
from server.ingestion.whole_file import find_repeated, read_whole, reject
from server.prediction.recommendation.catalog import products_from_order_lines, replace_products
from server.storage.tables import Product, table_of

logger = logging.getLogger(__name__)

PRODUCT_TABLE = table_of(Product)
_FIELDS = ("product_id", "name", "category", "sub_category")


@dataclass(frozen=True, kw_only=True)
class ProductMapping:
    """The layout of a catalog file: the file's column for each catalog field."""

    name: str
    product_id: str
    product_name: str | None = None
    category: str | None = None
    sub_category: str | None = None
    one_row_per_product: bool = True
    reader: ReaderOptions = field(
        default_factory=lambda: ReaderOptions(separator=DETECT, encoding=DETECT)
    )

    def columns(self) -> dict[str, str]:
        """Map each catalog field the mapping fills to the file's column."""
        declared = {
            "product_id": self.product_id,
            "name": self.product_name,
            "category": self.category,
            "sub_category": self.sub_category,
        }
        return {name: column for name, column in declared.items() if column is not None}

    def source_columns(self) -> list[str]:
        return list(dict.fromkeys(self.columns().values()))


# The layout `load_catalog_csv` reads: the catalog's own field names.
CATALOG = ProductMapping(
    name="catalog",
    product_id="product_id",
    product_name="name",
    category="category",
    sub_category="sub_category",
)
GENERATED = ProductMapping(
    name="generated",
    product_id="ProductId",
    product_name="ProductName",
    category="Category",
    sub_category="SubCategory",
)
SUPERSTORE = ProductMapping(
    name="superstore",
    product_id="Product ID",
    product_name="Product Name",
    category="Category",
    sub_category="Sub-Category",
    one_row_per_product=False,
)
PRODUCT_MAPPINGS: MappingProxyType[str, ProductMapping] = MappingProxyType(
    {mapping.name: mapping for mapping in (CATALOG, GENERATED, SUPERSTORE)}
)


def load_products(
    engine: Engine,
    path: str | Path,
    mapping: ProductMapping | str | None = None,
    source: str | None = None,
    *,
    dry_run: bool = False,
    encoding: str | None = None,
) -> RecordLoadReport:
    """Replace the catalog of `source` with the products of the file at `path`.

    `mapping` is a ProductMapping, a built-in name, or None to recognise the built-in
    from the header. `source` defaults to the mapping's name. Raises IngestionError
    listing every problem of the file (nothing is written), ValueError for an unknown
    mapping, and OSError when the file cannot be read. `encoding` (a Python codec name
    or "auto") replaces the mapping's encoding of text files.
    """
    started = time.perf_counter()
    path = Path(path)
    layout = with_encoding(_resolve(path, mapping, encoding), encoding)
    source = layout.name if source is None else source
    cells, reader = read_whole(path, layout)
    problems = RowMessages()
    products = _validate(cells, layout, problems)
    reject(reader, problems)

    counts = _compare(engine, source, products)
    if not dry_run:
        replace_products(engine, source, products)

    columns = layout.columns()
    further = [name for name in products.columns if name not in _FIELDS]
    used = {*columns.values(), *further}
    report = RecordLoadReport(
        kind="products",
        source=source,
        file_name=reader.path.name,
        mapping=layout.name,
        rows_read=reader.rows_read,
        rows_loaded=len(cells),
        added=counts["added"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        removed=counts["removed"],
        attributes=tuple([name for name in columns if name != "product_id"] + further),
        ignored_columns=tuple(column for column in reader.columns if column not in used),
        dry_run=dry_run,
        duration_seconds=time.perf_counter() - started,
    )
    logger.info("%s", report.summary())
    return report


def _resolve(
    path: Path, mapping: ProductMapping | str | None, encoding: str | None
) -> ProductMapping:
    if isinstance(mapping, ProductMapping):
        return mapping
    message = (
        f"The header of {path.name} matches no built-in catalog layout "
        f"({', '.join(PRODUCT_MAPPINGS)}). Name the columns in a JSON file for --mapping, "
        'such as {"name": "shop", "product_id": "SKU", "product_name": "Title"}.'
    )
    return resolve_layout(path, "product", mapping, PRODUCT_MAPPINGS, CATALOG, encoding, message)


def _validate(cells: pd.DataFrame, layout: ProductMapping, problems: RowMessages) -> pd.DataFrame:
    """Check the catalog cells and return one row per product, with typed further attributes."""
    columns = layout.columns()
    reject_invisible_in_ids(cells[layout.product_id], layout.product_id, "product id", problems)
    for column in cells.columns:
        if column != layout.product_id:
            reject_control_in_text(cells[column], column, problems)
    for name, column in columns.items():
        length = max_length(PRODUCT_TABLE, name)
        if length is not None:
            limit_length(cells[column], column, length, problems)
    id_column = layout.product_id
    require_values(cells[id_column], id_column, "product id", problems)

    if not layout.one_row_per_product:
        lines = cells[list(columns.values())].replace("", None)
        return products_from_order_lines(lines, columns)

    find_repeated(cells[id_column], id_column, "product id", problems)
    products = cells[list(columns.values())].rename(columns={v: k for k, v in columns.items()})
    products = products.replace("", None)
    for column in cells.columns:
        if column not in columns.values():
            products[column] = _typed(cells[column])
    return products.reset_index(drop=True)


def _typed(cells: pd.Series) -> pd.Series:
    """Return numbers when every non-empty cell is one (whole numbers as int), else text."""
    present = cells[cells != ""]
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) == 0 or numbers.isna().any():
        return cells.astype(object).where(cells != "", None)
    typed = pd.to_numeric(cells.where(cells != ""), errors="coerce")
    if (typed.dropna() % 1 == 0).all():
        return typed.astype("Int64").astype(object).where(typed.notna(), None)
    return typed


def _compare(engine: Engine, source: str, products: pd.DataFrame) -> dict[str, int]:
    """Count the products the replace adds, changes, keeps equal and removes.

    NOTE: the stored catalog is read before replace_products runs its own transaction,
    so a catalog load running at the same time can make these counts stale.
    """
    table = PRODUCT_TABLE.c
    query = select(
        table.product_id, table.name, table.category, table.sub_category, table.attributes
    ).where(table.source == source)
    with engine.connect() as connection:
        stored = {row.product_id: _comparable(row._mapping) for row in connection.execute(query)}

    added = updated = unchanged = 0
    for record in products.to_dict("records"):
        comparable = _comparable(record)
        previous = stored.pop(str(record["product_id"]), None)
        if previous is None:
            added += 1
        elif previous == comparable:
            unchanged += 1
        else:
            updated += 1
    return {"added": added, "updated": updated, "unchanged": unchanged, "removed": len(stored)}


def _comparable(record: Any) -> tuple[Any, ...]:
    """Return a product's stored values: text fields, then further attributes without gaps."""
    values = dict(record)
    attributes = values.pop("attributes", None)
    if attributes is None:
        attributes = {
            str(name): value
            for name, value in values.items()
            if name not in _FIELDS and not pd.isna(value)
        }
    text = tuple(None if pd.isna(values.get(name)) else str(values[name]) for name in _FIELDS)
    return (*text, sorted((name, str(value)) for name, value in attributes.items()))
