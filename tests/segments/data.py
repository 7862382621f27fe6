"""Seeded entities for segment tests: a multi-row output entity, a second entity, a profile."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, insert

from server.prediction.output import replace_entity
from server.storage.engine import write_transaction
from server.storage.tables import Customer, table_of

NOW = datetime(2024, 6, 30, 12, 0, 0)
BASE = "Scores"
EXTRA = "Extra"
PROFILE = "CustomerProfile"


def store_frames(
    engine: Engine, scores: pd.DataFrame, extra: pd.DataFrame, profile: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Write the three entities to the database; return them by entity name."""
    replace_entity(engine, BASE, scores, prediction_id=None)
    replace_entity(engine, EXTRA, extra, prediction_id=None, role="profile")
    customers = table_of(Customer)
    with write_transaction(engine) as connection:
        connection.execute(delete(customers))
        records: list[dict[str, Any]] = [
            {
                "customer_id": row.CustomerId,
                "source": "test",
                "region": row.Region,
                "country": row.Country,
            }
            for row in profile.itertuples()
        ]
        if records:
            connection.execute(insert(customers), records)
    return {BASE: scores, EXTRA: extra, PROFILE: profile}


def scores_frame(rows: list[tuple[str, Any, Any, Any, Any]]) -> pd.DataFrame:
    """Build the base entity from (CustomerId, Score, Label, Flag, SeenAt) tuples."""
    frame = pd.DataFrame(rows, columns=["CustomerId", "Score", "Label", "Flag", "SeenAt"])
    frame["CustomerId"] = frame["CustomerId"].astype(object)
    frame["Score"] = pd.to_numeric(frame["Score"]).astype("float64")
    frame["Label"] = frame["Label"].astype(object)
    frame["Flag"] = frame["Flag"].astype("boolean")
    frame["SeenAt"] = pd.to_datetime(frame["SeenAt"])
    return frame


def extra_frame(rows: list[tuple[str, Any, Any]]) -> pd.DataFrame:
    """Build the second entity from (CustomerId, Value, Tier) tuples."""
    frame = pd.DataFrame(rows, columns=["CustomerId", "Value", "Tier"])
    frame["CustomerId"] = frame["CustomerId"].astype(object)
    frame["Value"] = frame["Value"].astype("Int64")
    frame["Tier"] = frame["Tier"].astype(object)
    return frame


def profile_frame(rows: list[tuple[str, Any, Any]]) -> pd.DataFrame:
    """Build the customer profile from (CustomerId, Region, Country) tuples."""
    return pd.DataFrame(rows, columns=["CustomerId", "Region", "Country"], dtype=object)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)
