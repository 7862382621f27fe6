"""The output entity rows: one per customer who can churn at the end of the data."""

from __future__ import annotations

import numbers
from datetime import datetime

import numpy as np
import pandas as pd

from server.prediction.churn_output import OUTPUT_COLUMNS, risk_bands, versioned
from server.prediction.subscription_churn.model import ChurnModel

MODEL_VERSION = "subscription-churn-1"
TOP_FACTORS = 3


def model_version(scored_at: datetime) -> str:
    """Return the ModelVersion value, such as "subscription-churn-1+20240131T120000Z"."""
    return versioned(MODEL_VERSION, scored_at)


def score_customers(
    model: ChurnModel, features: pd.DataFrame, threshold: float, scored_at: datetime
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
            **{name: factors[name].to_numpy() for name in factors.columns},
            "ScoredAt": pd.Series(pd.Timestamp(scored_at), index=range(len(scores))),
            "ModelVersion": model_version(scored_at),
        }
    )
    return rows.loc[:, list(OUTPUT_COLUMNS)]


def top_factors(model: ChurnModel, features: pd.DataFrame) -> pd.DataFrame:
    """Name, for each customer, the features that raise their ChurnScore the most.

    A feature raises the score when its contribution to the customer's log-odds,
    measured from the training mean, is positive. Each factor reads as the feature
    and the customer's value, such as "Contract=Month-to-month" or "TenureMonths=2".
    Columns TopFactor1..3 contain "" where fewer than three features raise the score.

    NOTE: correlated features, such as MonthlyAmount and AmountChangePercent, split
    their joint effect, so one of them can show as raising the score on its own.
    """
    contributions = model.contributions(features).to_numpy()
    # Largest first; the stable sort keeps feature order among equal contributions.
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :TOP_FACTORS]
    names = np.asarray(model.features_, dtype=object)
    values = features.loc[:, model.features_].to_numpy(dtype=object)

    columns: dict[str, list[str]] = {}
    for rank in range(TOP_FACTORS):
        if rank >= order.shape[1]:
            columns[f"TopFactor{rank + 1}"] = [""] * len(features)
            continue
        picked = order[:, rank]
        raises = contributions[np.arange(len(picked)), picked] > 0
        column_values = values[np.arange(len(picked)), picked]
        columns[f"TopFactor{rank + 1}"] = [
            f"{names[feature]}={describe_value(value)}" if raising else ""
            for feature, value, raising in zip(picked, column_values, raises, strict=True)
        ]
    return pd.DataFrame(columns, index=features.index)


def describe_value(value: object) -> str:
    """Write a feature value for a factor: whole numbers without decimals, others with 2."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "missing"
    if isinstance(value, float | np.floating) and np.isnan(value):
        return "missing"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return f"{number:.0f}" if number.is_integer() else f"{number:.2f}".rstrip("0")
    return str(value)
