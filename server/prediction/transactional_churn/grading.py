"""The grade of a churn model: its precision@k against the recency baseline's."""

from __future__ import annotations

import numpy as np

A_MIN_RELATIVE_GAIN = 0.10


def precision_at_k(churned: np.ndarray, scores: np.ndarray) -> float:
    """Return the share of true churners among the k highest scores, k = number of churners.

    Customers tied with the k-th score share the remaining places evenly, so the
    result does not depend on row order (recency, an integer, has many ties).
    Returns 0.0 when there is no churner.
    """
    churned = np.asarray(churned, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    k = int(churned.sum())
    if k == 0:
        return 0.0

    kth_score = np.sort(scores)[::-1][k - 1]
    above = scores > kth_score
    tied = scores == kth_score
    places_left = k - int(above.sum())
    hits_above = float(churned[above].sum())
    hits_tied = float(churned[tied].sum()) * places_left / int(tied.sum())
    return (hits_above + hits_tied) / k


def relative_gain(model: float, baseline: float) -> float:
    """Return (model - baseline) / baseline, or +inf when only the model scores above 0."""
    if baseline > 0:
        return (model - baseline) / baseline
    return float("inf") if model > 0 else 0.0


def grade(model: float, baseline: float) -> tuple[str, str]:
    """Grade a model's precision@k against the recency baseline's; return (grade, reason).

    A: at least 10% better than the baseline (relative). B: from 0 to 10% better.
    C: below the baseline.
    """
    gain = relative_gain(model, baseline)
    if gain >= A_MIN_RELATIVE_GAIN:
        letter = "A"
    elif gain >= 0:
        letter = "B"
    else:
        letter = "C"

    if np.isfinite(gain):
        comparison = f"{gain:+.1%} relative to the baseline"
    else:
        comparison = "the baseline found no churner"
    reason = (
        f"Grade {letter}: precision@k on the validation window (the share of true churners "
        f"among the k highest-scored customers, k = the number of true churners) is "
        f"{model:.3f} for the model and {baseline:.3f} for the recency-only baseline, "
        f"{comparison}. A needs at least {A_MIN_RELATIVE_GAIN:.0%} better, B 0 to "
        f"{A_MIN_RELATIVE_GAIN:.0%} better, and C is below the baseline."
    )
    return letter, reason
