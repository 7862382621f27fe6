from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from server.prediction.clv.fitting import ConvergenceError
from server.prediction.clv.gamma_gamma import (
    GammaGammaModel,
    _log_likelihood_and_gradient,
    summed_log_likelihood,
)

# Fader and Hardie (2013), the 946 repeat buyers of the CDNOW 1/10 cohort.
PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def repeat_buyers(cdnow_calibration: pd.DataFrame) -> pd.DataFrame:
    return cdnow_calibration[cdnow_calibration["frequency"] > 0]


def _fit(buyers: pd.DataFrame, **settings: float) -> GammaGammaModel:
    model = GammaGammaModel(**settings)  # type: ignore[arg-type]
    return model.fit(buyers["frequency"], buyers["monetary_value"])


def test_fit_matches_published_parameters(repeat_buyers: pd.DataFrame) -> None:
    model = _fit(repeat_buyers)

    assert model.n_customers_ == 946
    for name, published in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(published, abs=0.005), name


def test_gradient_matches_finite_differences(repeat_buyers: pd.DataFrame) -> None:
    x = repeat_buyers["frequency"].to_numpy()
    mean_spend = repeat_buyers["monetary_value"].to_numpy()
    params = np.array([3.0, 6.0, 30.0])

    _, gradient = _log_likelihood_and_gradient(params, x, mean_spend)

    for index in range(3):
        step = np.zeros(3)
        step[index] = 1e-6
        upper, _ = _log_likelihood_and_gradient(params + step, x, mean_spend)
        lower, _ = _log_likelihood_and_gradient(params - step, x, mean_spend)
        numeric = (upper.sum() - lower.sum()) / 2e-6
        assert gradient[:, index].sum() == pytest.approx(numeric, rel=1e-5), index


@pytest.mark.parametrize("params", [(3.0, 6.0, 30.0), (0.4, 1.5, 0.7)])
def test_summed_likelihood_equals_per_customer_sum(
    repeat_buyers: pd.DataFrame, params: tuple[float, float, float]
) -> None:
    x = repeat_buyers["frequency"].to_numpy()
    mean_spend = repeat_buyers["monetary_value"].to_numpy()
    per_customer, gradients = _log_likelihood_and_gradient(np.array(params), x, mean_spend)

    value, gradient = summed_log_likelihood(x, mean_spend)(np.array(params))

    assert value == pytest.approx(per_customer.sum(), rel=1e-12)
    for index in range(3):
        assert gradient[index] == pytest.approx(gradients[:, index].sum(), rel=1e-9), index


def test_fit_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    truth = {"p": 4.0, "q": 3.0, "gamma": 20.0}
    nu = rng.gamma(truth["q"], 1.0 / truth["gamma"], 5000)
    x = rng.integers(1, 8, 5000).astype(float)
    mean_spend = np.array(
        [
            rng.gamma(truth["p"], 1.0 / rate, int(count)).mean()
            for rate, count in zip(nu, x, strict=True)
        ]
    )

    model = GammaGammaModel().fit(x, mean_spend)

    for name, value in truth.items():
        assert model.params_[name] == pytest.approx(value, rel=0.1), name


def test_expected_spend_weighs_own_mean(repeat_buyers: pd.DataFrame) -> None:
    model = _fit(repeat_buyers)

    spend = model.expected_spend([0.0, 1.0, 20.0, 3.0], [0.0, 100.0, 100.0, -40.0])

    assert spend[0] == pytest.approx(model.mean_spend_)
    assert spend[0] < spend[1] < spend[2] < 100.0
    p, q, gamma = model.p_, model.q_, model.gamma_
    assert spend[3] == pytest.approx(p * gamma / (3 * p + q - 1))


def test_heavy_tail_raises() -> None:
    model = GammaGammaModel()
    model.p_, model.q_, model.gamma_ = 0.5, 0.8, 10.0

    assert model.mean_spend_ == float("inf")
    with pytest.raises(
        ValueError, match=re.escape("q = 0.8 gives customers with frequency 0 an infinite")
    ):
        model.expected_spend([2.0, 0.0], [10.0, 0.0])


def test_equal_spend_rejected() -> None:
    with pytest.raises(ValueError, match="got 3 with 1 distinct values"):
        GammaGammaModel().fit([1, 2, 3], [10.0, 10.0, 10.0])


@pytest.mark.parametrize(
    ("frequency", "monetary_value"),
    [([0.0, 2.0], [10.0, 12.0]), ([1.0, 2.0], [0.0, 12.0]), ([1.0, 2.0], [-5.0, 12.0])],
)
def test_fit_rejects_non_repeat_rows(frequency: list[float], monetary_value: list[float]) -> None:
    with pytest.raises(ValueError, match="needs finite values with x >= 1 and monetary_value > 0"):
        GammaGammaModel().fit(frequency, monetary_value)


def test_fit_without_convergence_raises(repeat_buyers: pd.DataFrame) -> None:
    with pytest.raises(ConvergenceError, match="did not converge from 1 start points"):
        _fit(repeat_buyers, max_iterations=1, restarts=0)
