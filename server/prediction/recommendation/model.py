"""The recommender: co-purchase similarity, the customer's own history and popularity.

A customer's score for product j is

    similarity_weight * s_j + history_weight * h_j + p_j

where s_j sums the similarity of j to the products the customer bought, divided by
the customer's largest such sum. h_j is how often the customer bought j, divided by
the count of their most-bought product. p_j is j's number of buyers divided by one
more than the top product's, so it lies in (0, 1). Products with neither a
similarity nor a history score fall back to p_j alone, so customers with little or
no history get the most popular products.

Scoring runs in batches of customers on sparse matrices: a batch holds only the
products that are similar to something the customer bought, the customer's own
products, and enough of the most popular products to fill k places. Nothing of size
customers x products is ever dense.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from server.prediction.recommendation.similarity import item_similarity, top_per_row

REASONS = ("past purchase", "similar products", "popular")
PAST_PURCHASE, SIMILAR_PRODUCTS, POPULAR = range(3)
TIE_BREAK_SCALE = 1e-6
"""Largest seeded offset added to popularity, far below the gap of one buyer."""


@dataclass(frozen=True)
class Recommendations:
    """Recommendations as flat arrays, one entry per customer and product.

    `customers` are row numbers of the history matrix; `ranks` start at 1; `reasons`
    index `REASONS`.
    """

    customers: np.ndarray
    products: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    reasons: np.ndarray


def _row_scaled(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Divide each row by its largest entry, so every non-empty row peaks at 1.

    Works on the stored entries as they are, because sorting the column indices of a
    fresh sparse product would cost more than the scaling.
    """
    lengths = np.diff(matrix.indptr)
    filled = lengths > 0
    peaks = np.ones(matrix.shape[0])
    if filled.any():
        peaks[filled] = np.maximum.reduceat(matrix.data, matrix.indptr[:-1][filled])
    peaks[peaks <= 0] = 1.0
    scaled = matrix.copy()
    scaled.data = matrix.data.astype(np.float64) / np.repeat(peaks, lengths)
    return scaled


def _values_at(matrix: sp.csr_matrix | None, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    if matrix is None or len(rows) == 0:
        return np.zeros(len(rows))
    return np.asarray(matrix[rows, columns], dtype=np.float64).ravel()


class ItemKNNRecommender:
    """Item-based nearest neighbours with a history term and a popularity fallback.

    Parameters
    ----------
    similarity_weight : weight of the co-purchase term; 0 skips the similarity fit.
    history_weight : weight of the customer's own purchases; 0 when repeat purchases
        are not expected.
    neighbours : similar products kept per product.
    shrinkage : added to the cosine denominator (see `item_similarity`).
    batch_size : customers scored at once.
    seed : seeds the order among products of equal popularity.
    """

    def __init__(
        self,
        *,
        similarity_weight: float = 1.0,
        history_weight: float = 0.0,
        neighbours: int = 100,
        shrinkage: float = 10.0,
        batch_size: int = 10_000,
        seed: int = 0,
    ) -> None:
        self.similarity_weight = similarity_weight
        self.history_weight = history_weight
        self.neighbours = neighbours
        self.shrinkage = shrinkage
        self.batch_size = batch_size
        self.seed = seed

    def fit(self, purchases: sp.csr_matrix) -> ItemKNNRecommender:
        """Learn popularity and, unless similarity_weight is 0, the product similarity."""
        bought = purchases.tocsr(copy=True)
        bought.data = np.ones_like(bought.data, dtype=np.float32)
        buyers = np.asarray(bought.sum(axis=0), dtype=np.float64).ravel()

        rng = np.random.default_rng(self.seed)
        tie_break = rng.random(len(buyers)) * TIE_BREAK_SCALE
        self.buyers_ = buyers
        self.popularity_ = (buyers + tie_break) / (buyers.max(initial=0.0) + 1.0)
        self.similarity_: sp.csr_matrix | None = None
        if self.similarity_weight > 0:
            self.similarity_ = item_similarity(
                bought, shrinkage=self.shrinkage, neighbours=self.neighbours
            )
        return self

    def with_similarity_weight(self, weight: float) -> ItemKNNRecommender:
        """Return a copy that shares the fitted state but weighs similarity by `weight`."""
        if weight > 0 and getattr(self, "similarity_", None) is None:
            raise ValueError("the similarity was not fitted; fit with similarity_weight > 0")
        changed = copy.copy(self)
        changed.similarity_weight = weight
        return changed

    def recommend(
        self,
        history: sp.csr_matrix,
        k: int,
        *,
        rows: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
        exclude: sp.csr_matrix | None = None,
    ) -> Recommendations:
        """Recommend up to `k` products to each customer row of `history`.

        `rows` limits scoring to those customer rows (default: all). `allowed` is a
        boolean mask over products. `exclude` marks products a customer must not get,
        such as everything they bought when repeat purchases are not expected. A
        customer gets fewer than `k` products only when fewer are allowed.
        """
        history = history.tocsr()
        if rows is None:
            rows = np.arange(history.shape[0])
        allowed_mask = np.ones(history.shape[1], bool) if allowed is None else allowed
        allowed_products = np.flatnonzero(allowed_mask)
        popular = allowed_products[np.argsort(-self.popularity_[allowed_products], kind="stable")]

        parts = []
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            batch_exclude = None if exclude is None else exclude[batch]
            parts.append(
                self._recommend_batch(
                    history[batch], batch, k, allowed_mask, popular, batch_exclude
                )
            )
        if not parts:
            return _empty_recommendations()
        return Recommendations(
            *(np.concatenate([getattr(part, name) for part in parts]) for name in _FIELDS)
        )

    def _candidates(
        self, history: sp.csr_matrix
    ) -> tuple[sp.csr_matrix | None, sp.csr_matrix | None]:
        similar = None
        if self.similarity_weight > 0 and self.similarity_ is not None:
            bought = history.copy()
            bought.data = np.ones_like(bought.data)
            similar = _row_scaled(bought @ self.similarity_) * self.similarity_weight
        own = _row_scaled(history) * self.history_weight if self.history_weight > 0 else None
        return similar, own

    def _popular_fill(
        self, shape: tuple[int, int], k: int, popular: np.ndarray, exclude: sp.csr_matrix | None
    ) -> sp.csr_matrix:
        """Give each row the k most popular allowed products plus one per excluded product."""
        need = np.full(shape[0], k, dtype=np.int64)
        if exclude is not None:
            need += np.diff(exclude.indptr)
        need = np.minimum(need, len(popular))
        rows = np.repeat(np.arange(shape[0]), need)
        offsets = np.arange(int(need.sum())) - np.repeat(np.cumsum(need) - need, need)
        columns = popular[offsets]
        return sp.csr_matrix((self.popularity_[columns], (rows, columns)), shape=shape)

    def _recommend_batch(
        self,
        history: sp.csr_matrix,
        batch: np.ndarray,
        k: int,
        allowed: np.ndarray,
        popular: np.ndarray,
        exclude: sp.csr_matrix | None,
    ) -> Recommendations:
        similar, own = self._candidates(history)
        scores = sp.csr_matrix(history.shape, dtype=np.float64)
        for part in (similar, own):
            if part is not None:
                scores = scores + part
        scores.data += self.popularity_[scores.indices]
        # Every candidate's score is at least its popularity, so the maximum keeps the
        # candidate's score and adds the popular products it lacks.
        scores = scores.maximum(self._popular_fill(history.shape, k, popular, exclude)).tocsr()

        if exclude is not None:
            scores = (scores - scores.multiply(exclude.astype(bool))).tocsr()
        scores.data[~allowed[scores.indices]] = 0.0
        scores.eliminate_zeros()

        rows, products, values, ranks = top_per_row(scores, k)
        reasons = np.full(len(rows), POPULAR, dtype=np.int8)
        similar_part = _values_at(similar, rows, products)
        reasons[similar_part > self.popularity_[products]] = SIMILAR_PRODUCTS
        reasons[_values_at(own, rows, products) > 0] = PAST_PURCHASE
        return Recommendations(batch[rows], products, values, ranks + 1, reasons)


_FIELDS = ("customers", "products", "scores", "ranks", "reasons")


def _empty_recommendations() -> Recommendations:
    integers = np.empty(0, dtype=np.int64)
    return Recommendations(integers, integers, np.empty(0), integers, np.empty(0, dtype=np.int8))
