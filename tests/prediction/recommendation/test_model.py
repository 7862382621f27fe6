"""The recommender against dense numpy computations of the same formulas."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from server.prediction.recommendation.model import (
    PAST_PURCHASE,
    POPULAR,
    SIMILAR_PRODUCTS,
    ItemKNNRecommender,
)
from server.prediction.recommendation.similarity import item_similarity, top_per_row


def random_purchases(customers: int, products: int, density: float, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    matrix = sp.random(customers, products, density=density, format="csr", random_state=rng)
    matrix.data = np.ceil(matrix.data * 3).astype(np.float32)
    return matrix


def dense_scores(
    model: ItemKNNRecommender, history: sp.csr_matrix, exclude: sp.csr_matrix | None
) -> np.ndarray:
    """The model's score formula on dense arrays; excluded products get -inf."""
    bought = (history.toarray() > 0).astype(float)
    similar = np.zeros_like(bought)
    if model.similarity_ is not None:
        similar = bought @ model.similarity_.toarray()
        peaks = similar.max(axis=1, keepdims=True)
        similar = np.divide(similar, peaks, out=np.zeros_like(similar), where=peaks > 0)
    counts = history.toarray()
    peaks = counts.max(axis=1, keepdims=True)
    own = np.divide(counts, peaks, out=np.zeros_like(counts), where=peaks > 0)
    scores = (
        model.similarity_weight * similar + model.history_weight * own + model.popularity_[None, :]
    )
    if exclude is not None:
        scores[exclude.toarray() > 0] = -np.inf
    return scores


def test_top_per_row_matches_sorting() -> None:
    rng = np.random.default_rng(3)
    matrix = sp.random(40, 300, density=0.2, format="csr", random_state=rng)

    rows, columns, values, ranks = top_per_row(matrix, 7)

    dense = matrix.toarray()
    dense[dense == 0] = -np.inf
    for row in range(40):
        expected = np.argsort(-dense[row], kind="stable")[:7]
        expected = expected[np.isfinite(dense[row, expected])]
        assert columns[rows == row].tolist() == expected.tolist()
        assert ranks[rows == row].tolist() == list(range(len(expected)))
    assert np.all(np.diff(rows) >= 0)
    assert np.allclose(values, matrix.toarray()[rows, columns])


def test_top_per_row_short_and_empty_rows() -> None:
    matrix = sp.csr_matrix(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [5.0, 0.0, 0.0]]))

    rows, columns, _, ranks = top_per_row(matrix, 5)

    assert rows.tolist() == [0, 0, 2]
    assert columns.tolist() == [1, 2, 0]
    assert ranks.tolist() == [0, 1, 0]


def test_similarity_is_shrunk_cosine() -> None:
    purchases = random_purchases(80, 25, 0.15, seed=4)
    bought = (purchases > 0).astype(np.float32).tocsr()

    similarity = item_similarity(bought, shrinkage=2.0, neighbours=25).toarray()

    dense = bought.toarray()
    together = dense.T @ dense
    buyers = dense.sum(axis=0)
    expected = together / (np.sqrt(np.outer(buyers, buyers)) + 2.0)
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(similarity, expected, atol=1e-6)


def test_similarity_keeps_top_neighbours() -> None:
    bought = (random_purchases(200, 40, 0.2, seed=5) > 0).astype(np.float32).tocsr()

    full = item_similarity(bought, shrinkage=1.0, neighbours=40).toarray()
    pruned = item_similarity(bought, shrinkage=1.0, neighbours=3)

    assert np.all(np.diff(pruned.indptr) <= 3)
    for row in range(40):
        kept = pruned[row].toarray().ravel()
        assert np.allclose(np.sort(kept[kept > 0])[::-1], np.sort(full[row])[::-1][:3])


@pytest.mark.parametrize("history_weight", [0.0, 1.0])
@pytest.mark.parametrize("batch_size", [7, 1000])
def test_recommend_matches_dense_scores(history_weight: float, batch_size: int) -> None:
    purchases = random_purchases(60, 40, 0.08, seed=6)
    model = ItemKNNRecommender(
        similarity_weight=1.5, history_weight=history_weight, batch_size=batch_size, seed=1
    ).fit(purchases)
    exclude = purchases if history_weight == 0 else None

    recommended = model.recommend(purchases, 6, exclude=exclude)

    dense = dense_scores(model, purchases, exclude)
    expected = np.argsort(-dense, axis=1, kind="stable")[:, :6]
    assert recommended.customers.tolist() == np.repeat(np.arange(60), 6).tolist()
    assert recommended.products.tolist() == expected.ravel().tolist()
    assert np.allclose(recommended.scores, np.take_along_axis(dense, expected, axis=1).ravel())
    assert recommended.ranks.tolist() == [1, 2, 3, 4, 5, 6] * 60


def test_customer_without_history_gets_popular_products() -> None:
    purchases = sp.csr_matrix(
        np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1], [0, 0, 0, 0]], dtype=np.float32)
    )
    model = ItemKNNRecommender(seed=0).fit(purchases)

    recommended = model.recommend(purchases, 2, rows=np.array([3]))

    assert recommended.customers.tolist() == [3, 3]
    assert recommended.products[0] == 0
    assert recommended.reasons.tolist() == [POPULAR, POPULAR]


def test_reasons_name_the_strongest_source() -> None:
    # Customers 0-2 buy products 0 and 1 together; customer 3 bought only product 0,
    # twice, so product 1 is similar and product 0 a past purchase.
    purchases = sp.csr_matrix(
        np.array(
            [[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [2, 0, 0, 0], [0, 0, 1, 1]],
            dtype=np.float32,
        )
    )
    model = ItemKNNRecommender(similarity_weight=4.0, history_weight=1.0, seed=0).fit(purchases)

    recommended = model.recommend(purchases, 3, rows=np.array([3]))

    reasons = dict(zip(recommended.products.tolist(), recommended.reasons.tolist(), strict=True))
    assert reasons[1] == SIMILAR_PRODUCTS
    assert reasons[0] == PAST_PURCHASE


def test_excluded_and_disallowed_products_never_recommended() -> None:
    purchases = random_purchases(50, 30, 0.1, seed=8)
    allowed = np.zeros(30, dtype=bool)
    allowed[::3] = True
    model = ItemKNNRecommender(seed=2).fit(purchases)

    recommended = model.recommend(purchases, 5, allowed=allowed, exclude=purchases)

    assert allowed[recommended.products].all()
    bought = purchases.toarray() > 0
    assert not bought[recommended.customers, recommended.products].any()
    per_customer = np.bincount(recommended.customers, minlength=50)
    assert per_customer.tolist() == [5] * 50


def test_fewer_allowed_products_than_k() -> None:
    purchases = random_purchases(10, 8, 0.3, seed=9)
    allowed = np.zeros(8, dtype=bool)
    allowed[[1, 4]] = True
    model = ItemKNNRecommender(seed=3).fit(purchases)

    recommended = model.recommend(purchases, 5, allowed=allowed)

    assert np.bincount(recommended.customers, minlength=10).tolist() == [2] * 10


def test_popularity_ties_follow_the_seed() -> None:
    purchases = sp.csr_matrix(np.ones((3, 20), dtype=np.float32))
    empty = sp.csr_matrix((1, 20), dtype=np.float32)

    first = ItemKNNRecommender(similarity_weight=0, seed=1).fit(purchases).recommend(empty, 5)
    again = ItemKNNRecommender(similarity_weight=0, seed=1).fit(purchases).recommend(empty, 5)
    other = ItemKNNRecommender(similarity_weight=0, seed=2).fit(purchases).recommend(empty, 5)

    assert first.products.tolist() == again.products.tolist()
    assert first.products.tolist() != other.products.tolist()
