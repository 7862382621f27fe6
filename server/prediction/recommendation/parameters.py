"""Parameters of a product recommendation prediction and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from server.prediction.base import ParameterError
from server.prediction.recommendation.filters import parse_filters

MAX_K = 50
MAX_DAYS = 36_500
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class RecommendationParameters:
    """Validated parameters; see `validate_parameters` for their meaning and ranges."""

    source: str
    k: int = 5
    repeat_purchases: bool = False
    lookback_days: int | None = None
    holdout_days: int = 180
    product_filters: dict[str, Any] | None = None
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _whole_number(raw: object, low: int, high: int) -> bool:
    return isinstance(raw, int) and not isinstance(raw, bool) and low <= raw <= high


def _check(values: Mapping[str, Any], problems: dict[str, str]) -> None:
    source = values["source"]
    if source is None:
        problems["source"] = "is required: the order-line source to train on, such as 'superstore'"
    elif not isinstance(source, str) or not source.strip():
        problems["source"] = f"must be a non-empty order-line source name, got {source!r}"

    if not _whole_number(values["k"], 1, MAX_K):
        problems["k"] = f"must be a whole number of products from 1 to {MAX_K}, got {values['k']!r}"
    if not isinstance(values["repeat_purchases"], bool):
        problems["repeat_purchases"] = f"must be true or false, got {values['repeat_purchases']!r}"

    lookback = values["lookback_days"]
    if lookback is not None and not _whole_number(lookback, 1, MAX_DAYS):
        problems["lookback_days"] = (
            f"must be empty (all history) or a whole number of days from 1 to {MAX_DAYS}, "
            f"got {lookback!r}"
        )
    if not _whole_number(values["holdout_days"], 1, MAX_DAYS):
        problems["holdout_days"] = (
            f"must be a whole number of days from 1 to {MAX_DAYS}, got {values['holdout_days']!r}"
        )
    if not _whole_number(values["seed"], 0, MAX_SEED):
        problems["seed"] = f"must be a whole number from 0 to {MAX_SEED}, got {values['seed']!r}"

    if values["product_filters"] is not None:
        _, filter_problems = parse_filters(values["product_filters"])
        problems.update(filter_problems)


def validate_parameters(raw: Mapping[str, Any]) -> RecommendationParameters:
    """Check `raw` and fill in defaults; raise `ParameterError` naming every bad parameter.

    `source` (required) is the order-line source to train on. `k` (default 5, from 1
    to 50) is the number of products recommended to each customer. `repeat_purchases`
    (default false) says whether customers buy the same product again: when true, a
    customer's own past purchases are scored and may be recommended, and when false
    they are never recommended. `lookback_days` (default empty, meaning all history)
    limits training to the order lines of that many days before the training end.
    `holdout_days` (default 180) is the length of the holdout: the model is graded on
    what customers bought in the last `holdout_days` days, after training on the days
    before. `product_filters` (default empty) restricts which products are
    recommended (see `server.prediction.recommendation.filters`). `seed` (default 0,
    from 0 to 2**32 - 1) seeds the random order among products of equal popularity.
    """
    defaults = RecommendationParameters(source="")
    known = set(defaults.as_dict())
    problems: dict[str, str] = {}

    for name in sorted(set(raw) - known):
        problems[name] = f"unknown parameter; valid: {', '.join(sorted(known))}"

    values = {**defaults.as_dict(), "source": None, **raw}
    _check(values, problems)
    if problems:
        raise ParameterError(problems)

    return RecommendationParameters(
        source=values["source"].strip(),
        k=values["k"],
        repeat_purchases=values["repeat_purchases"],
        lookback_days=values["lookback_days"],
        holdout_days=values["holdout_days"],
        product_filters=values["product_filters"],
        seed=values["seed"],
    )
