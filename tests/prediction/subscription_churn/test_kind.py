"""The SUBSCRIPTION_CHURN kind: parameters, validation quality, and runs through a database."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sqlalchemy import Engine, select, text

from server.ingestion.subscriptions import load_subscriptions
from server.ingestion.telco import RAW_FILE, derive_telco, load_telco
from server.prediction.base import ParameterError, PredictionDataError
from server.prediction.registry import get_kind
from server.prediction.runner import run_prediction
from server.prediction.subscription_churn import SubscriptionChurn
from server.prediction.subscription_churn.examples import build_training_set
from server.prediction.subscription_churn.grading import validation_metrics
from server.prediction.subscription_churn.history import SubscriptionHistory
from server.prediction.subscription_churn.labels import at_risk_customers, known_at
from server.prediction.subscription_churn.parameters import validate_parameters
from server.prediction.subscription_churn.validation import (
    CROSS_VALIDATION,
    TEMPORAL_HOLDOUT,
    validate,
)
from server.storage.tables import Prediction, table_of
from tests.conftest import DATA
from tests.prediction.conftest import create_prediction
from tests.prediction.subscription_churn.synthetic import synthetic_subscriptions

# The 5-fold cross-validated ROC AUC that a plain logistic regression reaches on the
# raw Telco columns; `reference_logistic_auc` recomputes it.
REFERENCE_LOGISTIC_AUC = 0.845
OUTPUT_COLUMNS = [
    "CustomerId",
    "ChurnScore",
    "IsChurn",
    "ChurnRiskBand",
    "TopFactor1",
    "TopFactor2",
    "TopFactor3",
    "ScoredAt",
    "ModelVersion",
]


def ignore_progress(_step: str) -> None:
    return None


def telco_history() -> SubscriptionHistory:
    """Return the derived Telco history without a database, as `load_history` shapes it."""
    tables = derive_telco(pd.read_csv(DATA / RAW_FILE))
    subscriptions = tables.subscriptions.drop(columns="subscription_id")
    subscriptions["start_date"] = pd.to_datetime(subscriptions["start_date"])
    subscriptions["end_date"] = pd.to_datetime(subscriptions["end_date"].replace("", None))
    profile = tables.profile.set_index("CustomerId").convert_dtypes()
    return SubscriptionHistory(subscriptions=subscriptions, profile=profile)


def reference_logistic_auc(seed: int) -> float:
    """Return the 5-fold ROC AUC of a plain logistic regression on the raw Telco columns."""
    raw = pd.read_csv(DATA / RAW_FILE)
    churned = raw["churn"] == "Yes"
    inputs = raw.drop(columns=["rownames", "churn"])
    text_columns = [name for name in inputs if not pd.api.types.is_numeric_dtype(inputs[name])]
    number_columns = [name for name in inputs if name not in text_columns]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("text", OneHotEncoder(handle_unknown="ignore"), text_columns),
                ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), number_columns),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, inputs, churned, cv=folds, method="predict_proba")[:, 1]
    return float(roc_auc_score(churned, scores))


def test_parameters_defaults() -> None:
    checked = SubscriptionChurn().validate_parameters({"source": " telco "})

    assert checked == {
        "source": "telco",
        "churn_window_days": 30,
        "prediction_window_days": 90,
        "threshold": 0.5,
        "seed": 0,
        "profile_entity": None,
    }


@pytest.mark.parametrize(
    ("raw", "name", "reason"),
    [
        ({}, "source", "is required"),
        ({"source": ""}, "source", "non-empty"),
        ({"source": "t", "churn_window_days": -1}, "churn_window_days", "from 0 to 3650"),
        ({"source": "t", "prediction_window_days": 0}, "prediction_window_days", "from 1"),
        ({"source": "t", "prediction_window_days": 9.5}, "prediction_window_days", "whole"),
        ({"source": "t", "threshold": 1.5}, "threshold", "from 0 to 1"),
        ({"source": "t", "seed": True}, "seed", "whole number"),
        ({"source": "t", "profile_entity": "no such; entity"}, "profile_entity", "name of"),
        ({"source": "t", "horizon": 3}, "horizon", "unknown parameter"),
    ],
)
def test_bad_parameter_rejected(raw: dict[str, Any], name: str, reason: str) -> None:
    with pytest.raises(ParameterError) as caught:
        validate_parameters(raw)

    assert reason in caught.value.problems[name]


def test_kind_registered() -> None:
    assert isinstance(get_kind("SUBSCRIPTION_CHURN"), SubscriptionChurn)


@pytest.mark.slow
def test_telco_auc_matches_logistic_reference() -> None:
    # The sample marks a customer as churned when they left within the last month, so
    # a 30-day prediction window asks the question its labels answer.
    parameters = validate_parameters({"source": "telco", "prediction_window_days": 30})
    training = build_training_set(telco_history(), parameters)

    _model, validation = validate(training, seed=0)

    auc = validation_metrics(validation, parameters.threshold)[0]
    reference = reference_logistic_auc(seed=0)
    print(
        f"\nTelco stratified 5-fold ROC AUC: {auc.value:.4f} (subscription churn kind), "
        f"{reference:.4f} (plain logistic regression on the raw columns, "
        f"about {REFERENCE_LOGISTIC_AUC} expected)"
    )
    assert auc.name == "roc_auc"
    assert validation.method == CROSS_VALIDATION
    assert auc.value >= 0.84
    assert reference == pytest.approx(REFERENCE_LOGISTIC_AUC, abs=0.01)


@pytest.mark.slow
def test_run_writes_output_entity(engine: Engine) -> None:
    load_telco(engine)
    prediction_id = create_prediction(
        engine,
        {"source": "telco"},
        name="Telco subscription churn",
        entity="SubscriptionChurn",
        kind="SUBSCRIPTION_CHURN",
    )

    run = run_prediction(engine, prediction_id)

    assert run.status == "SUCCEEDED", run.error
    with engine.connect() as connection:
        rows = pd.DataFrame(connection.execute(text("SELECT * FROM oe_subscriptionchurn")).all())
        results = connection.execute(
            select(table_of(Prediction).c.results).where(table_of(Prediction).c.id == prediction_id)
        ).scalar_one()
    assert list(rows.columns) == OUTPUT_COLUMNS
    assert len(rows) == 7043
    assert rows["CustomerId"].is_unique
    assert not rows.isna().any().any()
    scores = rows["ChurnScore"].astype(float)
    assert np.isfinite(scores).all()
    assert scores.between(0, 1).all()
    assert (rows["IsChurn"].astype(bool) == (scores >= 0.5)).all()
    expected_bands = np.select([scores < 0.33, scores < 0.66], ["Low", "Medium"], "High")
    assert (rows["ChurnRiskBand"] == expected_bands).all()
    assert rows["TopFactor1"].str.contains("=").mean() > 0.9
    assert results["grade"] == "A"
    assert results["details"]["validation"]["method"] == CROSS_VALIDATION
    assert results["metrics"][0]["name"] == "roc_auc"
    assert results["metrics"][0]["value"] > 0.8


def test_temporal_holdout_on_synthetic_history(sqlite_engine: Engine) -> None:
    rows = synthetic_subscriptions(customers=800, seed=7)
    load_subscriptions(sqlite_engine, rows, "synthetic", "SyntheticProfile")

    result = SubscriptionChurn().run(
        sqlite_engine, {"source": "synthetic", "seed": 1}, ignore_progress
    )

    details = result.details
    assert details["validation"]["method"] == TEMPORAL_HOLDOUT
    assert len(details["cutoffs"]["training"]) == 4
    assert details["profile_entities"] == ["SyntheticProfile"]
    assert "Plan" in details["features"]
    assert result.metrics[0].value > 0.65
    assert result.grade == "A"
    assert result.factors[0].importance >= result.factors[-1].importance
    history = rows.assign(
        start_date=pd.to_datetime(rows["start_date"]),
        end_date=pd.to_datetime(rows["end_date"].replace("", None)),
    )
    as_of = pd.Timestamp(details["cutoffs"]["scoring"])
    expected = at_risk_customers(known_at(history, as_of), as_of, churn_window_days=30)
    assert sorted(result.rows["CustomerId"]) == sorted(expected)


def test_top_factors_name_feature_and_value(sqlite_engine: Engine) -> None:
    rows = synthetic_subscriptions(customers=800, seed=7)
    load_subscriptions(sqlite_engine, rows, "synthetic", "SyntheticProfile")

    result = SubscriptionChurn().run(sqlite_engine, {"source": "synthetic"}, ignore_progress)

    factors = pd.concat([result.rows[f"TopFactor{rank}"] for rank in (1, 2, 3)])
    named = factors[factors != ""]
    assert named.str.fullmatch(r"[A-Za-z]+=.+").all()
    assert "Plan=Basic" in set(named)
    assert not result.rows.isna().any().any()


def test_source_without_subscriptions_is_data_error(sqlite_engine: Engine) -> None:
    with pytest.raises(PredictionDataError, match="source 'nowhere' has no subscriptions"):
        SubscriptionChurn().run(sqlite_engine, {"source": "nowhere"}, ignore_progress)


def test_history_without_churn_is_data_error(sqlite_engine: Engine) -> None:
    rows = synthetic_subscriptions(customers=50, seed=2).assign(end_date="")
    rows = rows.drop_duplicates("customer_id")
    load_subscriptions(sqlite_engine, rows, "loyal")

    with pytest.raises(PredictionDataError, match="has no churn to learn from"):
        SubscriptionChurn().run(sqlite_engine, {"source": "loyal"}, ignore_progress)


def test_unknown_profile_entity_is_data_error(sqlite_engine: Engine) -> None:
    load_subscriptions(sqlite_engine, synthetic_subscriptions(customers=50, seed=2), "small")

    with pytest.raises(PredictionDataError, match="profile entity 'Missing' not found"):
        SubscriptionChurn().run(
            sqlite_engine, {"source": "small", "profile_entity": "Missing"}, ignore_progress
        )
