"""Maximum likelihood on log-parameters, shared by the buy-till-you-die models.

Every parameter of these models is positive, so the optimiser works on their logs:
the search is unconstrained in practice, and a step can never produce a negative
shape or scale. The bounds on the logs only stop a parameter the data cannot
identify from running off to overflow, and a fit that ends on one is rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

FloatArray = npt.NDArray[np.float64]
LogLikelihood = Callable[[FloatArray], tuple[float, FloatArray]]
"""Maps log-parameters to the summed log-likelihood and its gradient in log-parameters."""

LOG_BOUND = 18.0
"""Bound on each log-parameter: exp(18) is about 6.6e7.

The largest value fitted on the bundled data is about 7.6e4 (alpha of Superstore in days).
"""

GRADIENT_TOLERANCE = 1e-5
"""Largest accepted gradient of the mean log-likelihood in any log-parameter."""

RESTART_SCALE = 1.0
"""Standard deviation of the random start points tried after a failed start, in log units."""


def frequency_levels(frequency: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Return the levels 0, 1, ..., max(frequency) and each customer's index into them.

    A special function of the frequency alone is then evaluated once per level and
    gathered with the index, because frequencies are whole numbers with far fewer
    distinct values than there are customers. The levels take max(frequency) + 1
    floats, which suits counts of purchase days (at most 366 a year).
    """
    index = frequency.astype(np.intp)
    levels = np.arange(int(index.max()) + 1 if index.size else 0, dtype=float)
    return levels, index


class ConvergenceError(RuntimeError):
    """Raised when maximum likelihood finds no interior optimum from any start point."""


@dataclass(frozen=True)
class FitResult:
    """The optimum: parameters, the unpenalised log-likelihood and the work it took."""

    params: FloatArray
    log_likelihood: float
    iterations: int
    starts: int


def maximize_log_likelihood(
    log_likelihood: LogLikelihood,
    names: tuple[str, ...],
    sample_size: int,
    *,
    l2_penalty: float = 0.0,
    max_iterations: int = 1000,
    restarts: int = 3,
    random_state: int | None = 0,
) -> FitResult:
    """Maximise `log_likelihood` over the parameters called `names`, all positive.

    The objective is the mean log-likelihood per customer minus `l2_penalty` times the
    sum of squared log-parameters, which pulls every parameter towards 1. The first
    start is all parameters at 1. After a failed start, up to `restarts` more start
    from points drawn with `random_state`. Raises `ConvergenceError` when none ends
    with a small gradient away from the bounds.
    """
    if sample_size < 1:
        raise ValueError("maximum likelihood needs at least one customer, got none")

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        value, gradient = log_likelihood(log_params)
        penalty = l2_penalty * float(log_params @ log_params)
        return (
            -value / sample_size + penalty,
            -gradient / sample_size + 2.0 * l2_penalty * log_params,
        )

    rng = np.random.default_rng(random_state)
    starts = [np.zeros(len(names))]
    failures: list[str] = []
    for attempt in range(restarts + 1):
        if attempt > 0:
            starts.append(rng.normal(0.0, RESTART_SCALE, size=len(names)))
        problem = _minimize_from(objective, starts[-1], names, max_iterations)
        if isinstance(problem, str):
            failures.append(problem)
            continue
        log_params, iterations = problem
        value, _ = log_likelihood(log_params)
        return FitResult(np.exp(log_params), value, iterations, attempt + 1)

    raise ConvergenceError(
        f"maximum likelihood did not converge from {len(starts)} start points: "
        + "; ".join(failures)
    )


def _minimize_from(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    start: FloatArray,
    names: tuple[str, ...],
    max_iterations: int,
) -> tuple[FloatArray, int] | str:
    """Run L-BFGS-B from `start`; return (log-parameters, iterations) or why it failed."""
    # L-BFGS-B makes BLAS calls on vectors of 3 or 4 numbers, where waking BLAS
    # threads costs far more than the arithmetic. On a busy 2-core machine a toy
    # 3-parameter run took 30 ms with threads and 0.5 ms without.
    with (
        threadpool_limits(limits=1, user_api="blas"),
        np.errstate(over="ignore", invalid="ignore", divide="ignore"),
    ):
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * len(names),
            options={"maxiter": max_iterations, "gtol": GRADIENT_TOLERANCE / 10, "ftol": 1e-15},
        )
        _, gradient = objective(result.x)

    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        return "the log-likelihood became NaN or infinite"
    at_bound = [
        name for name, value in zip(names, result.x, strict=True) if abs(value) >= LOG_BOUND - 1e-6
    ]
    if at_bound:
        return f"{', '.join(at_bound)} ran to {np.exp(LOG_BOUND):.3g} or {np.exp(-LOG_BOUND):.3g}"
    # L-BFGS-B can stop with a line-search warning at a point that is an optimum to
    # machine precision, so the gradient decides, not result.success alone.
    largest = float(np.max(np.abs(gradient)))
    if not result.success and largest > GRADIENT_TOLERANCE:
        return f"{result.message} after {result.nit} iterations (gradient {largest:.2g})"
    if largest > GRADIENT_TOLERANCE:
        return f"stopped with gradient {largest:.2g} after {result.nit} iterations"
    return result.x, int(result.nit)
