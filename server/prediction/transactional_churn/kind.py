"""The TRANSACTIONAL_CHURN prediction kind.

At a cutoff c, a customer with at least one purchase on or before c is churned when,
at c + W (W = prediction_window_days), their last purchase is at least D days old
(D = churn_definition_days), that is when they make no purchase in (c + W - D, c + W].
ChurnScore is the calibrated probability of that, for c = the last order date of the
source, and IsChurn is ChurnScore >= threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from server.prediction.base import KindResult, Progress
from server.prediction.transactional_churn.features import FEATURES, build_features
from server.prediction.transactional_churn.labels import churn_labels
from server.prediction.transactional_churn.model import (
    CALIBRATION_FOLDS,
    ChurnClassifier,
    RecencyBaseline,
)
from server.prediction.transactional_churn.orders import OrderHistory, load_order_history
from server.prediction.transactional_churn.parameters import ChurnParameters, validate_parameters
from server.prediction.transactional_churn.scoring import model_version, score_customers
from server.prediction.transactional_churn.validation import validate_model
from server.prediction.transactional_churn.windows import Cutoffs, check_labels, plan_cutoffs

CHURN_DEFINITION = (
    "churned at cutoff c: at least one purchase on or before c and none in "
    "(c + prediction_window_days - churn_definition_days, c + prediction_window_days]"
)
ESTIMATOR_DESCRIPTION = (
    "logistic regression on signed-log features, sigmoid-calibrated on out-of-fold "
    f"predictions over {CALIBRATION_FOLDS} stratified folds"
)


def _labelled_features(
    history: OrderHistory, cutoff: pd.Timestamp, parameters: ChurnParameters
) -> tuple[pd.DataFrame, pd.Series]:
    labels = churn_labels(
        history, cutoff, parameters.prediction_window_days, parameters.churn_definition_days
    )
    check_labels(labels, cutoff, parameters)
    features = build_features(history, cutoff, parameters.prediction_window_days)
    return features, labels.loc[features.index]


def _details(
    parameters: ChurnParameters,
    cutoffs: Cutoffs,
    train_labels: pd.Series,
    valid_labels: pd.Series,
    rows: pd.DataFrame,
    scored_at: datetime,
) -> dict[str, Any]:
    return {
        "definition": CHURN_DEFINITION,
        "parameters": parameters.as_dict(),
        "estimator": ESTIMATOR_DESCRIPTION,
        "features": list(FEATURES),
        "cutoffs": {
            "train": cutoffs.train.date().isoformat(),
            "validation": cutoffs.validation.date().isoformat(),
            "scoring": cutoffs.scoring.date().isoformat(),
        },
        "customers": {
            "train": len(train_labels),
            "validation": len(valid_labels),
            "scored": len(rows),
        },
        "churn_rate": {
            "train": float(train_labels.mean()),
            "validation": float(valid_labels.mean()),
            "predicted": float(rows["IsChurn"].mean()),
        },
        "model_version": model_version(scored_at),
        "scored_at": scored_at.isoformat(),
    }


class TransactionalChurn:
    """Churn of customers who buy without a contract, from their order lines."""

    name = "TRANSACTIONAL_CHURN"

    def validate_parameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return validate_parameters(raw).as_dict()

    def run(self, engine: Engine, parameters: Mapping[str, Any], progress: Progress) -> KindResult:
        checked = validate_parameters(parameters)
        seed = checked.seed

        progress("loading")
        history = load_order_history(engine, checked.source)
        cutoffs = plan_cutoffs(history, checked)

        progress("features")
        train_features, train_labels = _labelled_features(history, cutoffs.train, checked)
        valid_features, valid_labels = _labelled_features(history, cutoffs.validation, checked)

        progress("training")
        model = ChurnClassifier(seed=seed).fit(train_features, train_labels)
        baseline = RecencyBaseline(seed=seed).fit(train_features, train_labels)

        progress("validation")
        report = validate_model(
            model, baseline, valid_features, valid_labels, checked.threshold, seed
        )

        progress("scoring")
        final_model = ChurnClassifier(seed=seed).fit(valid_features, valid_labels)
        current = build_features(history, cutoffs.scoring, checked.prediction_window_days)
        scored_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        rows = score_customers(final_model, current, checked.threshold, scored_at)

        return KindResult(
            rows=rows,
            grade=report.grade,
            grade_reason=report.grade_reason,
            metrics=report.metrics,
            factors=report.factors,
            details=_details(checked, cutoffs, train_labels, valid_labels, rows, scored_at),
        )
