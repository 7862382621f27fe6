"""Grading a lifetime value model on a holdout period against a non-AI baseline.

The baseline predicts a customer's value over the holdout as their average monthly
spend in the calibration period times the months of the holdout times the historical
retention rate. Both predictions are compared with the net spend each customer
actually made in the holdout. The truly high-value customers are the top
`high_value_percent` by holdout spend, and each prediction "finds" those it puts in its
own top `high_value_percent`. The grade is A when the model finds at least 5% more of
them than the baseline, B when it finds as many or up to 5% more, and C when fewer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from server.prediction.base import Metric
from server.prediction.clv.summary import DAYS_PER_MONTH

GRADE_A_GAIN = 0.05
"""Relative gain in high-value customers found over the baseline that earns grade A."""

PERCENTILE_GROUPS = 10


def historical_retention(
    days: pd.DataFrame, calibration_end: pd.Timestamp, window_days: int
) -> float:
    """Return the share of customers who bought in one window and again in the next.

    `days` contains the calibration period's purchase days (customer_id, order_date).
    The two windows are the last two of `window_days` each before `calibration_end`.
    When no customer bought in the earlier window there is no evidence of loss, so the
    rate is 1.
    """
    recent_start = calibration_end - pd.Timedelta(days=window_days)
    earlier_start = recent_start - pd.Timedelta(days=window_days)
    dates = days["order_date"]
    earlier = set(days.loc[(dates > earlier_start) & (dates <= recent_start), "customer_id"])
    recent = set(days.loc[(dates > recent_start) & (dates <= calibration_end), "customer_id"])
    if not earlier:
        return 1.0
    return len(earlier & recent) / len(earlier)


def baseline_value(
    summary: pd.DataFrame,
    calibration_end: pd.Timestamp,
    holdout_months: float,
    retention: float,
) -> pd.Series:
    """Return each customer's baseline value over the holdout.

    Average monthly spend is the net spend of the calibration period (0 when negative)
    over the months from the first purchase to `calibration_end`, at least one month,
    so a customer seen for a few days is not extrapolated from them.
    """
    tenure_days = (calibration_end - summary["first_date"]).dt.days.to_numpy()
    tenure_months = np.maximum(tenure_days / DAYS_PER_MONTH, 1.0)
    monthly_spend = np.clip(summary["total_spend"].to_numpy(), 0.0, None) / tenure_months
    return pd.Series(monthly_spend * holdout_months * retention, index=summary.index)


def top_customers(values: pd.Series, count: int) -> set[str]:
    """Return the ids of the `count` largest values; equal values are ordered by id."""
    order = np.lexsort((values.index.to_numpy(dtype=str), -values.to_numpy()))
    return set(values.index[order[:count]])


def value_by_percentile(
    ranking: pd.Series, columns: dict[str, pd.Series], groups: int = PERCENTILE_GROUPS
) -> list[dict[str, Any]]:
    """Return the mean of each of `columns` per group of customers ranked by `ranking`.

    Group 1 contains the top 1/groups of customers by `ranking`, and `percentile` is the
    upper edge of a group counted from the top (10 for the top tenth).
    """
    order = np.lexsort((ranking.index.to_numpy(dtype=str), -ranking.to_numpy()))
    ranked_ids = ranking.index[order]
    rows = []
    for number, ids in enumerate(np.array_split(ranked_ids, groups), start=1):
        row: dict[str, Any] = {"percentile": round(100 * number / groups, 2), "customers": len(ids)}
        for name, series in columns.items():
            row[name] = float(series.loc[ids].mean()) if len(ids) else 0.0
        rows.append(row)
    return rows


def _rmse(predicted: pd.Series, actual: pd.Series) -> float:
    return float(np.sqrt(np.mean((predicted.to_numpy() - actual.to_numpy()) ** 2)))


@dataclass
class HoldoutGrade:
    """The grade of a model on a holdout, with the figures that decided it."""

    grade: str | None
    reason: str
    metrics: list[Metric] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def grade_holdout(
    predicted: pd.Series, baseline: pd.Series, actual: pd.Series, high_value_percent: float
) -> HoldoutGrade:
    """Grade `predicted` against `baseline` on `actual` holdout spend, all indexed alike.

    Only customers with positive holdout spend can be truly high-value. Success rate is
    the share of the truly high-value customers that a prediction puts in its top
    group of the same size. Returns no grade when no customer spent in the holdout.
    """
    spenders = actual[actual > 0]
    count = min(len(spenders), max(1, math.ceil(high_value_percent / 100 * len(actual))))
    if spenders.empty:
        return HoldoutGrade(None, "no customer of the calibration period spent in the holdout")

    truly_high = top_customers(spenders, count)
    model_found = len(truly_high & top_customers(predicted, count))
    baseline_found = len(truly_high & top_customers(baseline, count))
    grade = _grade(model_found, baseline_found)
    gain = (
        f"{(model_found - baseline_found) / baseline_found:+.1%} against the baseline"
        if baseline_found
        else "the baseline found none"
    )
    reason = (
        f"of the {count} customers who were truly high-value in the holdout (the top "
        f"{high_value_percent:g}% by holdout spend), the model found {model_found} and the "
        f"baseline {baseline_found} ({gain}); A needs at least {GRADE_A_GAIN:.0%} more, "
        "B as many or up to that, C is fewer"
    )
    metrics = [
        Metric("success_rate", model_found / count, baseline_found / count),
        Metric("rmse", _rmse(predicted, actual), _rmse(baseline, actual)),
    ]
    details = {
        "high_value_customers": count,
        "high_value_found": model_found,
        "high_value_found_by_baseline": baseline_found,
        "holdout_by_percentile": value_by_percentile(
            predicted, {"predicted": predicted, "baseline": baseline, "actual": actual}
        ),
    }
    return HoldoutGrade(grade, reason, metrics, details)


def _grade(model_found: int, baseline_found: int) -> str:
    if model_found > baseline_found and model_found >= (1 + GRADE_A_GAIN) * baseline_found:
        return "A"
    if model_found >= baseline_found:
        return "B"
    return "C"
