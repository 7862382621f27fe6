from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from server.prediction.base import KindResult, ParameterError, PredictionDataError
from server.prediction.transactional_churn import TransactionalChurn
from server.prediction.transactional_churn.scoring import OUTPUT_COLUMNS
from server.storage.engine import make_engine
from server.storage.migrate import upgrade
from server.storage.tables import OrderLine, table_of
from tests.prediction.conftest import (
    CDNOW_SAMPLE_CUSTOMERS,
    insert_order_lines,
    load_cdnow,
    load_cdnow_sample,
)
from tests.prediction.transactional_churn.conftest import random_lines

KIND = TransactionalChurn()
CDNOW_CUSTOMERS = 23_570


def _run(engine: Engine, **parameters: object) -> KindResult:
    steps: list[str] = []
    result = KIND.run(engine, KIND.validate_parameters(parameters), steps.append)
    assert steps == ["loading", "features", "training", "validation", "scoring"]
    return result


@pytest.fixture(scope="module")
def cdnow_result(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KindResult]:
    """One run on all of CDNOW with the default parameters, shared by this module."""
    path = Path(tmp_path_factory.mktemp("cdnow")) / "lookahead.db"
    engine = make_engine(f"sqlite:///{path.as_posix()}")
    upgrade(engine)
    load_cdnow(engine)
    yield _run(engine, source="cdnow")
    engine.dispose()


def test_cdnow_beats_chance(cdnow_result: KindResult) -> None:
    metrics = {metric.name: metric for metric in cdnow_result.metrics}
    auc = metrics["roc_auc"]
    print(f"\nCDNOW validation ROC AUC {auc.value:.4f}, recency baseline {auc.baseline:.4f}")
    print(cdnow_result.grade_reason)

    assert auc.value > 0.70
    assert auc.baseline is not None
    assert auc.baseline > 0.5
    assert sorted(metrics) == ["brier_score", "precision", "precision_at_k", "recall", "roc_auc"]
    assert cdnow_result.grade in {"A", "B", "C"}
    assert f"{metrics['precision_at_k'].value:.3f} for the model" in cdnow_result.grade_reason


def test_cdnow_output_rows(cdnow_result: KindResult) -> None:
    rows = cdnow_result.rows

    assert list(rows.columns) == list(OUTPUT_COLUMNS)
    assert len(rows) == CDNOW_CUSTOMERS
    assert rows["CustomerId"].is_unique
    assert not rows.isna().any().any()
    assert np.isfinite(rows["ChurnScore"]).all()
    assert rows["ChurnScore"].between(0, 1).all()
    assert (rows["IsChurn"] == (rows["ChurnScore"] >= 0.5)).all()


def test_cdnow_risk_bands(cdnow_result: KindResult) -> None:
    rows = cdnow_result.rows
    expected = np.where(
        rows["ChurnScore"] < 0.33, "Low", np.where(rows["ChurnScore"] < 0.66, "Medium", "High")
    )

    assert (rows["ChurnRiskBand"].to_numpy() == expected).all()
    assert set(rows["ChurnRiskBand"]) == {"Low", "Medium", "High"}


def test_cdnow_version_and_time(cdnow_result: KindResult) -> None:
    rows = cdnow_result.rows

    assert rows["ScoredAt"].nunique() == 1
    assert rows["ScoredAt"].dt.tz is None
    assert rows["ModelVersion"].nunique() == 1
    assert rows["ModelVersion"].iloc[0].startswith("transactional-churn-1+")
    assert cdnow_result.details["model_version"] == rows["ModelVersion"].iloc[0]
    assert cdnow_result.details["cutoffs"] == {
        "train": "1998-01-01",
        "validation": "1998-04-01",
        "scoring": "1998-06-30",
    }


def test_cdnow_top_factors(cdnow_result: KindResult) -> None:
    rows = cdnow_result.rows
    names = {factor.name for factor in cdnow_result.factors}
    first = rows["TopFactor1"]

    assert (first != "").mean() > 0.9
    assert (
        first[first != ""].str.replace(r" (above|below) median$", "", regex=True).isin(names).all()
    )
    for column in ("TopFactor2", "TopFactor3"):
        filled = rows[column] != ""
        assert (first[filled] != "").all()
        assert (rows.loc[filled, column] != first[filled]).all()
    assert (rows.loc[rows["TopFactor3"] != "", "TopFactor2"] != "").all()


def test_cdnow_factor_importances(cdnow_result: KindResult) -> None:
    importances = [factor.importance for factor in cdnow_result.factors]

    assert sum(importances) == pytest.approx(1.0)
    assert min(importances) >= 0
    assert importances == sorted(importances, reverse=True)


def test_sample_scores_every_customer(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)

    rows = _run(sqlite_engine, source="cdnow").rows

    with sqlite_engine.connect() as connection:
        customers = (
            connection.execute(select(table_of(OrderLine).c.customer_id).distinct()).scalars().all()
        )
    assert len(customers) == CDNOW_SAMPLE_CUSTOMERS
    assert rows["CustomerId"].is_unique
    assert set(rows["CustomerId"]) == set(customers)


def test_same_seed_same_result(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)

    first = _run(sqlite_engine, source="cdnow", seed=7)
    second = _run(sqlite_engine, source="cdnow", seed=7)

    pd.testing.assert_frame_equal(
        first.rows.drop(columns=["ScoredAt", "ModelVersion"]),
        second.rows.drop(columns=["ScoredAt", "ModelVersion"]),
    )
    assert first.metrics == second.metrics
    assert first.factors == second.factors
    assert first.grade_reason == second.grade_reason


def test_threshold_sets_is_churn(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)

    rows = _run(sqlite_engine, source="cdnow", threshold=0.9).rows

    assert (rows["IsChurn"] == (rows["ChurnScore"] >= 0.9)).all()
    assert rows["IsChurn"].any()
    assert not rows["IsChurn"].all()


def test_unknown_source_lists_sources(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)

    with pytest.raises(ParameterError) as caught:
        _run(sqlite_engine, source="cdnwo")

    assert caught.value.problems == {"source": "no order lines have source 'cdnwo'; valid: cdnow"}


def test_empty_database_says_load_first(sqlite_engine: Engine) -> None:
    with pytest.raises(ParameterError, match="none are loaded; load orders first"):
        _run(sqlite_engine, source="cdnow")


def test_short_history_is_data_error(sqlite_engine: Engine) -> None:
    lines = random_lines(seed=0, customers=200)
    recent = lines[lines["order_date"] >= pd.Timestamp("2024-09-01")]
    insert_order_lines(sqlite_engine, recent, source="shop")

    with pytest.raises(PredictionDataError) as caught:
        _run(sqlite_engine, source="shop")

    message = str(caught.value)
    assert "source 'shop' has orders spanning 120 days (2024-09-01 to 2024-12-30)" in message
    assert "needs more than 180 days" in message


def test_few_customers_is_data_error(sqlite_engine: Engine) -> None:
    insert_order_lines(sqlite_engine, random_lines(seed=0, customers=30), source="shop")

    with pytest.raises(PredictionDataError, match="at least 50 are needed"):
        _run(sqlite_engine, source="shop")


def test_one_class_is_data_error(sqlite_engine: Engine) -> None:
    insert_order_lines(sqlite_engine, random_lines(seed=0, customers=200), source="shop")

    with pytest.raises(PredictionDataError) as caught:
        _run(sqlite_engine, source="shop", churn_definition_days=3650)

    assert "0 churned and" in str(caught.value)
    assert "churn_definition_days (now 3650)" in str(caught.value)
