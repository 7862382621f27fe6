from __future__ import annotations

import pandas as pd
import pytest

from server.prediction.transactional_churn.labels import churn_labels
from server.prediction.transactional_churn.orders import OrderHistory
from tests.prediction.transactional_churn.conftest import (
    CUTOFF,
    DEFINITION_DAYS,
    WINDOW_DAYS,
    random_lines,
    reference_labels,
)


def test_labels_of_hand_history(hand_lines: pd.DataFrame) -> None:
    history = OrderHistory.from_order_lines(hand_lines)

    labels = churn_labels(history, CUTOFF, WINDOW_DAYS, DEFINITION_DAYS)

    assert labels.to_dict() == {
        "a": False,
        "b": True,
        "c": False,
        "e": True,
        "f": False,
        "g": False,
        "h": True,
    }


@pytest.mark.parametrize(
    ("seed", "window", "definition"), [(0, 90, 180), (1, 90, 90), (2, 120, 60), (3, 30, 365)]
)
def test_labels_match_reference(seed: int, window: int, definition: int) -> None:
    lines = random_lines(seed)
    cutoff = pd.Timestamp("2024-03-15")
    history = OrderHistory.from_order_lines(lines)

    labels = churn_labels(history, cutoff, window, definition)

    assert labels.to_dict() == reference_labels(lines, cutoff, window, definition)
    assert labels.any()
    assert not labels.all()
