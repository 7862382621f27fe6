"""The similarity weight is kept only when it beats popularity significantly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from server.prediction.recommendation.evaluation import HoldoutScore, make_split
from server.prediction.recommendation.interactions import Interactions
from server.prediction.recommendation.tuning import (
    SIGNIFICANCE_LEVEL,
    fit_model,
    sign_test,
    tune,
)
from tests.prediction.recommendation.data import planted_lines


def _score(hit: list[bool]) -> HoldoutScore:
    hits = np.array(hit)
    return HoldoutScore(float(hits.mean()), float(hits.mean()) / 5, len(hits), hits)


def test_sign_test_counts_differing_customers() -> None:
    reference = _score([False] * 6 + [True, True])
    candidate = _score([True] * 6 + [True, True])

    assert sign_test(candidate, reference) == pytest.approx(0.5**6)
    assert sign_test(reference, candidate) == pytest.approx(1.0)
    assert sign_test(reference, reference) == 1.0


def test_sign_test_even_split_not_significant() -> None:
    reference = _score([True, True, True, False, False, False])
    candidate = _score([False, False, False, True, True, True])

    assert sign_test(candidate, reference) > 0.5


def _independent_lines(customers: int = 400, seed: int = 11) -> pd.DataFrame:
    """Purchase lines where every customer draws products from one shared distribution."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, 61)
    weights /= weights.sum()
    count = customers * 8
    return pd.DataFrame(
        {
            "customer_id": [f"C{c:04d}" for c in rng.integers(customers, size=count)],
            "product_id": [f"P{p:03d}" for p in rng.choice(60, size=count, p=weights)],
            "order_date": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(730, size=count), unit="D"),
        }
    )


def _tuned(lines: pd.DataFrame) -> tuple[float, float]:
    interactions = Interactions.from_lines(lines)
    split = make_split(
        interactions,
        interactions.last_day - 180,
        180,
        lookback_days=None,
        allowed=None,
        repeat_purchases=False,
    )
    model = fit_model(split.history, repeat_purchases=False, seed=0)
    tuning = tune(model, split, 5, None)
    return tuning.best, tuning.p_value


def test_weight_kept_where_co_purchases_carry_signal() -> None:
    best, p_value = _tuned(planted_lines(customers=300, seed=7))

    assert best > 0
    assert p_value < SIGNIFICANCE_LEVEL


def test_popularity_kept_where_customers_choose_independently() -> None:
    best, p_value = _tuned(_independent_lines())

    # In this data a weight above 0 leads on Success@5 by chance (p is below 1 only
    # then), and the sign test rejects it.
    assert best == 0.0
    assert SIGNIFICANCE_LEVEL <= p_value < 1.0
