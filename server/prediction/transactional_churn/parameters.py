"""Parameters of a transactional churn prediction and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from server.prediction.base import ParameterError
from server.prediction.parameter_checks import (
    check_days,
    check_seed,
    check_threshold,
)


@dataclass(frozen=True)
class ChurnParameters:
    """Validated parameters; see `validate_parameters` for their meaning and ranges."""

    source: str
    churn_definition_days: int = 180
    prediction_window_days: int = 90
    threshold: float = 0.5
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_source(raw: object, problems: dict[str, str]) -> None:
    if raw is None:
        problems["source"] = "is required: the order-line source to train on, such as 'cdnow'"
    elif not isinstance(raw, str) or not raw.strip():
        problems["source"] = f"must be a non-empty order-line source name, got {raw!r}"


def validate_parameters(raw: Mapping[str, Any]) -> ChurnParameters:
    """Check `raw` and fill in defaults; raise `ParameterError` naming every bad parameter.

    `source` (required) is the order-line source to train on. `churn_definition_days`
    (default 180) and `prediction_window_days` (default 90) are 1 to 3650 days.
    `threshold` (default 0.5, from 0 to 1) is the ChurnScore at which IsChurn becomes
    true. `seed` (default 0, from 0 to 2**32 - 1) seeds every random step. Whether the
    source has order lines is checked when the prediction runs, against the database.
    """
    defaults = ChurnParameters(source="")
    known = set(defaults.as_dict())
    problems: dict[str, str] = {}

    for name in sorted(set(raw) - known):
        problems[name] = f"unknown parameter; valid: {', '.join(sorted(known))}"

    values = {**defaults.as_dict(), "source": None, **raw}
    _check_source(values["source"], problems)
    check_days(values["churn_definition_days"], "churn_definition_days", problems)
    check_days(values["prediction_window_days"], "prediction_window_days", problems)
    check_threshold(values["threshold"], problems)
    check_seed(values["seed"], problems)
    if problems:
        raise ParameterError(problems)

    return ChurnParameters(
        source=values["source"].strip(),
        churn_definition_days=values["churn_definition_days"],
        prediction_window_days=values["prediction_window_days"],
        threshold=float(values["threshold"]),
        seed=values["seed"],
    )
