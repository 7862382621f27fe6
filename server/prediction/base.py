"""The contract every prediction kind implements.

A kind checks its parameters, then trains and scores on the data in the database and
returns the output entity's rows plus the results shown on its results page. The run
machinery (`server.prediction.runner`) owns everything else: run records, status,
and the safe replacement of the output entity table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Engine

Progress = Callable[[str], None]
"""Called with the name of each step as a run enters it ("features", "training", ...)."""


class ParameterError(ValueError):
    """Raised when prediction parameters are invalid; `problems` maps each name to why."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        listed = "; ".join(f"{name}: {reason}" for name, reason in self.problems.items())
        super().__init__(f"invalid prediction parameters: {listed}")


class PredictionDataError(ValueError):
    """Raised when the database data cannot support a run; the message names what to load."""


@dataclass(frozen=True)
class Metric:
    """A quality figure of the model, beside the baseline's figure on the same data."""

    name: str
    value: float
    baseline: float | None = None


@dataclass(frozen=True)
class Factor:
    """An input that influences the prediction, with its relative importance (sums to 1)."""

    name: str
    importance: float


@dataclass
class KindResult:
    """The output of one run of a kind.

    `rows` is the output entity: `CustomerId` first, then the kind's columns (see the
    output entity table in the README). `grade` is A, B or C against the kind's
    baseline, with `grade_reason` saying how it was decided.
    """

    rows: pd.DataFrame
    grade: str | None
    grade_reason: str
    metrics: list[Metric] = field(default_factory=list)
    factors: list[Factor] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class PredictionKind(Protocol):
    """One kind of prediction, such as TRANSACTIONAL_CHURN."""

    name: str
    """The `PredictionKind` enum value in GraphQL."""

    def validate_parameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Return the parameters with defaults filled in; raise `ParameterError` on bad ones."""
        ...

    def run(self, engine: Engine, parameters: Mapping[str, Any], progress: Progress) -> KindResult:
        """Train and score on the database's data; raise `PredictionDataError` when it cannot."""
        ...
