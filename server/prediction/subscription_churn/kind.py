"""The SUBSCRIPTION_CHURN prediction kind.

A customer churns when their coverage lapses: a subscription ends and no new one
starts within churn_window_days (see `labels` for the exact rules). ChurnScore is
the calibrated probability that a customer who can churn at the end of the data
does so within the next prediction_window_days, and IsChurn is ChurnScore >=
threshold. The model learns from cutoffs in the past, with features from before
each cutoff and labels from the window after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from server.prediction.base import Factor, KindResult, Progress
from server.prediction.subscription_churn.examples import TrainingSet, build_training_set
from server.prediction.subscription_churn.features import build_features
from server.prediction.subscription_churn.grading import grade, validation_metrics
from server.prediction.subscription_churn.history import load_history
from server.prediction.subscription_churn.model import ChurnModel
from server.prediction.subscription_churn.parameters import validate_parameters
from server.prediction.subscription_churn.scoring import model_version, score_customers
from server.prediction.subscription_churn.validation import Validation, validate

CHURN_DEFINITION = (
    "churned in the window after cutoff c: the subscription spell the customer is in at c "
    "ends before c + prediction_window_days, where a new subscription starting within "
    "churn_window_days of the last end continues the spell"
)
ESTIMATOR_DESCRIPTION = (
    "logistic regression on one-hot categories and numbers on linear and log scales, "
    "Platt-scaled on 5-fold out-of-fold log-odds"
)


class SubscriptionChurn:
    """Churn of subscribers, from their subscriptions and their profile attributes."""

    name = "SUBSCRIPTION_CHURN"

    def validate_parameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return validate_parameters(raw).as_dict()

    def run(self, engine: Engine, parameters: Mapping[str, Any], progress: Progress) -> KindResult:
        checked = validate_parameters(parameters)

        progress("loading")
        history, profile_entities = load_history(engine, checked.source, checked.profile_entity)

        progress("features")
        training = build_training_set(history, checked)

        progress("training")
        model, validation = validate(training, checked.seed)

        progress("scoring")
        current = build_features(history, history.as_of, checked.churn_window_days)
        scored_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        rows = score_customers(model, current, checked.threshold, scored_at)

        letter, reason = grade(validation)
        details = {
            "definition": CHURN_DEFINITION,
            "parameters": checked.as_dict(),
            "estimator": ESTIMATOR_DESCRIPTION,
            "profile_entities": profile_entities,
            "features": list(model.features_),
            "validation": {"method": validation.method, "reason": validation.reason},
            "cutoffs": _cutoffs(training, history.as_of.date().isoformat()),
            "customers": {"training_examples": len(training.churned), "scored": len(rows)},
            "churn_rate": _churn_rates(training, validation, rows["IsChurn"].mean()),
            "model_version": model_version(scored_at),
            "scored_at": scored_at.isoformat(),
        }
        return KindResult(
            rows=rows,
            grade=letter,
            grade_reason=reason,
            metrics=validation_metrics(validation, checked.threshold),
            factors=_factors(model),
            details=details,
        )


def _cutoffs(training: TrainingSet, scoring: str) -> dict[str, Any]:
    return {
        "training": [cutoff.date().isoformat() for cutoff in training.used_cutoffs],
        "skipped_without_churn": [cutoff.date().isoformat() for cutoff in training.skipped_cutoffs],
        "scoring": scoring,
    }


def _churn_rates(
    training: TrainingSet, validation: Validation, predicted: float
) -> dict[str, float]:
    return {
        "training": float(training.churned.mean()),
        "validation": float(validation.churned.mean()),
        "predicted": float(predicted),
    }


def _factors(model: ChurnModel) -> list[Factor]:
    ranked = model.importances_.sort_values(ascending=False, kind="stable")
    return [Factor(name=str(name), importance=float(share)) for name, share in ranked.items()]
