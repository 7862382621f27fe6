from __future__ import annotations

from typing import Any

import pytest

from server.prediction.base import ParameterError
from server.prediction.transactional_churn import TransactionalChurn

KIND = TransactionalChurn()


def test_parameters_get_defaults() -> None:
    assert KIND.validate_parameters({"source": "cdnow"}) == {
        "source": "cdnow",
        "churn_definition_days": 180,
        "prediction_window_days": 90,
        "threshold": 0.5,
        "seed": 0,
    }


def test_integer_threshold_becomes_float() -> None:
    assert KIND.validate_parameters({"source": "cdnow", "threshold": 1})["threshold"] == 1.0


@pytest.mark.parametrize(
    ("raw", "name", "reason"),
    [
        ({}, "source", "is required"),
        ({"source": "  "}, "source", "non-empty"),
        ({"source": "x", "churn_definition_days": 0}, "churn_definition_days", "from 1 to 3650"),
        ({"source": "x", "prediction_window_days": 90.5}, "prediction_window_days", "whole"),
        ({"source": "x", "prediction_window_days": True}, "prediction_window_days", "whole"),
        ({"source": "x", "threshold": 1.5}, "threshold", "from 0 to 1, got 1.5"),
        ({"source": "x", "threshold": float("nan")}, "threshold", "from 0 to 1"),
        ({"source": "x", "threshold": "high"}, "threshold", "must be a number"),
        ({"source": "x", "seed": -1}, "seed", "from 0 to 4294967295"),
        ({"source": "x", "treshold": 0.4}, "treshold", "unknown parameter; valid: "),
    ],
)
def test_bad_parameter_is_named(raw: dict[str, Any], name: str, reason: str) -> None:
    with pytest.raises(ParameterError) as caught:
        KIND.validate_parameters(raw)

    assert list(caught.value.problems) == [name]
    assert reason in caught.value.problems[name]


def test_every_bad_parameter_is_listed() -> None:
    with pytest.raises(ParameterError) as caught:
        KIND.validate_parameters({"threshold": -0.1, "seed": "zero"})

    assert sorted(caught.value.problems) == ["seed", "source", "threshold"]
