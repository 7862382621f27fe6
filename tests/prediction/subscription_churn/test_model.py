from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from server.prediction.subscription_churn.design import DesignMatrix
from server.prediction.subscription_churn.grading import grade, hit_rate
from server.prediction.subscription_churn.model import ChurnModel
from server.prediction.subscription_churn.validation import CROSS_VALIDATION, Validation


def examples(rows: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Return features of every kind, churn driven by tenure and plan, and the outcomes."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows).astype(float)
    plan = rng.choice(["Basic", "Pro", "Team"], rows).astype(object)
    plan[rng.random(rows) < 0.05] = None
    charges = tenure * 20 + rng.normal(0, 5, rows)
    charges[rng.random(rows) < 0.05] = np.nan
    features = pd.DataFrame(
        {
            "TenureMonths": tenure,
            "TotalCharges": charges,
            "SeniorCitizen": rng.random(rows) < 0.2,
            "Plan": pd.Series(plan, dtype="string"),
            "Constant": 1,
        }
    )
    log_odds = 1.0 - 0.08 * tenure + np.where(plan == "Basic", 1.0, 0.0)
    churned = rng.random(rows) < 1 / (1 + np.exp(-log_odds))
    return features, churned


def test_contributions_add_up_to_log_odds() -> None:
    features, churned = examples()
    model = ChurnModel().fit(features, churned)

    contributions = model.contributions(features)

    at_mean = model.classifier_.intercept_[0] + model.column_means_ @ model.classifier_.coef_[0]
    assert np.allclose(contributions.sum(axis=1) + at_mean, model.decision_function(features))
    assert list(contributions.columns) == ["TenureMonths", "TotalCharges", "SeniorCitizen", "Plan"]


def test_constant_feature_left_out() -> None:
    features, churned = examples()

    model = ChurnModel().fit(features, churned)

    assert "Constant" not in model.features_
    assert model.importances_.sum() == pytest.approx(1.0)
    assert model.importances_.idxmax() == "TenureMonths"


def test_calibrated_scores_follow_decisions() -> None:
    features, churned = examples()
    model = ChurnModel().fit(features, churned)
    decisions = model.decision_function(features)

    model.calibrate(decisions, churned)
    scores = model.predict_proba(features)

    assert np.allclose(scores.sum(axis=1), 1.0)
    order = np.argsort(decisions)
    assert (np.diff(scores[order, 1]) >= 0).all()
    assert scores[:, 1].mean() == pytest.approx(churned.mean(), abs=0.02)


def test_unseen_values_scored() -> None:
    features, churned = examples()
    model = ChurnModel().fit(features, churned)
    new = features.head(3).copy()
    new["Plan"] = pd.Series(["Enterprise", None, "Pro"], dtype="string")
    new["TotalCharges"] = np.nan

    scores = model.predict_proba(new)[:, 1]

    assert np.isfinite(scores).all()


def test_rare_categories_share_other_column() -> None:
    values = pd.DataFrame({"City": ["A"] * 5 + ["B"] * 4 + ["C", "D", "E"]})

    design = DesignMatrix(max_categories=3).fit(values)
    encoded = design.transform(pd.DataFrame({"City": ["A", "C", "Z"]}))

    assert design.categories_["City"] == ["A", "B"]
    assert encoded.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]


def test_hit_rate_shares_ties() -> None:
    churned = np.array([True, False, True, False, False])

    assert hit_rate(churned, np.array([0.9, 0.1, 0.8, 0.2, 0.3])) == 1.0
    assert hit_rate(churned, np.full(5, 0.26)) == pytest.approx(0.4)
    assert hit_rate(churned, np.array([0.9, 0.5, 0.5, 0.5, 0.1])) == pytest.approx(2 / 3)
    assert hit_rate(np.zeros(3, dtype=bool), np.ones(3)) == 0.0


@pytest.mark.parametrize(
    ("scores", "letter"),
    [
        ([0.9, 0.8, 0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4], "A"),
        ([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], "A"),
        ([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], "B"),
        ([0.1, 0.1, 0.9, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], "C"),
    ],
)
def test_grade_against_historical_rate(scores: list[float], letter: str) -> None:
    churned = np.array([True, True] + [False] * 8)
    validation = Validation(CROSS_VALIDATION, "", churned, np.array(scores), 0.2)

    graded, reason = grade(validation)

    assert graded == letter
    assert f"Grade {letter}: on the stratified 5-fold cross validation" in reason
    assert "historical average churn rate (20.0%)" in reason
