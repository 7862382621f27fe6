"""The output entity shape that transactional and subscription churn share."""

from __future__ import annotations

from datetime import datetime

import numpy as np

MEDIUM_RISK_FROM = 0.33
HIGH_RISK_FROM = 0.66

OUTPUT_COLUMNS = (
    "CustomerId",
    "ChurnScore",
    "IsChurn",
    "ChurnRiskBand",
    "TopFactor1",
    "TopFactor2",
    "TopFactor3",
    "ScoredAt",
    "ModelVersion",
)


def versioned(model_name: str, scored_at: datetime) -> str:
    """Return a ModelVersion value, such as "subscription-churn-1+20240131T120000Z"."""
    return f"{model_name}+{scored_at:%Y%m%dT%H%M%SZ}"


def risk_bands(scores: np.ndarray) -> np.ndarray:
    """Return "Low" below 0.33, "Medium" from 0.33 to below 0.66 and "High" from 0.66."""
    return np.select(
        [scores < MEDIUM_RISK_FROM, scores < HIGH_RISK_FROM], ["Low", "Medium"], default="High"
    )
