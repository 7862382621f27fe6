from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from server.prediction.base import ParameterError
from server.prediction.clv.parameters import CLVParameters, validate_parameters


def test_defaults_filled_in() -> None:
    assert validate_parameters({"source": " cdnow "}) == CLVParameters(
        source="cdnow",
        horizon_months=12,
        calibration_end=None,
        monthly_discount_rate=0.01,
        high_value_percent=20.0,
        time_unit="weeks",
        seed=0,
    )


def test_calibration_end_accepts_dates() -> None:
    from_text = validate_parameters({"source": "s", "calibration_end": "1997-09-30"})
    from_date = validate_parameters({"source": "s", "calibration_end": date(1997, 9, 30)})

    assert from_text.calibration_end == "1997-09-30"
    assert from_date.calibration_end == "1997-09-30"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("source", None, "is required"),
        ("source", " ", "non-empty order-line source"),
        ("horizon_months", 0, "from 1 to 120 months, got 0"),
        ("horizon_months", 6.5, "whole number of months"),
        ("horizon_months", True, "whole number of months"),
        ("calibration_end", "30/09/1997", "date as YYYY-MM-DD, got '30/09/1997'"),
        ("monthly_discount_rate", 1.0, "up to but excluding 1, got 1.0"),
        ("monthly_discount_rate", -0.01, "from 0 (no discount)"),
        ("monthly_discount_rate", float("nan"), "from 0 (no discount)"),
        ("high_value_percent", 100, "above 0 and below 100"),
        ("high_value_percent", "20", "above 0 and below 100"),
        ("time_unit", "years", "one of days, weeks, months, got 'years'"),
        ("seed", -1, "whole number from 0 to 4294967295"),
    ],
)
def test_bad_value_named(name: str, value: Any, message: str) -> None:
    raw = {"source": "cdnow", name: value}

    with pytest.raises(ParameterError) as raised:
        validate_parameters(raw)

    assert list(raised.value.problems) == [name]
    assert message in raised.value.problems[name]


def test_every_problem_listed() -> None:
    with pytest.raises(ParameterError) as raised:
        validate_parameters({"horizon_months": 0, "colour": "red"})

    assert set(raised.value.problems) == {"source", "horizon_months", "colour"}
    assert raised.value.problems["colour"].startswith("unknown parameter; valid: calibration_end")
