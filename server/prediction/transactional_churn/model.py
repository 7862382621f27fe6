"""The churn estimator and the recency-only baseline it is graded against.

The estimator is a logistic regression on signed-log features. On all of CDNOW with
the default parameters, it reached a validation ROC AUC of 0.932 and a precision@k
of 0.941, against 0.930 and 0.940 for a calibrated HistGradientBoostingClassifier
(100 iterations, 15 leaves), and it fitted about eight times faster. On Superstore
the tree model did better (ROC AUC 0.800 against 0.787, precision@k 0.460 against
0.455), but neither reached the precision@k of ranking by recency alone (0.480).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from server.prediction.transactional_churn.features import FEATURES

CALIBRATION_FOLDS = 3
MAX_ITERATIONS = 2000


def signed_log(values: np.ndarray) -> np.ndarray:
    """Compress heavy tails (spend, day counts) while keeping the sign of trends.

    `copysign` took half the time of multiplying by `np.sign` (7 against 14 ms on a
    23,570 x 14 array, numpy 2.4). It returns -0.0 for -0.0 where the product gave
    0.0, and the two compare equal, so the scaler and model after it score the same.
    """
    return np.copysign(np.log1p(np.abs(values)), values)


def _feature_matrix(features: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    missing = [name for name in columns if name not in features.columns]
    if missing:
        raise ValueError(f"features lack the column {missing[0]!r}; required: {', '.join(columns)}")
    return features.loc[:, list(columns)].to_numpy(dtype=float)


def _logistic_pipeline(seed: int) -> Pipeline:
    return make_pipeline(
        FunctionTransformer(signed_log),
        StandardScaler(),
        LogisticRegression(max_iter=MAX_ITERATIONS, random_state=seed),
    )


class ChurnClassifier(ClassifierMixin, BaseEstimator):
    """Calibrated probability that a customer is churned, from the columns of `FEATURES`.

    A sigmoid is fitted to out-of-fold predictions of the logistic pipeline, over
    stratified folds of the training cutoff's customers, and the pipeline is then
    refitted on all of them (`CalibratedClassifierCV` with `ensemble=False`). The
    calibration therefore never uses the validation window, and predicting costs one
    model, not one per fold. `predict_proba` takes a DataFrame with those columns.
    """

    def __init__(self, seed: int = 0, calibration_folds: int = CALIBRATION_FOLDS) -> None:
        self.seed = seed
        self.calibration_folds = calibration_folds

    def fit(self, features: pd.DataFrame, churned: pd.Series | np.ndarray) -> ChurnClassifier:
        folds = StratifiedKFold(self.calibration_folds, shuffle=True, random_state=self.seed)
        self.calibrated_ = CalibratedClassifierCV(
            _logistic_pipeline(self.seed), method="sigmoid", cv=folds, ensemble=False
        )
        self.calibrated_.fit(_feature_matrix(features, FEATURES), np.asarray(churned, dtype=bool))
        self.classes_ = self.calibrated_.classes_
        self.feature_names_in_ = np.asarray(FEATURES, dtype=object)
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.predict_proba_matrix(_feature_matrix(features, FEATURES))

    def predict_proba_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Return the probabilities of [not churned, churned] for a matrix of `FEATURES` columns.

        The columns must be in the order of `FEATURES`. Explanations call this many
        times on changed copies of one matrix, without a DataFrame per call.
        """
        return np.asarray(self.calibrated_.predict_proba(matrix))

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.predict_proba(features), axis=1)])


class RecencyBaseline(ClassifierMixin, BaseEstimator):
    """Churn probability from `recency` alone: a logistic regression on log1p(recency).

    The baseline's ranking metrics (ROC AUC, precision@k) use the raw recency. This
    class gives it probabilities, so that its precision, recall and Brier score can be
    compared with the model's at the same threshold.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, features: pd.DataFrame, churned: pd.Series | np.ndarray) -> RecencyBaseline:
        self.logistic_ = LogisticRegression(max_iter=MAX_ITERATIONS, random_state=self.seed)
        self.logistic_.fit(self._inputs(features), np.asarray(churned, dtype=bool))
        self.classes_ = self.logistic_.classes_
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.logistic_.predict_proba(self._inputs(features)))

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.predict_proba(features), axis=1)])

    @staticmethod
    def _inputs(features: pd.DataFrame) -> np.ndarray:
        return np.log1p(_feature_matrix(features, ["recency"]))
