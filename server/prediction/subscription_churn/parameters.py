"""Parameters of a subscription churn prediction and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from server.prediction.base import ParameterError
from server.prediction.output import ENTITY_NAME
from server.prediction.parameter_checks import (
    check_days,
    check_seed,
    check_threshold,
)

DESCRIPTIONS = {
    "source": "the subscription source to train on and score, such as 'telco' (required)",
    "churn_window_days": (
        "days after a subscription ended that count as churned: a customer who starts no "
        "new subscription within them has churned (default 30, from 0 to 3650)"
    ),
    "prediction_window_days": "days to look into the future (default 90, from 1 to 3650)",
    "threshold": "the ChurnScore from which IsChurn is true (default 0.5, from 0 to 1)",
    "seed": "seeds the cross-validation folds and the solver (default 0)",
    "profile_entity": (
        "the profile entity whose attributes become features (default: every profile "
        "entity that has rows for the source's customers)"
    ),
}


@dataclass(frozen=True)
class ChurnParameters:
    """Validated parameters, each described in `DESCRIPTIONS`."""

    source: str
    churn_window_days: int = 30
    prediction_window_days: int = 90
    threshold: float = 0.5
    seed: int = 0
    profile_entity: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_parameters(raw: Mapping[str, Any]) -> ChurnParameters:
    """Check `raw` and fill in defaults; raise `ParameterError` naming every bad parameter.

    Whether the source has subscriptions, and the profile entity exists, is checked
    when the prediction runs, against the database.
    """
    defaults = ChurnParameters(source="")
    known = set(defaults.as_dict())
    problems: dict[str, str] = {}

    for name in sorted(set(raw) - known):
        problems[name] = f"unknown parameter; valid: {', '.join(sorted(known))}"

    values = {**defaults.as_dict(), "source": None, **raw}
    _check_source(values["source"], problems)
    check_days(values["churn_window_days"], "churn_window_days", problems, minimum=0)
    check_days(values["prediction_window_days"], "prediction_window_days", problems)
    check_threshold(values["threshold"], problems)
    check_seed(values["seed"], problems)
    _check_profile_entity(values["profile_entity"], problems)
    if problems:
        raise ParameterError(problems)

    return ChurnParameters(
        source=values["source"].strip(),
        churn_window_days=values["churn_window_days"],
        prediction_window_days=values["prediction_window_days"],
        threshold=float(values["threshold"]),
        seed=values["seed"],
        profile_entity=values["profile_entity"],
    )


def _check_source(raw: object, problems: dict[str, str]) -> None:
    if raw is None:
        problems["source"] = "is required: the subscription source to train on, such as 'telco'"
    elif not isinstance(raw, str) or not raw.strip():
        problems["source"] = f"must be a non-empty subscription source name, got {raw!r}"


def _check_profile_entity(raw: object, problems: dict[str, str]) -> None:
    if raw is not None and (not isinstance(raw, str) or not ENTITY_NAME.match(raw)):
        problems["profile_entity"] = (
            f"must be the name of a profile entity, such as 'TelcoProfile', or null, got {raw!r}"
        )
