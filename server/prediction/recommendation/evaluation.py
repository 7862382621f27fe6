"""Time-based holdout: Success@K and precision@K of the model and the popularity baseline.

A split trains on the purchases up to a cutoff day and takes each customer's
purchases in the `holdout_days` days after it as the truth. The graded customers are
those with a purchase before the cutoff and a target product after it. When repeat
purchases are not expected, a product the customer bought before the cutoff is
neither recommended nor a target. With product filters, only allowed products are
targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from server.prediction.recommendation.interactions import Interactions
from server.prediction.recommendation.model import ItemKNNRecommender, Recommendations

A_MIN_RELATIVE_GAIN = 0.10


@dataclass(frozen=True)
class Split:
    """Training history, excluded products and holdout targets of one cutoff day."""

    cutoff: int
    history: sp.csr_matrix
    exclude: sp.csr_matrix | None
    targets: sp.csr_matrix
    rows: np.ndarray


@dataclass(frozen=True)
class HoldoutScore:
    """Success@K (share of customers with a hit in their top K) and precision@K.

    `hit` holds, for each graded customer in the split's order, whether they had a
    hit, so two scores of the same split can be compared customer by customer.
    """

    success: float
    precision: float
    customers: int
    hit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool), repr=False)


def make_split(
    interactions: Interactions,
    cutoff: int,
    holdout_days: int,
    *,
    lookback_days: int | None,
    allowed: np.ndarray | None,
    repeat_purchases: bool,
) -> Split:
    """Split the purchases at day `cutoff` into training history and holdout targets."""
    start = None if lookback_days is None else cutoff - lookback_days
    history = interactions.matrix(start, cutoff)
    everything_before = interactions.matrix(None, cutoff)
    exclude = None if repeat_purchases else everything_before

    targets = interactions.matrix(cutoff, cutoff + holdout_days).astype(bool).astype(np.float32)
    if allowed is not None:
        targets = (targets @ sp.diags(allowed.astype(np.float32))).tocsr()
    if exclude is not None:
        targets = (targets - targets.multiply(exclude.astype(bool))).tocsr()
    targets.eliminate_zeros()

    graded = (np.diff(history.indptr) > 0) & (np.diff(targets.indptr) > 0)
    return Split(cutoff, history, exclude, targets, np.flatnonzero(graded))


def holdout_score(recommendations: Recommendations, split: Split, k: int) -> HoldoutScore:
    """Score recommendations for `split.rows` against the split's targets."""
    if len(split.rows) == 0:
        return HoldoutScore(0.0, 0.0, 0)
    hit = np.asarray(split.targets[recommendations.customers, recommendations.products]).ravel() > 0
    hits = np.bincount(recommendations.customers[hit], minlength=split.targets.shape[0])
    graded_hits = hits[split.rows]
    return HoldoutScore(
        success=float(np.mean(graded_hits > 0)),
        precision=float(np.mean(graded_hits) / k),
        customers=len(split.rows),
        hit=graded_hits > 0,
    )


def evaluate(
    model: ItemKNNRecommender, split: Split, k: int, allowed: np.ndarray | None
) -> HoldoutScore:
    """Recommend to the split's graded customers and score the result."""
    recommended = model.recommend(
        split.history, k, rows=split.rows, allowed=allowed, exclude=split.exclude
    )
    return holdout_score(recommended, split, k)


def relative_gain(model: float, baseline: float) -> float:
    """Return (model - baseline) / baseline, or +inf when only the model scores above 0."""
    if baseline > 0:
        return (model - baseline) / baseline
    return float("inf") if model > 0 else 0.0


def grade(model: HoldoutScore, baseline: HoldoutScore, k: int, period: str) -> tuple[str, str]:
    """Grade the model's Success@K against the popularity baseline's; return (grade, reason).

    A: at least 10% better than the baseline (relative). B: from 0 to 10% better.
    C: below the baseline.
    """
    gain = relative_gain(model.success, baseline.success)
    if gain >= A_MIN_RELATIVE_GAIN:
        letter = "A"
    elif gain >= 0:
        letter = "B"
    else:
        letter = "C"
    comparison = (
        f"{gain:+.1%} relative to the baseline" if np.isfinite(gain) else "the baseline had no hit"
    )
    reason = (
        f"Grade {letter}: on the holdout {period}, {model.customers} customers with earlier "
        f"purchases bought a target product. Success@{k} (the share of them with at least one "
        f"such product among their top {k}) is {model.success:.3f} for the model and "
        f"{baseline.success:.3f} for the popularity baseline, {comparison}; precision@{k} "
        f"is {model.precision:.4f} against {baseline.precision:.4f}. A needs at least "
        f"{A_MIN_RELATIVE_GAIN:.0%} better, B 0 to {A_MIN_RELATIVE_GAIN:.0%} better, and C "
        "is below the baseline."
    )
    return letter, reason
