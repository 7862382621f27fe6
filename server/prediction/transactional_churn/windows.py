"""The cutoffs of a run and the checks that the data can support them.

L is the last order date of the source and W the prediction window. The model is
trained at cutoff L - 2W, with labels that read orders up to L - W. It is validated
at cutoff L - W, with labels that read orders up to L. It is then refitted at L - W
and scores every customer as of L. No training label reads an order after L - W, so
the validation window stays unseen until the model is scored on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from server.prediction.base import PredictionDataError
from server.prediction.transactional_churn.orders import OrderHistory
from server.prediction.transactional_churn.parameters import ChurnParameters

MIN_CUSTOMERS = 50
MIN_PER_CLASS = 10


@dataclass(frozen=True)
class Cutoffs:
    """The training, validation and scoring cutoff dates of one run."""

    train: pd.Timestamp
    validation: pd.Timestamp
    scoring: pd.Timestamp


def plan_cutoffs(history: OrderHistory, parameters: ChurnParameters) -> Cutoffs:
    """Place the cutoffs; raise `PredictionDataError` when the history is too short."""
    source = parameters.source
    if history.purchases.empty:
        raise PredictionDataError(
            f"source {source!r} has only returns (negative amounts) and no purchase; "
            "load its purchases"
        )

    window = pd.Timedelta(days=parameters.prediction_window_days)
    last = history.last_date
    span_days = (last - history.first_date).days
    if span_days <= 2 * parameters.prediction_window_days:
        raise PredictionDataError(
            f"source {source!r} has orders spanning {span_days} days "
            f"({history.first_date.date()} to {last.date()}), but a prediction window of "
            f"{parameters.prediction_window_days} days needs more than "
            f"{2 * parameters.prediction_window_days} days: one window to train and one to "
            "validate. Load a longer history or lower prediction_window_days."
        )
    return Cutoffs(train=last - 2 * window, validation=last - window, scoring=last)


def check_labels(labels: pd.Series, cutoff: pd.Timestamp, parameters: ChurnParameters) -> None:
    """Raise `PredictionDataError` unless the cutoff has enough customers of both classes."""
    customers = len(labels)
    churned = int(labels.sum())
    retained = customers - churned
    where = f"at the cutoff {cutoff.date()} source {parameters.source!r}"

    if customers < MIN_CUSTOMERS:
        raise PredictionDataError(
            f"{where} has {customers} customers with a purchase on or before it; at least "
            f"{MIN_CUSTOMERS} are needed. Load more customers or lower prediction_window_days "
            "so the cutoff moves later."
        )
    if min(churned, retained) < MIN_PER_CLASS:
        raise PredictionDataError(
            f"{where} has {churned} churned and {retained} retained customers; at least "
            f"{MIN_PER_CLASS} of each are needed to train and validate. Change "
            f"churn_definition_days (now {parameters.churn_definition_days}) or "
            f"prediction_window_days (now {parameters.prediction_window_days})."
        )
