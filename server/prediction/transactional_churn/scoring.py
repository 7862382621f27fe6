"""The output entity rows: one per customer, scored as of the last order date."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from server.prediction.churn_output import OUTPUT_COLUMNS, risk_bands, versioned
from server.prediction.transactional_churn.explain import top_factors
from server.prediction.transactional_churn.model import ChurnClassifier

MODEL_VERSION = "transactional-churn-1"


def model_version(scored_at: datetime) -> str:
    """Return the ModelVersion value, such as "transactional-churn-1+20240131T120000Z"."""
    return versioned(MODEL_VERSION, scored_at)


def score_customers(
    model: ChurnClassifier,
    features: pd.DataFrame,
    threshold: float,
    scored_at: datetime,
) -> pd.DataFrame:
    """Build the output entity rows (`OUTPUT_COLUMNS`) for every customer in `features`.

    `scored_at` is a naive datetime in UTC and becomes ScoredAt on every row.
    """
    scores = model.predict_proba(features)[:, 1]
    if not np.isfinite(scores).all():
        raise RuntimeError("the churn model returned a non-finite ChurnScore")
    scores = np.clip(scores, 0.0, 1.0)

    factors = top_factors(model, features)
    rows = pd.DataFrame(
        {
            "CustomerId": features.index.astype(str),
            "ChurnScore": scores,
            "IsChurn": scores >= threshold,
            "ChurnRiskBand": risk_bands(scores),
            "TopFactor1": factors["TopFactor1"].to_numpy(),
            "TopFactor2": factors["TopFactor2"].to_numpy(),
            "TopFactor3": factors["TopFactor3"].to_numpy(),
            "ScoredAt": pd.Series(pd.Timestamp(scored_at), index=range(len(scores))),
            "ModelVersion": model_version(scored_at),
        }
    )
    return rows.loc[:, list(OUTPUT_COLUMNS)]
