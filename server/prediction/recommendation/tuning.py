"""Choosing the weight of co-purchase similarity against popularity on a holdout.

Where co-purchases carry no signal (customers choose products independently of what
they bought before), any similarity weight above 0 only adds noise, and weight 0
leaves popularity plus, with repeat purchases, the customer's own history. The weight
is therefore chosen per run from `SIMILARITY_WEIGHTS` by Success@K on a holdout.

On small data a weight can win by a few lucky hits. A weight above 0 is kept only
when it beats weight 0 significantly: among the customers that exactly one of the
two hits, the weight must win more often than a fair coin would with probability
`SIGNIFICANCE_LEVEL` (a one-sided exact sign test). Otherwise weight 0 is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import binomtest

from server.prediction.recommendation.evaluation import HoldoutScore, Split, evaluate
from server.prediction.recommendation.model import ItemKNNRecommender

SIMILARITY_WEIGHTS = (0.0, 0.25, 1.0, 4.0, 16.0)
DEFAULT_SIMILARITY_WEIGHT = 1.0
"""Used when a split has no graded customer to choose with."""
SIGNIFICANCE_LEVEL = 0.05


@dataclass(frozen=True)
class Tuning:
    """The holdout score of every weight tried, and the chosen weight.

    `p_value` is the sign test's p-value of the weight with the highest Success@K
    against weight 0 (1.0 when that weight is 0 or no customer was graded).
    """

    scores: dict[float, HoldoutScore]
    best: float
    p_value: float = 1.0

    def success_by_weight(self) -> dict[str, float]:
        return {f"{weight:g}": score.success for weight, score in self.scores.items()}


def sign_test(candidate: HoldoutScore, reference: HoldoutScore) -> float:
    """Return the one-sided p-value that `candidate` hits more customers than `reference`.

    Both scores must come from the same split. Only the customers that exactly one
    of the two hits count; without any, the p-value is 1.
    """
    wins = int(np.sum(candidate.hit & ~reference.hit))
    losses = int(np.sum(reference.hit & ~candidate.hit))
    if wins + losses == 0:
        return 1.0
    return float(binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue)


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

    Ties go to the higher precision@K and then to the smaller weight. The best weight
    replaces weight 0 only when the sign test finds it significantly better.
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
    if best == 0.0:
        return Tuning(scores, best)
    p_value = sign_test(scores[best], scores[0.0])
    return Tuning(scores, best if p_value < SIGNIFICANCE_LEVEL else 0.0, p_value)
