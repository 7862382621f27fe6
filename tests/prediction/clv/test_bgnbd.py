from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, hyp2f1, roots_jacobi

from server.prediction.clv.bgnbd import (
    BGNBDModel,
    _integrate_if_alive,
    _log_likelihood_and_gradient,
    expected_purchases_if_alive,
)
from server.prediction.clv.fitting import ConvergenceError, FloatArray

# Fader, Hardie and Lee (2005), CDNOW 1/10 cohort, 39-week calibration, weeks.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4


def _fit(summary: pd.DataFrame, **settings: float) -> BGNBDModel:
    return BGNBDModel(**settings).fit(summary["frequency"], summary["recency"], summary["T"])  # type: ignore[arg-type]


def _with_params(params: dict[str, float]) -> BGNBDModel:
    model = BGNBDModel()
    model.r_, model.alpha_, model.a_, model.b_ = (params[name] for name in ("r", "alpha", "a", "b"))
    return model


def _expected_purchases_direct(
    params: dict[str, float], t: float, x: float, t_x: float, age: float
) -> float:
    """Equation (10) of Fader, Hardie and Lee (2005) as printed, without any rewriting."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    z = t / (alpha + age + t)
    power = ((alpha + age) / (alpha + age + t)) ** (r + x)
    bracket = 1.0 - power * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
    odds = (a / (b + x - 1.0)) * ((alpha + age) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return float((a + b + x - 1.0) / (a - 1.0) * bracket / (1.0 + odds))


def _simulate(
    params: dict[str, float], customers: int, seed: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw (frequency, recency, T) from the BG/NBD process itself."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], customers)
    dropout = rng.beta(params["a"], params["b"], customers)
    age = rng.uniform(26.0, 52.0, customers)
    x = np.zeros(customers)
    t_x = np.zeros(customers)
    clock = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        clock[active] += rng.exponential(1.0, active.sum()) / rate[active]
        active &= clock <= age
        x[active] += 1
        t_x[active] = clock[active]
        active &= rng.uniform(size=customers) >= dropout
    return x, t_x, age


def test_fit_matches_published_parameters(cdnow_calibration: pd.DataFrame) -> None:
    model = _fit(cdnow_calibration)

    for name, published in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(published, abs=0.005), name


def test_fit_matches_published_log_likelihood(cdnow_calibration: pd.DataFrame) -> None:
    model = _fit(cdnow_calibration)

    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.1)
    per_customer = model.log_likelihood(
        cdnow_calibration["frequency"], cdnow_calibration["recency"], cdnow_calibration["T"]
    )
    assert per_customer.sum() == pytest.approx(model.log_likelihood_, rel=1e-12)


def test_published_expected_purchases(cdnow_calibration: pd.DataFrame) -> None:
    model = _fit(cdnow_calibration)

    expected = model.expected_purchases(39.0, [2.0], [30.43], [38.86])

    assert expected[0] == pytest.approx(1.226, abs=0.001)


def test_gradient_matches_finite_differences(cdnow_calibration: pd.DataFrame) -> None:
    x, t_x, age = (cdnow_calibration[name].to_numpy() for name in ("frequency", "recency", "T"))
    params = np.array([0.3, 4.0, 0.8, 2.5])

    _, gradient = _log_likelihood_and_gradient(params, x, t_x, age)

    for index in range(4):
        step = np.zeros(4)
        step[index] = 1e-6
        upper, _ = _log_likelihood_and_gradient(params + step, x, t_x, age)
        lower, _ = _log_likelihood_and_gradient(params - step, x, t_x, age)
        numeric = (upper.sum() - lower.sum()) / 2e-6
        assert gradient[:, index].sum() == pytest.approx(numeric, rel=1e-6), index


@pytest.mark.parametrize(
    ("params", "t", "x", "t_x", "age"),
    [
        (PUBLISHED, 39.0, 2.0, 30.43, 38.86),
        (PUBLISHED, 39.0, 0.0, 0.0, 38.86),
        (PUBLISHED, 104.0, 50.0, 200.0, 208.0),
        (PUBLISHED, 39.0, 0.0, 0.0, 0.0),
        ({"r": 77.8, "alpha": 2405.4, "a": 3.3e-5, "b": 1541.3}, 52.0, 10.0, 200.0, 208.0),
        ({"r": 2.0, "alpha": 10.0, "a": 3.0, "b": 0.5}, 500.0, 1.0, 1.0, 400.0),
    ],
)
def test_expected_purchases_matches_direct_formula(
    params: dict[str, float], t: float, x: float, t_x: float, age: float
) -> None:
    model = _with_params(params)

    rewritten = model.expected_purchases(t, [x], [t_x], [age])[0]

    assert rewritten == pytest.approx(_expected_purchases_direct(params, t, x, t_x, age), rel=1e-9)


def _if_alive_by_gauss_jacobi(shape: float, a: float, b_posterior: float, scaled_t: float) -> float:
    """E[(1 - (1 + p s)^-shape) / p] for p ~ Beta(a, b_posterior), by 300-node Gauss-Jacobi."""
    nodes, weights = roots_jacobi(300, b_posterior - 1.0, a - 1.0)
    p = (nodes + 1.0) / 2.0
    purchases = -np.expm1(-shape * np.log1p(p * scaled_t)) / p
    log_scale = -(a + b_posterior - 1.0) * np.log(2.0) - betaln(a, b_posterior)
    return float(np.sum(weights * purchases) * np.exp(log_scale))


@pytest.mark.parametrize(
    ("r", "a", "b", "x", "scaled_t"),
    [(0.243, 0.793, 2.426, 2.0, 1.0), (0.3, 0.2, 0.3, 0.0, 99.0), (60.6, 1.23, 88.3, 100.0, 0.06)],
)
def test_integral_matches_hypergeometric(
    r: float, a: float, b: float, x: float, scaled_t: float
) -> None:
    # With alpha + T = 1, t equals scaled_t.
    closed_form = expected_purchases_if_alive(
        r, 1.0, a, b, np.array([x]), np.array([0.0]), np.array([scaled_t])
    )[0]

    integrated = _integrate_if_alive(r + x, a, b + x, scaled_t)

    assert integrated == pytest.approx(closed_form, rel=1e-7)


def test_integral_used_where_hypergeometric_fails() -> None:
    r, alpha, a, b, x, age, t = 2.0, 10.0, 3.0, 0.5, 500.0, 2.0, 520.0
    w = t / (alpha + age + t)
    assert not np.isfinite(hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, w))

    value = expected_purchases_if_alive(
        r, alpha, a, b, np.array([x]), np.array([age]), np.array([t])
    )[0]

    reference = _if_alive_by_gauss_jacobi(r + x, a, b + x, t / (alpha + age))
    assert value == pytest.approx(reference, rel=1e-8)


def test_expected_purchases_near_a_equal_one() -> None:
    below = _with_params({"r": 0.5, "alpha": 5.0, "a": 1.0 - 1e-4, "b": 2.0})
    at_one = _with_params({"r": 0.5, "alpha": 5.0, "a": 1.0, "b": 2.0})
    above = _with_params({"r": 0.5, "alpha": 5.0, "a": 1.0 + 1e-4, "b": 2.0})

    values = [m.expected_purchases(20.0, [3.0], [10.0], [30.0])[0] for m in (below, at_one, above)]

    assert np.all(np.isfinite(values))
    assert values[1] == pytest.approx((values[0] + values[2]) / 2, rel=1e-4)


def test_expected_purchases_grow_with_horizon(cdnow_calibration: pd.DataFrame) -> None:
    model = _fit(cdnow_calibration)
    horizons = np.array([1.0, 10.0, 52.0, 520.0])

    expected = model.expected_purchases(
        horizons, np.full(4, 3.0), np.full(4, 20.0), np.full(4, 30.0)
    )

    assert np.all(np.diff(expected) > 0)


def test_probability_alive_rules(cdnow_calibration: pd.DataFrame) -> None:
    model = _fit(cdnow_calibration)

    alive = model.probability_alive([0.0, 3.0, 3.0], [0.0, 30.0, 2.0], [38.0, 30.0, 38.0])

    assert alive[0] == 1.0
    assert 0.0 < alive[2] < alive[1] <= 1.0


def test_fit_recovers_simulated_parameters() -> None:
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 3.0}
    x, t_x, age = _simulate(truth, customers=20_000, seed=7)

    model = BGNBDModel().fit(x, t_x, age)

    # The beta parameters are the least precise: over seeds 0 to 4 they land within
    # 16% of the truth, while the mean rate and mean dropout land within 5%.
    assert model.r_ == pytest.approx(truth["r"], rel=0.1)
    assert model.alpha_ == pytest.approx(truth["alpha"], rel=0.1)
    assert model.a_ == pytest.approx(truth["a"], rel=0.25)
    assert model.b_ == pytest.approx(truth["b"], rel=0.25)
    assert model.r_ / model.alpha_ == pytest.approx(truth["r"] / truth["alpha"], rel=0.05)
    mean_dropout = truth["a"] / (truth["a"] + truth["b"])
    assert model.a_ / (model.a_ + model.b_) == pytest.approx(mean_dropout, rel=0.05)


def test_time_unit_changes_only_alpha(cdnow_calibration: pd.DataFrame) -> None:
    weeks = _fit(cdnow_calibration)
    in_days = cdnow_calibration.assign(
        recency=cdnow_calibration["recency"] * 7, T=cdnow_calibration["T"] * 7
    )

    days = _fit(in_days)

    assert days.alpha_ == pytest.approx(weeks.alpha_ * 7, rel=1e-3)
    assert days.r_ == pytest.approx(weeks.r_, rel=1e-3)
    assert days.b_ == pytest.approx(weeks.b_, rel=1e-3)


def test_l2_penalty_pulls_towards_one(cdnow_calibration: pd.DataFrame) -> None:
    plain = _fit(cdnow_calibration)
    penalised = _fit(cdnow_calibration, l2_penalty=0.1)

    plain_size = np.abs(np.log(list(plain.params_.values()))).sum()
    penalised_size = np.abs(np.log(list(penalised.params_.values()))).sum()
    assert penalised_size < plain_size
    assert penalised.log_likelihood_ < plain.log_likelihood_


def test_fit_without_convergence_raises(cdnow_calibration: pd.DataFrame) -> None:
    with pytest.raises(ConvergenceError, match="did not converge from 3 start points"):
        _fit(cdnow_calibration, max_iterations=1, restarts=2)


def test_fit_without_repeat_purchases_raises() -> None:
    with pytest.raises(ValueError, match="none of the 3 customers has a repeat purchase"):
        BGNBDModel().fit([0, 0, 0], [0, 0, 0], [5, 6, 7])


@pytest.mark.parametrize(
    ("frequency", "recency", "age", "message"),
    [
        ([1.0, -1.0], [1.0, 0.0], [2.0, 2.0], "row 1 has a frequency that is not a whole"),
        ([1.5], [1.0], [2.0], "row 0 has a frequency that is not a whole"),
        ([1.0], [3.0], [2.0], "row 0 has a recency larger than T"),
        ([1.0], [float("nan")], [2.0], "row 0 is not finite"),
        ([1.0, 2.0], [1.0], [2.0], "must be 1-D arrays of one length"),
    ],
)
def test_bad_rows_named(
    frequency: list[float], recency: list[float], age: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BGNBDModel().fit(frequency, recency, age)


def test_unfitted_model_raises() -> None:
    with pytest.raises(RuntimeError, match="not fitted yet"):
        BGNBDModel().probability_alive([1.0], [1.0], [2.0])
