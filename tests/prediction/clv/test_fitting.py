from __future__ import annotations

import re

import numpy as np
import pytest

from server.prediction.clv.fitting import (
    ConvergenceError,
    FloatArray,
    maximize_log_likelihood,
)


def _bowl(center: float) -> object:
    """A log-likelihood with its maximum at log-parameters equal to `center`."""

    def log_likelihood(log_params: FloatArray) -> tuple[float, FloatArray]:
        offset = log_params - center
        return float(-(offset @ offset)), -2.0 * offset

    return log_likelihood


def _broken_at_start(log_params: FloatArray) -> tuple[float, FloatArray]:
    # NaN at the first start point only, so that only a random restart can succeed.
    if np.all(log_params == 0.0):
        return float("nan"), np.full_like(log_params, np.nan)
    offset = log_params - 0.5
    return float(-(offset @ offset)), -2.0 * offset


def test_finds_interior_maximum() -> None:
    result = maximize_log_likelihood(_bowl(0.7), ("u", "v"), 1)  # type: ignore[arg-type]

    assert np.allclose(result.params, np.exp(0.7), rtol=1e-5)
    assert result.starts == 1


def test_restart_recovers_from_failed_start() -> None:
    result = maximize_log_likelihood(_broken_at_start, ("u",), 1, random_state=3)

    assert result.starts == 2
    assert result.params[0] == pytest.approx(np.exp(0.5), rel=1e-5)


def test_restarts_are_seeded() -> None:
    first = maximize_log_likelihood(_broken_at_start, ("u",), 1, random_state=3)
    second = maximize_log_likelihood(_broken_at_start, ("u",), 1, random_state=3)

    assert first.params[0] == second.params[0]
    assert first.iterations == second.iterations


def test_optimum_beyond_bound_rejected() -> None:
    with pytest.raises(ConvergenceError, match=re.escape("u ran to 6.57e+07 or 1.52e-08")):
        maximize_log_likelihood(_bowl(40.0), ("u",), 1, restarts=0)  # type: ignore[arg-type]


def test_penalty_moves_optimum_towards_one() -> None:
    result = maximize_log_likelihood(_bowl(1.0), ("u",), 1, l2_penalty=1.0)  # type: ignore[arg-type]

    # Maximising -(u - 1)^2 - u^2 puts u at 0.5.
    assert result.params[0] == pytest.approx(np.exp(0.5), rel=1e-5)


def test_empty_sample_rejected() -> None:
    with pytest.raises(ValueError, match="at least one customer, got none"):
        maximize_log_likelihood(_bowl(0.0), ("u",), 0)  # type: ignore[arg-type]
