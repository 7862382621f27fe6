"""The product catalog of a source: loading it into the `product` table and reading it.

Two loaders fill the catalog. `load_products_from_orders` takes the product columns
of an order file that repeats them on every line, as Superstore does, and
`load_catalog_csv` reads a catalog file with one row per product. Both replace the
source's previous catalog in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, insert, select

from server.prediction.recommendation.filters import CATALOG_ATTRIBUTES, FURTHER_PREFIX
from server.storage.engine import write_transaction
from server.storage.tables import Product, table_of

logger = logging.getLogger(__name__)

INSERT_CHUNK_ROWS = 5_000

SUPERSTORE_PRODUCT_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "product_id": "Product ID",
        "name": "Product Name",
        "category": "Category",
        "sub_category": "Sub-Category",
    }
)
"""Catalog column to order-file column, for the Superstore sample."""


def _most_frequent(pairs: pd.DataFrame, column: str) -> pd.Series:
    """Return, per product_id, the most frequent non-missing value of `column`.

    Among equally frequent values the first seen wins: the groups keep the order of
    first appearance and the sort by count is stable.
    """
    present = pairs.dropna(subset=[column])
    counts = present.groupby(["product_id", column], sort=False).size().rename("count")
    ranked = counts.reset_index().sort_values(
        ["product_id", "count"], ascending=[True, False], kind="stable"
    )
    return ranked.drop_duplicates("product_id").set_index("product_id")[column]


def products_from_order_lines(
    lines: pd.DataFrame, columns: Mapping[str, str] = SUPERSTORE_PRODUCT_COLUMNS
) -> pd.DataFrame:
    """Return one row per product from order lines that repeat the product's columns.

    When the lines of one product disagree (Superstore has 32 product ids with two
    names), the most frequent value wins, and the first seen among equally frequent.
    """
    missing = [column for column in columns.values() if column not in lines.columns]
    if missing:
        raise ValueError(
            f"order file lacks the column {missing[0]!r}; required: {', '.join(columns.values())}"
        )
    renamed = lines[list(columns.values())].rename(columns={v: k for k, v in columns.items()})
    renamed = renamed.dropna(subset=["product_id"])
    renamed["product_id"] = renamed["product_id"].astype(str).str.strip()
    products = pd.Index(sorted(renamed["product_id"].unique()), name="product_id")
    value_columns = [name for name in renamed.columns if name != "product_id"]
    chosen = {
        column: _most_frequent(renamed[["product_id", column]], column).reindex(products)
        for column in value_columns
    }
    frame = pd.DataFrame(chosen, index=products).astype(object)
    return frame.where(frame.notna(), None).reset_index()


def load_products_from_orders(
    engine: Engine,
    path: Path,
    source: str,
    columns: Mapping[str, str] = SUPERSTORE_PRODUCT_COLUMNS,
) -> int:
    """Replace the catalog of `source` with the products of an order file; return their count."""
    lines = pd.read_csv(path, usecols=list(columns.values()), dtype=str)
    products = products_from_order_lines(lines, columns)
    return replace_products(engine, source, products)


def _json_value(value: object) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_catalog_csv(engine: Engine, path: Path, source: str) -> int:
    """Replace the catalog of `source` with a CSV file; return the number of products.

    The file has a header with `product_id` and optionally `name`, `category` and
    `sub_category`. Every other column becomes a further attribute, stored in
    `attributes` under the column's name, with numbers kept as numbers and empty cells
    left out. Raises ValueError when `product_id` is missing, empty or repeated.
    """
    catalog = pd.read_csv(path, dtype={"product_id": str})
    if "product_id" not in catalog.columns:
        found = ", ".join(catalog.columns)
        raise ValueError(f"catalog file {path} lacks the column 'product_id'; found: {found}")
    ids = catalog["product_id"].str.strip()
    if ids.isna().any() or (ids == "").any():
        row = int(np.flatnonzero(ids.isna() | (ids == ""))[0]) + 2
        raise ValueError(f"catalog file {path} has an empty product_id on line {row}")
    repeated = ids[ids.duplicated()]
    if not repeated.empty:
        raise ValueError(
            f"catalog file {path} lists product_id {repeated.iloc[0]!r} more than once; "
            "keep one row per product"
        )
    return replace_products(engine, source, catalog.assign(product_id=ids))


def _records(products: pd.DataFrame, source: str) -> list[dict[str, Any]]:
    further = [name for name in products.columns if name not in CATALOG_ATTRIBUTES]
    records = []
    for row in products.to_dict(orient="records"):
        record: dict[str, Any] = {"source": source}
        for name in CATALOG_ATTRIBUTES:
            value = row.get(name)
            record[name] = None if pd.isna(value) else str(value)
        record["attributes"] = {
            str(name): _json_value(row[name]) for name in further if not pd.isna(row[name])
        }
        records.append(record)
    return records


def replace_products(engine: Engine, source: str, products: pd.DataFrame) -> int:
    """Replace the catalog of `source` with `products` (one row per product_id)."""
    table = table_of(Product)
    records = _records(products, source)
    with write_transaction(engine) as connection:
        connection.execute(delete(table).where(table.c.source == source))
        for start in range(0, len(records), INSERT_CHUNK_ROWS):
            connection.execute(insert(table), records[start : start + INSERT_CHUNK_ROWS])
    logger.info("catalog of source %s replaced with %s products", source, len(records))
    return len(records)


def read_catalog(engine: Engine, source: str) -> pd.DataFrame:
    """Read the catalog of `source`, one row per product, indexed by product_id.

    The columns are `name`, `category`, `sub_category` and one `attributes.<key>`
    column per further attribute; a product without that key has a missing value.
    """
    table = table_of(Product)
    query = select(
        table.c.product_id, table.c.name, table.c.category, table.c.sub_category, table.c.attributes
    ).where(table.c.source == source)
    with engine.connect() as connection:
        rows = connection.execute(query).all()

    fixed = pd.DataFrame([row[:4] for row in rows], columns=list(CATALOG_ATTRIBUTES), dtype=object)
    fixed.index = pd.Index(fixed["product_id"].to_numpy(), dtype=object)
    further = pd.DataFrame([row[4] or {} for row in rows], index=fixed.index)
    further.columns = [f"{FURTHER_PREFIX}{name}" for name in further.columns]
    return pd.concat([fixed, further], axis=1)
