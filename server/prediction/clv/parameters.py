"""Parameters of a customer lifetime value prediction and their validation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, TypeGuard

from server.prediction.base import ParameterError
from server.prediction.clv.summary import TIME_UNITS

MAX_HORIZON_MONTHS = 120
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class CLVParameters:
    """Validated parameters; see `validate_parameters` for their meaning and ranges."""

    source: str
    horizon_months: int = 12
    calibration_end: str | None = None
    monthly_discount_rate: float = 0.01
    high_value_percent: float = 20.0
    time_unit: str = "weeks"
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_number(raw: object) -> TypeGuard[float]:
    return isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw)


def _check_source(raw: object, problems: dict[str, str]) -> None:
    if raw is None:
        problems["source"] = "is required: the order-line source to train on, such as 'cdnow'"
    elif not isinstance(raw, str) or not raw.strip():
        problems["source"] = f"must be a non-empty order-line source name, got {raw!r}"


def _check_horizon(raw: object, problems: dict[str, str]) -> None:
    if isinstance(raw, bool) or not isinstance(raw, int):
        problems["horizon_months"] = (
            f"must be a whole number of months from 1 to {MAX_HORIZON_MONTHS}, got {raw!r}"
        )
    elif not 1 <= raw <= MAX_HORIZON_MONTHS:
        problems["horizon_months"] = f"must be from 1 to {MAX_HORIZON_MONTHS} months, got {raw}"


def _parse_calibration_end(raw: object, problems: dict[str, str]) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    problems["calibration_end"] = f"must be a date as YYYY-MM-DD, got {raw!r}"
    return None


def _check_discount_rate(raw: object, problems: dict[str, str]) -> None:
    if not _is_number(raw) or not 0 <= raw < 1:
        problems["monthly_discount_rate"] = (
            f"must be a number from 0 (no discount) up to but excluding 1, got {raw!r}"
        )


def _check_percent(raw: object, problems: dict[str, str]) -> None:
    if not _is_number(raw) or not 0 < raw < 100:
        problems["high_value_percent"] = (
            f"must be a percentage above 0 and below 100, such as 20, got {raw!r}"
        )


def _check_time_unit(raw: object, problems: dict[str, str]) -> None:
    if raw not in TIME_UNITS:
        problems["time_unit"] = f"must be one of {', '.join(TIME_UNITS)}, got {raw!r}"


def _check_seed(raw: object, problems: dict[str, str]) -> None:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_SEED:
        problems["seed"] = f"must be a whole number from 0 to {MAX_SEED}, got {raw!r}"


def validate_parameters(raw: Mapping[str, Any]) -> CLVParameters:
    """Check `raw` and fill in defaults; raise `ParameterError` naming every bad parameter.

    `source` (required) is the order-line source to train on. `horizon_months`
    (default 12, from 1 to 120) is how far ahead CLVScore counts purchases.
    `calibration_end` (a date, default chosen from the data when the run starts) ends
    the calibration period, and the order lines after it form the holdout that grades
    the model. `monthly_discount_rate` (default 0.01, from 0 up to 1) discounts each
    future month's value. `high_value_percent` (default 20, above 0 and below 100) is
    the share of customers in ValueBucket High and in the graded high-value set.
    `time_unit` (days, weeks or months, default weeks) is the unit the models are
    fitted in. `seed` (default 0, from 0 to 2**32 - 1) seeds the random start points
    that a fit tries after its first start fails.
    """
    defaults = CLVParameters(source="")
    known = set(defaults.as_dict())
    problems: dict[str, str] = {}

    for name in sorted(set(raw) - known):
        problems[name] = f"unknown parameter; valid: {', '.join(sorted(known))}"

    values = {**defaults.as_dict(), "source": None, **raw}
    _check_source(values["source"], problems)
    _check_horizon(values["horizon_months"], problems)
    calibration_end = _parse_calibration_end(values["calibration_end"], problems)
    _check_discount_rate(values["monthly_discount_rate"], problems)
    _check_percent(values["high_value_percent"], problems)
    _check_time_unit(values["time_unit"], problems)
    _check_seed(values["seed"], problems)
    if problems:
        raise ParameterError(problems)

    return CLVParameters(
        source=values["source"].strip(),
        horizon_months=values["horizon_months"],
        calibration_end=calibration_end,
        monthly_discount_rate=float(values["monthly_discount_rate"]),
        high_value_percent=float(values["high_value_percent"]),
        time_unit=values["time_unit"],
        seed=values["seed"],
    )
