"""The Gamma-Gamma model of spend per purchase.

Source: P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma model of monetary
value", a technical note. A customer's purchases have amounts
z ~ Gamma(p, nu), with nu ~ Gamma(q, gamma) across customers, independent of how
often the customer buys. The sum of x purchases is Gamma(p x, nu), so the mean m of
x purchases has, after nu is integrated out, the density

    f(m | x) = Gamma(p x + q) / (Gamma(p x) Gamma(q))
               * gamma^q x^(p x) m^(p x - 1) / (gamma + x m)^(p x + q).

The model is fitted on repeat buyers, with x the number of repeat purchases and m
their mean spend (`frequency` and `monetary_value` of the summary).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from server.prediction.clv.fitting import FloatArray, frequency_levels, maximize_log_likelihood

PARAMETER_NAMES = ("p", "q", "gamma")


def _check_spend(
    frequency: npt.ArrayLike, monetary_value: npt.ArrayLike, *, fitting: bool
) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(frequency, dtype=float)
    mean_spend = np.asarray(monetary_value, dtype=float)
    if x.shape != mean_spend.shape or x.ndim != 1:
        raise ValueError(
            "frequency and monetary_value must be 1-D arrays of one length, got shapes "
            f"{x.shape} and {mean_spend.shape}"
        )

    minimum = 1 if fitting else 0
    bad = ~np.isfinite(x) | ~np.isfinite(mean_spend) | (x < minimum) | (x != np.round(x))
    if fitting:
        bad |= mean_spend <= 0
    if bad.any():
        row = int(np.argmax(bad))
        need = "x >= 1 and monetary_value > 0" if fitting else "x >= 0"
        raise ValueError(
            f"customer at row {row} has frequency={x[row]} and monetary_value="
            f"{mean_spend[row]}; the Gamma-Gamma model needs finite values with {need}"
        )
    return x, mean_spend


def _log_likelihood_and_gradient(
    params: FloatArray, x: FloatArray, mean_spend: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return each customer's log-likelihood and its gradient in (p, q, gamma), shape (n, 3)."""
    p, q, gamma = params
    levels, index = frequency_levels(x)
    shape = p * x
    log_total = np.log(gamma + x * mean_spend)
    # Frequencies are whole numbers with few distinct values, so the special
    # functions of p x are evaluated once per value.
    log_x = np.log(np.maximum(levels, 1.0))[index]
    log_likelihood = (
        gammaln(p * levels + q)[index]
        - gammaln(p * np.maximum(levels, 1.0))[index]
        - gammaln(q)
        + q * np.log(gamma)
        + shape * log_x
        + (shape - 1.0) * np.log(mean_spend)
        - (shape + q) * log_total
    )

    digamma_total = digamma(p * levels + q)[index]
    gradient = np.column_stack(
        [
            x
            * (
                digamma_total
                - digamma(p * np.maximum(levels, 1.0))[index]
                + log_x
                + np.log(mean_spend)
                - log_total
            ),
            digamma_total - digamma(q) + np.log(gamma) - log_total,
            q / gamma - (shape + q) / (gamma + x * mean_spend),
        ]
    )
    return log_likelihood, gradient


def summed_log_likelihood(
    x: FloatArray, mean_spend: FloatArray
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Return a function of (p, q, gamma) giving the summed log-likelihood and its gradient.

    It equals summing `_log_likelihood_and_gradient` over customers (for x >= 1). The
    terms in x and m alone are summed once here, and those in p x once per frequency
    level, so an evaluation makes a few passes over the customers, not about thirty.
    """
    levels, index = frequency_levels(x)
    level_counts = np.bincount(index, minlength=len(levels)).astype(float)
    used = level_counts > 0
    levels, level_counts = levels[used], level_counts[used]
    count = float(len(x))
    log_x = np.log(x)
    log_spend = np.log(mean_spend)
    sum_x_log_x = float(x @ log_x)
    sum_x_log_spend = float(x @ log_spend)
    sum_log_spend = float(log_spend.sum())
    total_spend = x * mean_spend

    def evaluate(params: FloatArray) -> tuple[float, FloatArray]:
        p, q, gamma = params
        total = gamma + total_spend
        log_total = np.log(total)
        inverse = 1.0 / total
        sum_x_log_total = float(x @ log_total)
        sum_log_total = float(log_total.sum())

        value = (
            level_counts @ (gammaln(p * levels + q) - gammaln(p * levels))
            - count * (gammaln(q) - q * np.log(gamma))
            + p * (sum_x_log_x + sum_x_log_spend)
            - sum_log_spend
            - p * sum_x_log_total
            - q * sum_log_total
        )
        digamma_total = digamma(p * levels + q)
        gradient = np.array(
            [
                level_counts @ (levels * (digamma_total - digamma(p * levels)))
                + sum_x_log_x
                + sum_x_log_spend
                - sum_x_log_total,
                level_counts @ digamma_total - count * (digamma(q) - np.log(gamma)) - sum_log_total,
                count * q / gamma - p * float(x @ inverse) - q * float(inverse.sum()),
            ]
        )
        return float(value), gradient

    return evaluate


class GammaGammaModel:
    """Gamma-Gamma spend estimator in scikit-learn's manner, fitted by maximum likelihood.

    Parameters
    ----------
    l2_penalty
        Weight of the sum of squared log-parameters subtracted from the mean
        log-likelihood per customer. 0 (the default) is plain maximum likelihood.
    max_iterations
        Iteration limit of each L-BFGS-B run.
    restarts
        Random start points tried after the first start fails.
    random_state
        Seed of the random start points.

    Attributes
    ----------
    p_, q_, gamma_
        The fitted parameters. `gamma_` is in the currency of the amounts.
    log_likelihood_
        The summed log-likelihood at the fitted parameters, without the penalty.
    n_customers_, n_iterations_
        Repeat buyers the model was fitted on, and L-BFGS-B iterations of the run kept.
    """

    def __init__(
        self,
        l2_penalty: float = 0.0,
        max_iterations: int = 1000,
        restarts: int = 3,
        random_state: int | None = 0,
    ) -> None:
        self.l2_penalty = l2_penalty
        self.max_iterations = max_iterations
        self.restarts = restarts
        self.random_state = random_state

    def fit(self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> Self:
        """Fit on repeat buyers only; raise `ConvergenceError` when no optimum is found.

        Raises ValueError for a row with frequency < 1 or monetary_value <= 0, and
        when fewer than two customers remain or all of them spent the same mean,
        because then the spread between customers cannot be estimated.
        """
        x, mean_spend = _check_spend(frequency, monetary_value, fitting=True)
        if len(x) < 2 or np.ptp(mean_spend) == 0:
            raise ValueError(
                f"the Gamma-Gamma model needs at least two repeat buyers with different "
                f"mean spend, got {len(x)} with {np.unique(mean_spend).size} distinct values"
            )

        summed = summed_log_likelihood(x, mean_spend)

        def log_likelihood(log_params: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(log_params)
            value, gradient = summed(params)
            return value, gradient * params

        result = maximize_log_likelihood(
            log_likelihood,
            PARAMETER_NAMES,
            len(x),
            l2_penalty=self.l2_penalty,
            max_iterations=self.max_iterations,
            restarts=self.restarts,
            random_state=self.random_state,
        )
        self.p_, self.q_, self.gamma_ = (float(value) for value in result.params)
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = len(x)
        self.n_iterations_ = result.iterations
        return self

    @property
    def params_(self) -> dict[str, float]:
        """The fitted parameters by name."""
        return {"p": self.p_, "q": self.q_, "gamma": self.gamma_}

    def _params(self) -> FloatArray:
        if not hasattr(self, "p_"):
            raise RuntimeError("this GammaGammaModel is not fitted yet; call fit first")
        return np.array([self.p_, self.q_, self.gamma_])

    def log_likelihood(self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> FloatArray:
        """Return each repeat buyer's log-likelihood under the fitted parameters."""
        x, mean_spend = _check_spend(frequency, monetary_value, fitting=True)
        values, _ = _log_likelihood_and_gradient(self._params(), x, mean_spend)
        return values

    @property
    def mean_spend_(self) -> float:
        """The population mean spend per purchase, p gamma / (q - 1); infinite when q <= 1."""
        p, q, gamma = self._params()
        return float(p * gamma / (q - 1.0)) if q > 1.0 else float("inf")

    def expected_spend(self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> FloatArray:
        """Return each customer's expected spend per future purchase.

        It is p (gamma + x m) / (p x + q - 1), a weighted mean of the population mean
        and the customer's own mean m. A customer with x = 0 gets the population mean.
        A negative m (returns larger than repeat purchases) counts as 0. Raises
        ValueError when q <= 1 and a customer has too few purchases for a finite mean.
        """
        x, mean_spend = _check_spend(frequency, monetary_value, fitting=False)
        p, q, gamma = self._params()
        denominator = p * x + q - 1.0
        if (denominator <= 0).any():
            row = int(np.argmax(denominator <= 0))
            raise ValueError(
                f"the fitted q = {q:.3g} gives customers with frequency {x[row]:g} an "
                "infinite expected spend: spend per purchase is too heavy-tailed for "
                "the Gamma-Gamma model"
            )
        return np.asarray(p * (gamma + x * np.clip(mean_spend, 0.0, None)) / denominator)
