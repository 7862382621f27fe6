from __future__ import annotations

import pandas as pd
import pytest

from server.prediction.transactional_churn.features import FEATURES, build_features
from server.prediction.transactional_churn.orders import OrderHistory
from tests.prediction.transactional_churn.conftest import (
    CUTOFF,
    WINDOW_DAYS,
    random_lines,
    reference_features,
)


def _features(lines: pd.DataFrame, cutoff: pd.Timestamp = CUTOFF) -> pd.DataFrame:
    return build_features(OrderHistory.from_order_lines(lines), cutoff, WINDOW_DAYS)


def test_features_of_hand_history(hand_lines: pd.DataFrame) -> None:
    features = _features(hand_lines)
    a = features.loc["a"]

    assert list(features.columns) == list(FEATURES)
    assert list(features.index) == ["a", "b", "c", "e", "f", "g", "h"]
    assert a["recency"] == 11
    assert a["frequency"] == 2
    assert a["T"] == 90
    assert a["monetary_value"] == pytest.approx(65 / 3)
    assert a["total_spend"] == 65
    assert a["items_per_purchase"] == pytest.approx(5 / 3)
    assert a["interpurchase_mean_days"] == 39.5
    assert a["interpurchase_std_days"] == 5.5
    assert a["recency_to_interpurchase"] == pytest.approx(11 / 39.5)
    assert a["recent_purchases"] == 1
    assert a["recent_spend"] == 30
    assert a["spend_trend"] == pytest.approx(0.2)
    assert a["return_count"] == 1
    assert a["return_amount"] == 8


def test_features_of_single_purchase(hand_lines: pd.DataFrame) -> None:
    b = _features(hand_lines).loc["b"]

    assert b["recency"] == 121
    assert b["T"] == 121
    assert b["frequency"] == 0
    assert b["interpurchase_mean_days"] == 0
    assert b["interpurchase_std_days"] == 0
    assert b["recency_to_interpurchase"] == 0
    assert b["spend_trend"] == 0


def test_features_window_edges(hand_lines: pd.DataFrame) -> None:
    features = _features(hand_lines)

    # e bought exactly W days before the cutoff: that is the earlier window, not recent.
    assert features.loc["e", "recent_purchases"] == 0
    assert features.loc["e", "spend_trend"] == -1
    # f bought on the cutoff day, which counts, after a return that is not a purchase.
    assert features.loc["f", "recency"] == 0
    assert features.loc["f", "frequency"] == 0
    assert features.loc["f", "return_amount"] == 5
    assert features.loc["h", "monetary_value"] == 0


def test_features_ignore_later_orders(hand_lines: pd.DataFrame) -> None:
    before = hand_lines[hand_lines["order_date"] <= CUTOFF]

    pd.testing.assert_frame_equal(_features(hand_lines), _features(before))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_match_reference(seed: int) -> None:
    lines = random_lines(seed)
    cutoff = pd.Timestamp("2024-06-30")

    expected = reference_features(lines, cutoff, WINDOW_DAYS)
    actual = _features(lines, cutoff)

    pd.testing.assert_frame_equal(
        actual.rename_axis(None), expected.loc[:, list(FEATURES)], check_exact=False, rtol=1e-9
    )
