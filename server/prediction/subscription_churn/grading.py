"""Metrics of a validated model and its grade against the historical churn rate.

The baseline scores every customer with the historical average churn rate. Its
scores are all tied, so its hit rate on churners is the churn rate of the validation
examples: what flagging customers at random finds.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from server.prediction.base import Metric
from server.prediction.subscription_churn.validation import Validation

A_MIN_RELATIVE_GAIN = 0.10


def hit_rate(churned: np.ndarray, scores: np.ndarray) -> float:
    """Return the share of churners among the k highest scores, k = the number of churners.

    Customers tied with the k-th score share the remaining places evenly, so the
    result does not depend on row order. Returns 0.0 when no customer churned.
    """
    churned = np.asarray(churned, dtype=bool)
    k = int(churned.sum())
    if k == 0:
        return 0.0

    kth_score = np.sort(scores)[::-1][k - 1]
    above = scores > kth_score
    tied = scores == kth_score
    places_left = k - int(above.sum())
    hits_tied = float(churned[tied].sum()) * places_left / int(tied.sum())
    return (float(churned[above].sum()) + hits_tied) / k


def validation_metrics(validation: Validation, threshold: float) -> list[Metric]:
    """Return ROC AUC, hit rate, Brier score, precision and recall, beside the baseline's."""
    churned, scores = validation.churned, validation.scores
    baseline_scores = np.full(len(scores), validation.historical_churn_rate)
    flagged = scores >= threshold
    precision = float(churned[flagged].mean()) if flagged.any() else 0.0
    return [
        Metric("roc_auc", float(roc_auc_score(churned, scores)), 0.5),
        Metric("churner_hit_rate", hit_rate(churned, scores), hit_rate(churned, baseline_scores)),
        Metric(
            "brier_score",
            float(brier_score_loss(churned, scores)),
            float(brier_score_loss(churned, baseline_scores)),
        ),
        Metric("precision", precision, float(churned.mean())),
        Metric("recall", float(flagged[churned].mean()), None),
    ]


def grade(validation: Validation) -> tuple[str, str]:
    """Grade the hit rate on churners against the baseline's; return (grade, reason).

    A: at least 10% better than the baseline (relative). B: from 0 to 10% better.
    C: below the baseline.
    """
    churned = validation.churned
    model = hit_rate(churned, validation.scores)
    baseline = hit_rate(churned, np.full(len(churned), validation.historical_churn_rate))
    gain = (model - baseline) / baseline
    if gain >= A_MIN_RELATIVE_GAIN:
        letter = "A"
    elif gain >= 0:
        letter = "B"
    else:
        letter = "C"

    reason = (
        f"Grade {letter}: on the {validation.method}, {model:.1%} of the {int(churned.sum())} "
        f"customers with the highest ChurnScore churned, against {baseline:.1%} for the "
        "baseline that gives every customer the historical average churn rate "
        f"({validation.historical_churn_rate:.1%}): {gain:+.1%} relative. A needs at least "
        f"{A_MIN_RELATIVE_GAIN:.0%} better than the baseline, B 0 to "
        f"{A_MIN_RELATIVE_GAIN:.0%} better, and C is below it."
    )
    return letter, reason
