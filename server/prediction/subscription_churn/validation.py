"""Fitting the calibrated model and measuring it on customers or a window it did not see.

Where the history has churn in more than one window, the reported validation is a
temporal holdout: a model trained on the earlier cutoffs scores the latest one, as it
would score the future. Otherwise it is stratified 5-fold cross validation; see
`validate` for why that is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from server.prediction.subscription_churn.examples import MIN_CLASS_EXAMPLES, TrainingSet
from server.prediction.subscription_churn.model import ChurnModel

FOLDS = 5
TEMPORAL_HOLDOUT = "temporal holdout"
CROSS_VALIDATION = "stratified 5-fold cross validation"


@dataclass(frozen=True)
class Validation:
    """Held-out ChurnScores beside what happened, and the churn rate the model learnt from.

    `historical_churn_rate` is the churn rate of the examples the validated model was
    trained on: the baseline that scores every customer alike.
    """

    method: str
    reason: str
    churned: np.ndarray
    scores: np.ndarray
    historical_churn_rate: float


def fit_calibrated(training: TrainingSet, seed: int) -> tuple[ChurnModel, np.ndarray]:
    """Fit a model on every example, Platt-scaled on out-of-fold decision values.

    Returns the model and the calibrated out-of-fold ChurnScore of every example.
    Folds are stratified by outcome and grouped by customer, so no customer is in the
    training and the held-out part of a fold at two different cutoffs.
    """
    decisions = np.zeros(len(training.churned))
    for train_rows, test_rows in _folds(training, seed):
        fold_model = ChurnModel(seed=seed).fit(
            training.features.iloc[train_rows], training.churned[train_rows]
        )
        decisions[test_rows] = fold_model.decision_function(training.features.iloc[test_rows])

    model = ChurnModel(seed=seed).fit(training.features, training.churned)
    model.calibrate(decisions, training.churned)
    return model, model.churn_probability(decisions)


def validate(training: TrainingSet, seed: int) -> tuple[ChurnModel, Validation]:
    """Fit the final model and validate in time where the data allows it.

    A temporal holdout needs at least two cutoffs with churn, and enough churned and
    retained examples both at the latest cutoff and before it. A snapshot such as
    the Telco sample has churn at one date only, so one cutoff has churn and nothing
    earlier can be held against anything later. Its examples are then split into 5
    folds stratified by outcome: each customer is scored by a model that did not see
    them, and each fold has the overall churn rate. That measures how the model
    generalises to other customers, but not to a later period, so it can be
    optimistic when behaviour drifts over time.
    """
    model, out_of_fold = fit_calibrated(training, seed)
    latest = training.cutoffs == max(training.cutoffs)
    if _can_hold_out(training.churned, latest):
        past_model, _ = fit_calibrated(training.select(~latest), seed)
        held_out = training.select(latest)
        cutoffs = training.used_cutoffs
        validation = Validation(
            method=TEMPORAL_HOLDOUT,
            reason=(
                f"trained on {len(cutoffs) - 1} earlier cutoffs and scored the latest one, "
                f"{cutoffs[0].date()}"
            ),
            churned=held_out.churned,
            scores=past_model.predict_proba(held_out.features)[:, 1],
            historical_churn_rate=float(training.churned[~latest].mean()),
        )
    else:
        validation = Validation(
            method=CROSS_VALIDATION,
            reason=(
                "only one cutoff has enough churn to learn from, so there is no later window "
                "to hold out; folds are stratified by outcome and grouped by customer"
            ),
            churned=training.churned,
            scores=out_of_fold,
            historical_churn_rate=float(training.churned.mean()),
        )
    return model, validation


def _can_hold_out(churned: np.ndarray, latest: np.ndarray) -> bool:
    parts = (churned[latest], churned[~latest])
    return all(
        part.sum() >= MIN_CLASS_EXAMPLES and (~part).sum() >= MIN_CLASS_EXAMPLES for part in parts
    )


def _folds(training: TrainingSet, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    churned = training.churned
    if len(np.unique(training.customers)) == len(churned):
        splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
        return list(splitter.split(training.features, churned))
    grouped = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    return list(grouped.split(training.features, churned, groups=training.customers))
