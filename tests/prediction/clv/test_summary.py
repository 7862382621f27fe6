from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from server.prediction.clv.summary import (
    combine_same_day,
    days_per_unit,
    holdout_actuals,
    rfm_summary,
)
from tests.prediction.clv.conftest import CALIBRATION_END


def _lines(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])


def test_cdnow_calibration_counts(cdnow_calibration: pd.DataFrame) -> None:
    assert len(cdnow_calibration) == 2357
    assert int((cdnow_calibration["frequency"] > 0).sum()) == 946


def test_cdnow_published_customer(cdnow_calibration: pd.DataFrame) -> None:
    # Customer 00004 is the worked example of Fader, Hardie and Lee (2005).
    row = cdnow_calibration.loc["00004"]

    assert row["frequency"] == 2
    assert row["recency"] == pytest.approx(30.43, abs=0.005)
    assert row["T"] == pytest.approx(38.86, abs=0.005)


def test_cdnow_summary_matches_pandas_oracle(
    cdnow_sample: pd.DataFrame, cdnow_calibration: pd.DataFrame
) -> None:
    days = (
        cdnow_sample[cdnow_sample["order_date"] <= CALIBRATION_END]
        .groupby(["customer_id", "order_date"], as_index=False)["amount"]
        .sum()
    )
    grouped = days.groupby("customer_id")
    first = grouped["order_date"].transform("min")
    repeat = days[days["order_date"] > first].groupby("customer_id")["amount"].mean()

    assert np.array_equal(
        cdnow_calibration["frequency"].to_numpy(), (grouped.size() - 1).to_numpy()
    )
    expected_recency = (grouped["order_date"].max() - grouped["order_date"].min()).dt.days / 7
    assert np.allclose(cdnow_calibration["recency"], expected_recency)
    repeat_buyers = cdnow_calibration[cdnow_calibration["frequency"] > 0]
    assert np.allclose(repeat_buyers["monetary_value"], repeat.loc[repeat_buyers.index])


def test_same_day_lines_are_one_purchase() -> None:
    lines = _lines([("a", "2024-01-01", 5.0), ("a", "2024-01-01", 7.0), ("a", "2024-01-08", 3.0)])

    summary = rfm_summary(lines, "2024-01-15", time_unit="days")

    assert summary.loc["a", "frequency"] == 1
    assert summary.loc["a", "recency"] == 7
    assert summary.loc["a", "T"] == 14
    assert summary.loc["a", "monetary_value"] == 3.0
    assert summary.loc["a", "total_spend"] == 15.0


def test_return_only_day_is_not_purchase() -> None:
    lines = _lines([("a", "2024-01-01", 50.0), ("a", "2024-01-05", -20.0)])

    summary = rfm_summary(lines, "2024-01-10", time_unit="days")

    assert summary.loc["a", "frequency"] == 0
    assert summary.loc["a", "recency"] == 0
    assert summary.loc["a", "total_spend"] == 30.0


def test_returns_lower_monetary_value() -> None:
    lines = _lines(
        [
            ("a", "2024-01-01", 100.0),
            ("a", "2024-01-03", 40.0),
            ("a", "2024-01-05", 60.0),
            ("a", "2024-01-06", -30.0),
        ]
    )

    summary = rfm_summary(lines, "2024-01-10", time_unit="days")

    assert summary.loc["a", "frequency"] == 2
    assert summary.loc["a", "monetary_value"] == 35.0
    assert summary.loc["a", "total_spend"] == 170.0


def test_zero_amount_counts_as_purchase() -> None:
    lines = _lines([("a", "2024-01-01", 10.0), ("a", "2024-01-04", 0.0)])

    summary = rfm_summary(lines, "2024-01-10", time_unit="days")

    assert summary.loc["a", "frequency"] == 1
    assert summary.loc["a", "monetary_value"] == 0.0


def test_returns_only_customer_is_kept() -> None:
    lines = _lines([("a", "2024-01-01", 10.0), ("b", "2024-01-03", -25.0)])

    summary = rfm_summary(lines, "2024-01-10", time_unit="days")

    assert summary.loc["b", "purchase_days"] == 0
    assert summary.loc["b", "frequency"] == 0
    assert summary.loc["b", "T"] == 7
    assert summary.loc["b", "total_spend"] == -25.0


def test_lines_after_calibration_end_ignored() -> None:
    lines = _lines([("a", "2024-01-01", 10.0), ("a", "2024-02-01", 10.0), ("b", "2024-03-01", 5.0)])

    summary = rfm_summary(lines, "2024-01-31", time_unit="days")

    assert list(summary.index) == ["a"]
    assert summary.loc["a", "frequency"] == 0


def test_time_units_scale_times() -> None:
    lines = _lines([("a", "2024-01-01", 10.0), ("a", "2024-01-29", 10.0)])

    days = rfm_summary(lines, "2024-03-01", time_unit="days")
    weeks = rfm_summary(lines, "2024-03-01", time_unit="weeks")
    months = rfm_summary(lines, "2024-03-01", time_unit="months")

    assert days.loc["a", "recency"] == 28
    assert weeks.loc["a", "recency"] == 4
    assert months.loc["a", "T"] == pytest.approx(60 / days_per_unit("months"))


def test_holdout_actuals_count_after_calibration() -> None:
    lines = _lines(
        [
            ("a", "2024-01-01", 10.0),
            ("a", "2024-02-02", 20.0),
            ("a", "2024-02-02", 5.0),
            ("a", "2024-02-10", -8.0),
            ("b", "2024-03-05", 1.0),
        ]
    )

    actuals = holdout_actuals(lines, "2024-01-31", "2024-02-29")

    assert list(actuals.index) == ["a"]
    assert actuals.loc["a", "frequency_holdout"] == 1
    assert actuals.loc["a", "spend_holdout"] == 17.0


def test_missing_column_named() -> None:
    lines = pd.DataFrame({"customer_id": ["a"], "order_date": ["2024-01-01"]})

    with pytest.raises(ValueError, match="lack the column 'amount'"):
        combine_same_day(lines)


def test_non_finite_amount_rejected() -> None:
    lines = _lines([("a", "2024-01-01", float("nan"))])

    with pytest.raises(ValueError, match="customer a on 2024-01-01 has the amount nan"):
        combine_same_day(lines)


def test_unknown_time_unit_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time unit 'years'; valid: days, weeks, months"):
        days_per_unit("years")
