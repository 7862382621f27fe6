"""Choosing the weight of co-purchase similarity against popularity on a holdout.

Where co-purchases carry no signal (customers choose products independently of what
they bought before), any similarity weight above 0 only adds noise, and weight 0
leaves popularity plus, with repeat purchases, the customer's own history. The weight
is therefore chosen per run from `SIMILARITY_WEIGHTS` by Success@K on a holdout.

NOTE: on small data the choice rests on a few hits. On Superstore about 10 of 432
customers get one, so the chosen weight can lose to weight 0 on the next holdout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from server.prediction.recommendation.evaluation import HoldoutScore, Split, evaluate
from server.prediction.recommendation.model import ItemKNNRecommender

SIMILARITY_WEIGHTS = (0.0, 0.25, 1.0, 4.0, 16.0)
DEFAULT_SIMILARITY_WEIGHT = 1.0
"""Used when a split has no graded customer to choose with."""


@dataclass(frozen=True)
class Tuning:
    """The holdout score of every weight tried, and the chosen weight."""

    scores: dict[float, HoldoutScore]
    best: float

    def success_by_weight(self) -> dict[str, float]:
        return {f"{weight:g}": score.success for weight, score in self.scores.items()}


def fit_model(
    history: sp.csr_matrix, *, repeat_purchases: bool, seed: int, weight: float = 1.0
) -> ItemKNNRecommender:
    """Fit the recommender on a history matrix; weight 0 skips the similarity."""
    model = ItemKNNRecommender(
        similarity_weight=weight, history_weight=1.0 if repeat_purchases else 0.0, seed=seed
    )
    return model.fit(history)


def fit_baseline(history: sp.csr_matrix, *, seed: int) -> ItemKNNRecommender:
    """Fit the popularity baseline: no similarity and no history term."""
    baseline = ItemKNNRecommender(similarity_weight=0.0, history_weight=0.0, seed=seed)
    return baseline.fit(history)


def tune(model: ItemKNNRecommender, split: Split, k: int, allowed: np.ndarray | None) -> Tuning:
    """Score `model` (fitted with a similarity) at every weight; keep the best Success@K.

    Ties go to the higher precision@K and then to the smaller weight.
    """
    if len(split.rows) == 0:
        return Tuning({}, DEFAULT_SIMILARITY_WEIGHT)
    scores = {
        weight: evaluate(model.with_similarity_weight(weight), split, k, allowed)
        for weight in SIMILARITY_WEIGHTS
    }
    best = max(
        SIMILARITY_WEIGHTS,
        key=lambda weight: (scores[weight].success, scores[weight].precision, -weight),
    )
    return Tuning(scores, best)
