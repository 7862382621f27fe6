"""Seeded purchase data with planted co-purchase structure, and helpers to store it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert

from server.storage.engine import write_transaction
from server.storage.tables import OrderLine, table_of

GROUPS = 6
PRODUCTS_PER_GROUP = 10
CATEGORIES = ("Furniture", "Office Supplies", "Technology")


def planted_lines(customers: int = 300, seed: int = 7) -> pd.DataFrame:
    """Draw purchase lines where each customer mostly buys from one group of products.

    Customer c belongs to group c % GROUPS and buys 8 lines over 2023 and 2024: 80%
    from its group's 10 products and 20% from any product, so products of one group
    are bought together and item similarity should beat popularity.
    """
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2023-01-01")
    for customer in range(customers):
        group = customer % GROUPS
        for _ in range(8):
            if rng.random() < 0.8:
                product = group * PRODUCTS_PER_GROUP + int(rng.integers(PRODUCTS_PER_GROUP))
            else:
                product = int(rng.integers(GROUPS * PRODUCTS_PER_GROUP))
            day = start + pd.Timedelta(days=int(rng.integers(730)))
            rows.append((f"C{customer:04d}", f"P{product:03d}", day, float(rng.integers(5, 50))))
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "order_date", "amount"])


def planted_catalog() -> pd.DataFrame:
    """One catalog row per planted product; group g's products are in category g % 3."""
    products = range(GROUPS * PRODUCTS_PER_GROUP)
    return pd.DataFrame(
        {
            "product_id": [f"P{product:03d}" for product in products],
            "name": [f"Product {product}" for product in products],
            "category": [CATEGORIES[(product // PRODUCTS_PER_GROUP) % 3] for product in products],
            "sub_category": [f"Group {product // PRODUCTS_PER_GROUP}" for product in products],
            "price": [float(5 + product) for product in products],
        }
    )


def insert_purchases(engine: Engine, lines: pd.DataFrame, source: str) -> None:
    """Insert order lines with a product id (customer_id, product_id, order_date, amount)."""
    records = [
        {
            "source": source,
            "customer_id": str(row["customer_id"]),
            "order_id": None,
            "order_date": pd.Timestamp(row["order_date"]).date(),
            "product_id": row["product_id"],
            "quantity": 1.0,
            "amount": float(row["amount"]),
        }
        for row in lines.to_dict(orient="records")
    ]
    with write_transaction(engine) as connection:
        connection.execute(insert(table_of(OrderLine)), records)
