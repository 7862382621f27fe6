from __future__ import annotations

import numpy as np
import pytest

from server.prediction.transactional_churn.grading import grade, precision_at_k


def test_precision_at_k_counts_top_scores() -> None:
    churned = np.array([True, True, False, False, True])
    scores = np.array([0.9, 0.2, 0.8, 0.1, 0.7])

    assert precision_at_k(churned, scores) == pytest.approx(2 / 3)


def test_precision_at_k_shares_ties() -> None:
    # k = 2: one place goes to the 0.9, the other is shared by three tied customers
    # of whom one churned.
    churned = np.array([True, True, False, False, False])
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.1])

    assert precision_at_k(churned, scores) == pytest.approx((1 + 1 / 3) / 2)


def test_precision_at_k_without_churners() -> None:
    assert precision_at_k(np.array([False, False]), np.array([0.3, 0.6])) == 0.0


@pytest.mark.parametrize(
    ("model", "baseline", "letter"),
    [(0.66, 0.60, "A"), (0.659, 0.60, "B"), (0.60, 0.60, "B"), (0.59, 0.60, "C"), (0.2, 0.0, "A")],
)
def test_grade_boundaries(model: float, baseline: float, letter: str) -> None:
    assert grade(model, baseline)[0] == letter


def test_grade_reason_states_both_figures() -> None:
    letter, reason = grade(0.72, 0.60)

    assert letter == "A"
    assert "0.720 for the model" in reason
    assert "0.600 for the recency-only baseline" in reason
    assert "+20.0%" in reason
