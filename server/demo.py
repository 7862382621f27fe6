"""The demo: bundled data, predictions on it, and one token per role.

Every step is idempotent, so starting the demo again reuses what the previous start
loaded and trained instead of doing it twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlmodel import SQLModel

from server.auth.roles import Role
from server.auth.tokens import IssuedToken, create_token, revoke_tokens_named
from server.storage.engine import write_transaction
from server.storage.tables import OrderLine, Product, Subscription, table_of, utc_now
from server.storage.tables import Prediction as PredictionRow

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class DemoPrediction:
    """A prediction the demo configures and runs."""

    name: str
    kind: str
    output_entity_name: str
    parameters: dict[str, Any] = field(default_factory=dict)


DEMO_PREDICTIONS = [
    DemoPrediction("CDNOW churn", "TRANSACTIONAL_CHURN", "CdnowChurn", {"source": "cdnow"}),
    DemoPrediction(
        "Superstore churn",
        "TRANSACTIONAL_CHURN",
        "SuperstoreChurn",
        {"source": "superstore", "churn_definition_days": 365, "prediction_window_days": 180},
    ),
    DemoPrediction(
        "CDNOW lifetime value", "CUSTOMER_LIFETIME_VALUE", "CdnowLifetimeValue", {"source": "cdnow"}
    ),
    DemoPrediction(
        "Superstore lifetime value",
        "CUSTOMER_LIFETIME_VALUE",
        "SuperstoreLifetimeValue",
        {"source": "superstore"},
    ),
    DemoPrediction(
        "Telco subscription churn",
        "SUBSCRIPTION_CHURN",
        "TelcoChurn",
        {"source": "telco", "prediction_window_days": 30},
    ),
    DemoPrediction(
        "Superstore recommendations",
        "PRODUCT_RECOMMENDATION",
        "SuperstoreRecommendations",
        {"source": "superstore", "k": 5},
    ),
]

DEMO_TOKEN_NAMES = {role: f"demo-{role.name.lower()}" for role in Role}


def load_demo_data(engine: Engine) -> None:
    """Load each bundled source that the database does not hold yet."""
    from server.ingestion import load_orders
    from server.ingestion.telco import load_telco
    from server.prediction.recommendation.catalog import load_products_from_orders

    for source, path, mapping in [
        ("cdnow", DATA / "CDNOW_master.txt.gz", "cdnow"),
        ("superstore", DATA / "superstore.csv.gz", "superstore"),
    ]:
        if _has_rows(engine, OrderLine, source):
            logger.info("order lines of %s already loaded; skipping", source)
            continue
        load_orders(engine, path, mapping, source=source)

    if not _has_rows(engine, Product, "superstore"):
        load_products_from_orders(engine, DATA / "superstore.csv.gz", "superstore")

    if not _has_rows(engine, Subscription, "telco"):
        load_telco(engine)
    else:
        logger.info("subscriptions of telco already loaded; skipping")


def _has_rows(engine: Engine, model: type[SQLModel], source: str) -> bool:
    table = table_of(model)
    with engine.connect() as connection:
        first = connection.execute(select(table.c.source).where(table.c.source == source).limit(1))
        return first.first() is not None


def ensure_demo_predictions(engine: Engine) -> list[int]:
    """Create the demo predictions that do not exist yet; return the ids of all of them."""
    table = table_of(PredictionRow)
    ids = []
    for demo in DEMO_PREDICTIONS:
        with write_transaction(engine) as connection:
            existing = connection.execute(
                select(table.c.id).where(table.c.name == demo.name)
            ).scalar_one_or_none()
            if existing is None:
                existing = connection.execute(
                    insert(table)
                    .values(
                        name=demo.name,
                        kind=demo.kind,
                        status="DRAFT",
                        output_entity_name=demo.output_entity_name,
                        parameters=demo.parameters,
                        created_at=utc_now(),
                        updated_at=utc_now(),
                    )
                    .returning(table.c.id)
                ).scalar_one()
        ids.append(int(existing))
    return ids


def run_demo_predictions(engine: Engine, prediction_ids: list[int]) -> None:
    """Run each demo prediction that has not succeeded yet."""
    from server.prediction.runner import run_prediction

    table = table_of(PredictionRow)
    for prediction_id in prediction_ids:
        with engine.connect() as connection:
            status = connection.execute(
                select(table.c.status).where(table.c.id == prediction_id)
            ).scalar_one()
        if status == "SUCCEEDED":
            logger.info("prediction %s already succeeded; reusing its output", prediction_id)
            continue
        started = time.perf_counter()
        run = run_prediction(engine, prediction_id)
        elapsed = time.perf_counter() - started
        if run.status != "SUCCEEDED":
            logger.error("prediction %s failed after %.1f s: %s", prediction_id, elapsed, run.error)
            continue
        logger.info(
            "prediction %s succeeded in %.1f s: %s", prediction_id, elapsed, run.metrics or {}
        )


def issue_demo_tokens(engine: Engine) -> list[IssuedToken]:
    """Revoke the previous demo tokens and create one new token per role."""
    revoke_tokens_named(engine, list(DEMO_TOKEN_NAMES.values()))
    return [create_token(engine, role, name) for role, name in DEMO_TOKEN_NAMES.items()]


def prepare_demo(engine: Engine) -> list[IssuedToken]:
    """Load the data, run the predictions and return fresh demo tokens."""
    load_demo_data(engine)
    run_demo_predictions(engine, ensure_demo_predictions(engine))
    return issue_demo_tokens(engine)
