"""Training examples: features at past cutoffs, labelled by what happened after each.

The latest cutoff is one prediction window before the end of the data, and earlier
ones step back by a window at a time, up to `MAX_CUTOFFS`. A cutoff whose window
records no churn at all is skipped: that means the history does not reach back that
far (as in a one-day snapshot), not that no customer churned, and its all-negative
examples would teach the model a churn rate of zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from server.prediction.base import PredictionDataError
from server.prediction.subscription_churn.features import build_features
from server.prediction.subscription_churn.history import SubscriptionHistory
from server.prediction.subscription_churn.labels import churn_labels
from server.prediction.subscription_churn.parameters import ChurnParameters

MAX_CUTOFFS = 4
MIN_CLASS_EXAMPLES = 10
"""Fewest churned and fewest retained examples a run trains on (each of 5 folds gets 2)."""


@dataclass(frozen=True)
class TrainingSet:
    """Examples from one or more cutoffs, in one table with a row per customer and cutoff."""

    features: pd.DataFrame
    churned: np.ndarray
    customers: np.ndarray
    cutoffs: np.ndarray
    skipped_cutoffs: tuple[pd.Timestamp, ...]

    def select(self, rows: np.ndarray) -> TrainingSet:
        """Return the examples where the boolean mask `rows` is true."""
        return TrainingSet(
            features=self.features.loc[rows].reset_index(drop=True),
            churned=self.churned[rows],
            customers=self.customers[rows],
            cutoffs=self.cutoffs[rows],
            skipped_cutoffs=self.skipped_cutoffs,
        )

    @property
    def used_cutoffs(self) -> list[pd.Timestamp]:
        """The cutoffs that contributed examples, latest first."""
        return sorted({pd.Timestamp(cutoff) for cutoff in self.cutoffs}, reverse=True)


def build_training_set(history: SubscriptionHistory, parameters: ChurnParameters) -> TrainingSet:
    """Label and describe the at-risk customers at each planned cutoff.

    Raises PredictionDataError when the history is too short for one cutoff, records
    no churn, or has fewer than `MIN_CLASS_EXAMPLES` churned or retained examples.
    """
    window = pd.Timedelta(days=parameters.prediction_window_days)
    first_start = history.subscriptions["start_date"].min()
    frames: list[pd.DataFrame] = []
    labels: list[pd.Series] = []
    skipped: list[pd.Timestamp] = []

    for step in range(1, MAX_CUTOFFS + 1):
        cutoff = history.as_of - step * window
        if cutoff <= first_start:
            break
        churned = churn_labels(
            history.subscriptions,
            cutoff,
            parameters.prediction_window_days,
            parameters.churn_window_days,
        )
        if not churned.any():
            skipped.append(cutoff)
            continue
        features = build_features(history, cutoff, parameters.churn_window_days)
        frames.append(features.assign(_cutoff=cutoff))
        labels.append(churned.loc[features.index])

    if not frames:
        raise PredictionDataError(_no_examples_message(history, parameters))
    examples = pd.concat(frames)
    training = TrainingSet(
        features=examples.drop(columns="_cutoff").reset_index(drop=True),
        churned=pd.concat(labels).to_numpy(dtype=bool),
        customers=examples.index.to_numpy(dtype=str),
        cutoffs=examples["_cutoff"].to_numpy(),
        skipped_cutoffs=tuple(skipped),
    )
    _check_class_counts(training, parameters)
    return training


def _no_examples_message(history: SubscriptionHistory, parameters: ChurnParameters) -> str:
    first = history.subscriptions["start_date"].min().date()
    last = (history.as_of - pd.Timedelta(days=1)).date()
    return (
        f"source {parameters.source!r} has no churn to learn from: its subscriptions run from "
        f"{first} to {last}, and no customer churned within the last "
        f"{MAX_CUTOFFS} windows of {parameters.prediction_window_days} days. Load a history "
        "with ended subscriptions, or change prediction_window_days"
    )


def _check_class_counts(training: TrainingSet, parameters: ChurnParameters) -> None:
    churned = int(training.churned.sum())
    retained = len(training.churned) - churned
    if min(churned, retained) >= MIN_CLASS_EXAMPLES:
        return
    raise PredictionDataError(
        f"source {parameters.source!r} has {churned} churned and {retained} retained "
        f"examples at the training cutoffs; a run needs at least {MIN_CLASS_EXAMPLES} of each. "
        "Load more subscriptions, or change prediction_window_days or churn_window_days"
    )
