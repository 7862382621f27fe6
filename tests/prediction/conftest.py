"""Helpers that put order lines and predictions into a test database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert

from server.ingestion import WHITESPACE, ColumnMapping, ReaderOptions, load_orders
from server.storage.engine import write_transaction
from server.storage.tables import OrderLine, Prediction, table_of, utc_now
from tests.conftest import DATA

# The bundled 10% sample of CDNOW customers (2,357 of them, all their purchases) has
# no header and a second column with the customer's number in the sample.
CDNOW_SAMPLE = ColumnMapping(
    name="cdnow_sample",
    customer_id="customer_id",
    order_date="date",
    date_format="%Y%m%d",
    amount="dollar_value",
    quantity="number_of_cds",
    reader=ReaderOptions(
        separator=WHITESPACE,
        header=False,
        column_names=("customer_id", "sample_number", "date", "number_of_cds", "dollar_value"),
    ),
    duplicates="keep",
)
CDNOW_SAMPLE_CUSTOMERS = 2357


def load_cdnow(engine: Engine, source: str = "cdnow") -> None:
    """Load every CDNOW order line (23,570 customers, 1997-01-01 to 1998-06-30)."""
    load_orders(engine, DATA / "CDNOW_master.txt.gz", "cdnow", source=source)


def load_cdnow_sample(engine: Engine, source: str = "cdnow") -> None:
    load_orders(engine, DATA / "CDNOW_sample.txt.gz", CDNOW_SAMPLE, source=source)


def insert_order_lines(engine: Engine, lines: pd.DataFrame, source: str) -> None:
    """Insert hand-made order lines (customer_id, order_date, amount, optional quantity)."""
    records = [
        {
            "source": source,
            "customer_id": str(row["customer_id"]),
            "order_date": pd.Timestamp(row["order_date"]).date(),
            "quantity": float(row.get("quantity", 1.0)),
            "amount": float(row["amount"]),
        }
        for row in lines.to_dict(orient="records")
    ]
    with write_transaction(engine) as connection:
        connection.execute(insert(table_of(OrderLine)), records)


def create_prediction(
    engine: Engine,
    parameters: Mapping[str, Any],
    *,
    name: str = "Churn of CDNOW customers",
    entity: str = "ChurnPredictions",
    kind: str = "TRANSACTIONAL_CHURN",
) -> int:
    """Insert a DRAFT prediction and return its id."""
    with write_transaction(engine) as connection:
        created = connection.execute(
            insert(table_of(Prediction))
            .values(
                name=name,
                kind=kind,
                status="DRAFT",
                output_entity_name=entity,
                parameters=dict(parameters),
                created_at=utc_now(),
                updated_at=utc_now(),
            )
            .returning(table_of(Prediction).c.id)
        ).scalar_one()
    return int(created)
