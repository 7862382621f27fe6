"""Churn: the TRANSACTIONAL_CHURN run beside a plain logistic regression on RFM features.

Both use the same order lines, the same cutoffs (train at L - 2W, validate at L - W,
score at L, with L the last order date) and the same churn definition, so their ROC
AUC figures are comparable.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sqlalchemy import insert, select

from server.prediction.runner import run_prediction
from server.storage.engine import make_engine, write_transaction
from server.storage.tables import OrderLine, Prediction, table_of, utc_now

WINDOW_DAYS = 90
DEFINITION_DAYS = 180


def churn_ours(url: str, source: str, entity: str) -> dict[str, Any]:
    engine = make_engine(url)
    table = table_of(Prediction)
    with write_transaction(engine) as connection:
        prediction_id = connection.execute(
            insert(table)
            .values(
                name=f"bench {entity}",
                kind="TRANSACTIONAL_CHURN",
                status="DRAFT",
                output_entity_name=entity,
                parameters={
                    "source": source,
                    "prediction_window_days": WINDOW_DAYS,
                    "churn_definition_days": DEFINITION_DAYS,
                },
                created_at=utc_now(),
                updated_at=utc_now(),
            )
            .returning(table.c.id)
        ).scalar_one()

    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    run = run_prediction(
        engine, prediction_id, lambda step: marks.append((step, time.perf_counter()))
    )
    finished = time.perf_counter()
    engine.dispose()
    if run.status != "SUCCEEDED":
        raise RuntimeError(f"churn run {run.id} {run.status}: {run.error}")

    at = dict(marks)
    metrics = run.metrics or {}
    return {
        "seconds": finished - started,
        "train_s": at["validation"] - at["training"],
        "score_s": at["writing"] - at["scoring"],
        "load_s": at["features"] - at["loading"],
        "write_s": finished - at["writing"],
        "roc_auc": metrics.get("roc_auc"),
        "prediction_id": prediction_id,
    }


def churn_peer(url: str, source: str, entity: str) -> dict[str, Any]:
    del entity
    engine = make_engine(url)
    started = time.perf_counter()
    lines = _read_lines(engine, source)
    engine.dispose()
    purchases = lines.groupby(["customer_id", "order_date"], as_index=False)["amount"].sum()
    last = purchases["order_date"].max()
    window = pd.Timedelta(days=WINDOW_DAYS)

    train_x, train_y = _labelled_rfm(purchases, last - 2 * window)
    valid_x, valid_y = _labelled_rfm(purchases, last - window)
    fitted = time.perf_counter()
    model = LogisticRegression(max_iter=1000).fit(train_x, train_y)
    train_s = time.perf_counter() - fitted
    auc = float(roc_auc_score(valid_y, model.predict_proba(valid_x)[:, 1]))

    scoring = time.perf_counter()
    final = LogisticRegression(max_iter=1000).fit(valid_x, valid_y)
    scores = final.predict_proba(_rfm(purchases, last))[:, 1]
    score_s = time.perf_counter() - scoring
    return {
        "seconds": time.perf_counter() - started,
        "train_s": train_s,
        "score_s": score_s,
        "roc_auc": auc,
        "scored": len(scores),
    }


def _read_lines(engine: Any, source: str) -> pd.DataFrame:
    table = table_of(OrderLine)
    query = select(table.c.customer_id, table.c.order_date, table.c.amount).where(
        table.c.source == source, table.c.amount >= 0
    )
    lines = pd.read_sql(query, engine)
    lines["order_date"] = pd.to_datetime(lines["order_date"])
    return lines


def _rfm(purchases: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    known = purchases[purchases["order_date"] <= cutoff]
    grouped = known.groupby("customer_id")
    features = pd.DataFrame(
        {
            "recency": (cutoff - grouped["order_date"].max()).dt.days,
            "frequency": grouped.size(),
            "monetary": grouped["amount"].mean(),
        }
    )
    return np.log1p(features.clip(lower=0))


def _labelled_rfm(purchases: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray]:
    features = _rfm(purchases, cutoff)
    horizon = cutoff + pd.Timedelta(days=WINDOW_DAYS)
    since = horizon - pd.Timedelta(days=DEFINITION_DAYS)
    active_rows = (purchases["order_date"] > since) & (purchases["order_date"] <= horizon)
    active = set(purchases.loc[active_rows, "customer_id"])
    churned = ~features.index.isin(list(active))
    return features, churned
