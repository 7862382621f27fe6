"""The CUSTOMER_LIFETIME_VALUE kind: BG/NBD purchases times Gamma-Gamma spend, discounted.

A run has two fits. The first is fitted on the calibration period and graded on the
holdout that follows it, against the non-AI baseline of `evaluation`. The second is
fitted on every order line of the source and scores every customer who has one,
one-time buyers included, over `horizon_months`.

Customers with no purchase in the calibration period, for example those who first
bought after `calibration_end`, are left out of the grade. Neither the model nor the
baseline has a history to predict them from, so they count neither among the truly
high-value customers nor in the RMSE. They are still scored like everyone else,
because the scoring fit uses all order lines. A customer whose order lines are all
returns is scored as a customer without repeat purchases whose history starts at the
first return, and any customer whose net spend is zero or negative gets CLVScore 0.

A fit that does not converge is retried from random start points drawn with `seed`,
then refitted with the small L2 penalty `scoring.FALLBACK_L2_PENALTY`. When that fails
too, the graded fit leaves the run without a grade, with the reason in `grade_reason`,
and the scoring fit raises `PredictionDataError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Engine, case, func, select

from server.prediction.base import KindResult, PredictionDataError, Progress
from server.prediction.clv.evaluation import (
    HoldoutGrade,
    baseline_value,
    grade_holdout,
    historical_retention,
    value_by_percentile,
)
from server.prediction.clv.parameters import CLVParameters, validate_parameters
from server.prediction.clv.scoring import fit_models, score_customers
from server.prediction.clv.summary import (
    DAYS_PER_MONTH,
    combine_same_day,
    days_per_unit,
    holdout_actuals,
    rfm_summary,
)
from server.prediction.frames import frame_from_rows
from server.storage.tables import metadata

logger = logging.getLogger(__name__)

MODEL_VERSION = "bgnbd-gamma-gamma-1"
MIN_CALIBRATION_SHARE = 1 / 3
"""Shortest calibration period of the default split, as a share of the horizon.

With the default 12-month horizon, 16 months of history are enough for a holdout, so
CDNOW (18 months) is graded on a holdout from July 1997 to June 1998.
"""

OUTPUT_COLUMNS = (
    "CustomerId",
    "CLVScore",
    "ExpectedPurchases",
    "ProbabilityAlive",
    "CLVPercentile",
    "ValueBucket",
    "ScoredAt",
    "ModelVersion",
)


def load_order_lines(engine: Engine, source: str) -> pd.DataFrame:
    """Read the order lines of `source`, summed per customer, day and sign of the amount.

    Summing purchases and returns apart keeps what `combine_same_day` needs while
    moving fewer rows. Raises `PredictionDataError` when the source has no lines.
    """
    table = metadata.tables["order_line"]
    is_return = case((table.c.amount < 0, 1), else_=0)
    query = (
        select(table.c.customer_id, table.c.order_date, func.sum(table.c.amount))
        .where(table.c.source == source)
        .group_by(table.c.customer_id, table.c.order_date, is_return)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        known = (
            [] if rows else connection.execute(select(table.c.source).distinct()).scalars().all()
        )
    if not rows:
        raise PredictionDataError(
            f"source {source!r} has no order lines; load its orders first "
            f"(sources with order lines: {', '.join(sorted(known)) or 'none'})"
        )
    return frame_from_rows(rows, ["customer_id", "order_date", "amount"])


def history_range(lines: pd.DataFrame, source: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the first purchase day and the last day with any order line.

    Raises `PredictionDataError` when there is no purchase, or when all purchases are
    on one day, because then nothing can be learnt about repeat purchasing.
    """
    days = combine_same_day(lines)
    purchases = days[days["is_purchase"]]
    if purchases.empty:
        raise PredictionDataError(
            f"source {source!r} has only returns (negative amounts) and no purchase; "
            "load its purchases"
        )
    first = purchases["order_date"].min()
    if purchases["order_date"].max() == first:
        raise PredictionDataError(
            f"all {len(purchases)} purchases of source {source!r} are on {first:%Y-%m-%d}; "
            "lifetime value needs purchases on at least two different days"
        )
    return first, days["order_date"].max()


def choose_calibration_end(
    first: pd.Timestamp, last: pd.Timestamp, parameters: CLVParameters, source: str
) -> pd.Timestamp:
    """Return the end of the calibration period; on `last` there is no holdout.

    By default the holdout is the last `horizon_months` of data. When that would leave
    a calibration period shorter than `MIN_CALIBRATION_SHARE` of the horizon, all data
    is calibration and there is no holdout.
    """
    if parameters.calibration_end is not None:
        requested = pd.Timestamp(parameters.calibration_end)
        if requested < first:
            raise PredictionDataError(
                f"calibration_end {requested:%Y-%m-%d} is before the first purchase of source "
                f"{source!r} on {first:%Y-%m-%d}; choose a date from {first:%Y-%m-%d} to "
                f"{last:%Y-%m-%d}"
            )
        return min(requested, last)

    candidate = last - pd.DateOffset(months=parameters.horizon_months)
    shortest = pd.Timedelta(days=MIN_CALIBRATION_SHARE * parameters.horizon_months * DAYS_PER_MONTH)
    return candidate if candidate - first >= shortest else last


def grade_on_holdout(
    lines: pd.DataFrame,
    first: pd.Timestamp,
    last: pd.Timestamp,
    calibration_end: pd.Timestamp,
    parameters: CLVParameters,
) -> HoldoutGrade:
    """Fit on the calibration period and grade the fit on the holdout up to `last`."""
    if calibration_end >= last:
        return HoldoutGrade(
            None,
            f"not graded: no holdout, because the order history from {first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d} is too short to set aside {parameters.horizon_months} months "
            "after a calibration period; set calibration_end to grade on what follows it",
        )

    summary = rfm_summary(lines, calibration_end, time_unit=parameters.time_unit)
    summary = summary[summary["purchase_days"] > 0]
    period = f"the calibration period up to {calibration_end:%Y-%m-%d}"
    try:
        models = fit_models(summary, period=period, seed=parameters.seed)
    except PredictionDataError as error:
        logger.warning("clv holdout fit of source %s failed: %s", parameters.source, error)
        return HoldoutGrade(None, f"not graded: {error}")

    holdout_days = (last - calibration_end).days
    holdout_months = holdout_days / DAYS_PER_MONTH
    predicted = score_customers(
        models,
        summary,
        horizon_months=holdout_months,
        monthly_discount_rate=0.0,
        unit_days=days_per_unit(parameters.time_unit),
    )["value"]
    actuals = holdout_actuals(lines, calibration_end, last)
    actual = actuals["spend_holdout"].reindex(summary.index, fill_value=0.0)

    calibration_days = (calibration_end - first).days
    window_days = max(1, min(holdout_days, calibration_days // 2))
    purchases = combine_same_day(lines).query("is_purchase and order_date <= @calibration_end")
    retention = historical_retention(purchases, calibration_end, window_days)
    baseline = baseline_value(summary, calibration_end, holdout_months, retention)

    graded = grade_holdout(predicted, baseline, actual, parameters.high_value_percent)
    graded.details.update(
        {
            "calibration_end": f"{calibration_end:%Y-%m-%d}",
            "holdout_end": f"{last:%Y-%m-%d}",
            "holdout_months": round(holdout_months, 2),
            "historical_retention": retention,
            "retention_window_days": window_days,
            "graded_customers": len(summary),
            "new_customers_in_holdout": int((~actuals.index.isin(summary.index)).sum()),
            "calibration_fit": models.describe(),
        }
    )
    return graded


def output_rows(
    scores: pd.DataFrame, high_value_percent: float, scored_at: pd.Timestamp
) -> pd.DataFrame:
    """Build the output entity from the scores, one row per customer.

    CLVPercentile is the share of customers with a lower CLVScore, so equal scores get
    equal percentiles. ValueBucket is High from percentile 100 - high_value_percent up,
    Medium from half of that up, and Low below. Equal scores therefore share a bucket,
    and a group of equal scores that straddles an edge goes to the lower bucket.
    """
    value = scores["value"]
    percentile = (value.rank(method="min") - 1.0) / len(value) * 100.0
    high_edge = 100.0 - high_value_percent
    bucket = pd.Series("Low", index=scores.index)
    bucket[percentile >= high_edge / 2] = "Medium"
    bucket[percentile >= high_edge] = "High"

    rows = pd.DataFrame(
        {
            "CustomerId": scores.index.astype(str),
            "CLVScore": value.to_numpy(),
            "ExpectedPurchases": scores["expected_purchases"].to_numpy(),
            "ProbabilityAlive": scores["probability_alive"].to_numpy(),
            "CLVPercentile": percentile.to_numpy(),
            "ValueBucket": bucket.to_numpy(),
            "ScoredAt": scored_at,
            "ModelVersion": MODEL_VERSION,
        }
    )
    return rows[list(OUTPUT_COLUMNS)]


def _value_by_percentile(rows: pd.DataFrame) -> list[dict[str, Any]]:
    clv = rows.set_index("CustomerId")["CLVScore"]
    groups = value_by_percentile(clv, {"mean_clv": clv})
    total = float(clv.sum())
    for group in groups:
        share = group["mean_clv"] * group["customers"] / total if total > 0 else 0.0
        group["share_of_value"] = share
    return groups


class CustomerLifetimeValueKind:
    """Predicted value of each customer over a horizon, graded against a baseline."""

    name = "CUSTOMER_LIFETIME_VALUE"

    def validate_parameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return validate_parameters(raw).as_dict()

    def run(self, engine: Engine, parameters: Mapping[str, Any], progress: Progress) -> KindResult:
        started = time.perf_counter()
        checked = validate_parameters(parameters)
        source = checked.source

        progress("features")
        lines = load_order_lines(engine, source)
        first, last = history_range(lines, source)
        calibration_end = choose_calibration_end(first, last, checked, source)

        progress("evaluation")
        graded = grade_on_holdout(lines, first, last, calibration_end, checked)

        progress("training")
        summary = rfm_summary(lines, last, time_unit=checked.time_unit)
        models = fit_models(
            summary, period=f"all order lines of source {source!r}", seed=checked.seed
        )

        progress("scoring")
        scores = score_customers(
            models,
            summary,
            horizon_months=checked.horizon_months,
            monthly_discount_rate=checked.monthly_discount_rate,
            unit_days=days_per_unit(checked.time_unit),
        )
        scored_at = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
        rows = output_rows(scores, checked.high_value_percent, scored_at)

        details: dict[str, Any] = {
            **graded.details,
            "calibration_end": f"{calibration_end:%Y-%m-%d}",
            "time_unit": checked.time_unit,
            "scoring_fit": models.describe(),
            "scored_customers": len(rows),
            "one_time_buyers": int((summary["frequency"] == 0).sum()),
            "value_by_percentile": _value_by_percentile(rows),
        }
        logger.info(
            "clv run on source %s scored %s customers in %.1f s, grade %s",
            source,
            len(rows),
            time.perf_counter() - started,
            graded.grade,
        )
        return KindResult(rows, graded.grade, graded.reason, graded.metrics, [], details)
