"""Validation of a trained churn model on the window after its training cutoff."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, precision_score, recall_score, roc_auc_score

from server.prediction.base import Factor, Metric
from server.prediction.transactional_churn.explain import feature_importances
from server.prediction.transactional_churn.grading import grade, precision_at_k
from server.prediction.transactional_churn.model import ChurnClassifier, RecencyBaseline


@dataclass(frozen=True)
class ValidationReport:
    """Metrics beside the recency baseline's, the grade and the feature importances."""

    metrics: list[Metric]
    grade: str
    grade_reason: str
    factors: list[Factor]


def validate_model(
    model: ChurnClassifier,
    baseline: RecencyBaseline,
    features: pd.DataFrame,
    churned: pd.Series,
    threshold: float,
    seed: int,
) -> ValidationReport:
    """Score the validation cutoff's customers and compare the model with the baseline.

    The baseline's ROC AUC and precision@k rank customers by raw recency. Its
    precision, recall and Brier score use `baseline`'s probabilities at `threshold`.
    """
    truth = churned.to_numpy(dtype=bool)
    model_scores = model.predict_proba(features)[:, 1]
    baseline_scores = baseline.predict_proba(features)[:, 1]
    recency = features["recency"].to_numpy(dtype=float)

    model_hits = precision_at_k(truth, model_scores)
    baseline_hits = precision_at_k(truth, recency)
    metrics = [
        Metric("roc_auc", _auc(truth, model_scores), _auc(truth, recency)),
        Metric(
            "precision",
            _precision(truth, model_scores >= threshold),
            _precision(truth, baseline_scores >= threshold),
        ),
        Metric(
            "recall",
            _recall(truth, model_scores >= threshold),
            _recall(truth, baseline_scores >= threshold),
        ),
        Metric("precision_at_k", model_hits, baseline_hits),
        Metric(
            "brier_score",
            float(brier_score_loss(truth, model_scores)),
            float(brier_score_loss(truth, baseline_scores)),
        ),
    ]

    letter, reason = grade(model_hits, baseline_hits)
    factors = feature_importances(model, features, churned, seed)
    return ValidationReport(metrics=metrics, grade=letter, grade_reason=reason, factors=factors)


def _auc(truth: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(truth, scores))


def _precision(truth: np.ndarray, flagged: np.ndarray) -> float:
    return float(precision_score(truth, flagged, zero_division=0))


def _recall(truth: np.ndarray, flagged: np.ndarray) -> float:
    return float(recall_score(truth, flagged, zero_division=0))
