"""Checks of the parameters that several prediction kinds share.

Each check adds a reason under the parameter's name to `problems` instead of
raising, so a kind reports every bad parameter of a request at once.
"""

from __future__ import annotations

import math

MAX_DAYS = 3650
MAX_SEED = 2**32 - 1


def check_days(raw: object, name: str, problems: dict[str, str], minimum: int = 1) -> None:
    if isinstance(raw, bool) or not isinstance(raw, int):
        problems[name] = f"must be a whole number of days from {minimum} to {MAX_DAYS}, got {raw!r}"
    elif not minimum <= raw <= MAX_DAYS:
        problems[name] = f"must be from {minimum} to {MAX_DAYS} days, got {raw}"


def check_threshold(raw: object, problems: dict[str, str]) -> None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        problems["threshold"] = f"must be a number from 0 to 1, got {raw!r}"
    elif not (math.isfinite(raw) and 0.0 <= raw <= 1.0):
        problems["threshold"] = f"must be from 0 to 1, got {raw}"


def check_seed(raw: object, problems: dict[str, str]) -> None:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_SEED:
        problems["seed"] = f"must be a whole number from 0 to {MAX_SEED}, got {raw!r}"
