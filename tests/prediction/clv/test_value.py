from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from server.prediction.clv.bgnbd import BGNBDModel
from server.prediction.clv.summary import DAYS_PER_MONTH
from server.prediction.clv.value import (
    cumulative_purchases,
    customer_value,
    discounted_purchases,
    month_ends,
)

CUSTOMERS = {"frequency": [0.0, 2.0, 10.0], "recency": [0.0, 30.43, 35.0], "T": [20.0, 38.86, 38.0]}


@pytest.fixture(scope="module")
def model(cdnow_calibration: pd.DataFrame) -> BGNBDModel:
    summary = cdnow_calibration
    return BGNBDModel().fit(summary["frequency"], summary["recency"], summary["T"])


def _cumulative(model: BGNBDModel, horizon_months: float) -> np.ndarray:
    return cumulative_purchases(
        model, *CUSTOMERS.values(), horizon_months=horizon_months, unit_days=7.0
    )


def test_month_ends_with_partial_month() -> None:
    assert month_ends(3).tolist() == [1.0, 2.0, 3.0]
    assert month_ends(2.5).tolist() == [1.0, 2.0, 2.5]


@pytest.mark.parametrize("horizon", [0.0, -1.0, float("nan")])
def test_month_ends_rejects_bad_horizon(horizon: float) -> None:
    with pytest.raises(ValueError, match="positive number of months"):
        month_ends(horizon)


def test_last_step_is_whole_horizon(model: BGNBDModel) -> None:
    cumulative = _cumulative(model, 12)

    direct = model.expected_purchases(12 * DAYS_PER_MONTH / 7, *CUSTOMERS.values())
    assert cumulative.shape == (3, 12)
    assert np.allclose(cumulative[:, -1], direct, rtol=1e-12)


def test_zero_rate_sums_months(model: BGNBDModel) -> None:
    cumulative = _cumulative(model, 12)

    assert np.allclose(discounted_purchases(cumulative, 12, 0.0), cumulative[:, -1], rtol=1e-12)


def test_discount_by_hand(model: BGNBDModel) -> None:
    cumulative = _cumulative(model, 2)
    first, second = cumulative[:, 0], cumulative[:, 1] - cumulative[:, 0]

    discounted = discounted_purchases(cumulative, 2, 0.05)

    assert np.allclose(discounted, first / 1.05 + second / 1.05**2, rtol=1e-12)


def test_discount_lowers_value(model: BGNBDModel) -> None:
    cumulative = _cumulative(model, 24)

    low = discounted_purchases(cumulative, 24, 0.01)
    high = discounted_purchases(cumulative, 24, 0.05)

    assert np.all(high < low)
    assert np.all(low < cumulative[:, -1])


def test_negative_rate_rejected(model: BGNBDModel) -> None:
    with pytest.raises(
        ValueError, match=re.escape("monthly discount rate must be a number >= 0, got -0.1")
    ):
        discounted_purchases(_cumulative(model, 2), 2, -0.1)


def test_value_zero_without_net_spend() -> None:
    value = customer_value([2.0, 2.0, 2.0], [30.0, 30.0, 30.0], [100.0, 0.0, -15.0])

    assert value.tolist() == [60.0, 0.0, 0.0]
