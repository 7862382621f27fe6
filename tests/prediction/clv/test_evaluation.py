from __future__ import annotations

import pandas as pd
import pytest

from server.prediction.clv.evaluation import (
    baseline_value,
    grade_holdout,
    historical_retention,
    top_customers,
    value_by_percentile,
)

IDS = [f"c{number:02d}" for number in range(20)]


def _series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=IDS[: len(values)], dtype=float)


def _found(count: int) -> pd.Series:
    """A prediction whose top four contains `count` of the true top four, c00 to c03."""
    values = pd.Series(1.0, index=IDS)
    values[IDS[:count]] = 100.0
    values[IDS[count:4]] = 0.0
    values[IDS[4 : 8 - count]] = 50.0
    return values


@pytest.fixture
def actual() -> pd.Series:
    # The true top four (top 20% of 20) are c00 to c03.
    return _series([500.0, 400.0, 300.0, 200.0] + [10.0] * 16)


@pytest.mark.parametrize(
    ("model_count", "baseline_count", "grade"),
    [(4, 3, "A"), (3, 3, "B"), (2, 3, "C"), (1, 0, "A"), (0, 0, "B")],
)
def test_grade_table(actual: pd.Series, model_count: int, baseline_count: int, grade: str) -> None:
    model = _found(model_count)
    baseline = _found(baseline_count)

    graded = grade_holdout(model, baseline, actual, 20.0)

    assert graded.details["high_value_found"] == model_count
    assert graded.details["high_value_found_by_baseline"] == baseline_count
    assert graded.grade == grade


def test_grade_a_needs_five_percent() -> None:
    ids = [f"c{number:03d}" for number in range(500)]
    actual = pd.Series(range(500, 0, -1), index=ids, dtype=float)
    truly_high = set(ids[:100])
    model = pd.Series(0.0, index=ids)
    baseline = pd.Series(0.0, index=ids)
    model[ids[:100]] = 1.0  # finds 100
    baseline[ids[:96]] = 1.0  # finds 96: the model finds 4.2% more
    baseline[ids[200:204]] = 1.0

    graded = grade_holdout(model, baseline, actual, 20.0)

    assert top_customers(actual, 100) == truly_high
    assert graded.grade == "B"
    assert "+4.2% against the baseline" in graded.reason


def test_metrics_beside_baseline(actual: pd.Series) -> None:
    graded = grade_holdout(actual * 1.0, _found(2), actual, 20.0)

    names = [metric.name for metric in graded.metrics]
    assert names == ["success_rate", "rmse"]
    success, rmse = graded.metrics
    assert success.value == 1.0
    assert success.baseline == 0.5
    assert rmse.value == 0.0
    assert rmse.baseline is not None and rmse.baseline > 0


def test_only_spenders_truly_high_value() -> None:
    actual = _series([30.0, 0.0, 0.0, -5.0, 0.0])
    predicted = _series([0.0, 9.0, 0.0, 0.0, 0.0])

    graded = grade_holdout(predicted, predicted, actual, 60.0)

    assert graded.details["high_value_customers"] == 1
    assert graded.grade == "B"


def test_no_holdout_spend_no_grade() -> None:
    nothing = _series([0.0, 0.0, -1.0])

    graded = grade_holdout(nothing, nothing, nothing, 20.0)

    assert graded.grade is None
    assert "no customer of the calibration period spent" in graded.reason


def test_top_customers_break_ties_by_id() -> None:
    values = pd.Series([5.0, 5.0, 5.0, 1.0], index=["b", "c", "a", "d"])

    assert top_customers(values, 2) == {"a", "b"}


def test_historical_retention_windows() -> None:
    days = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "d"],
            "order_date": pd.to_datetime(
                ["2024-01-05", "2024-01-25", "2024-01-10", "2024-01-15", "2024-01-28"]
            ),
        }
    )

    # Earlier window (Jan 1, Jan 16]: a, b, c. Recent window (Jan 16, Jan 31]: a, d.
    retention = historical_retention(days, pd.Timestamp("2024-01-31"), 15)

    assert retention == pytest.approx(1 / 3)


def test_historical_retention_without_earlier_buyers() -> None:
    days = pd.DataFrame({"customer_id": ["a"], "order_date": pd.to_datetime(["2024-01-30"])})

    assert historical_retention(days, pd.Timestamp("2024-01-31"), 10) == 1.0


def test_baseline_value_formula() -> None:
    summary = pd.DataFrame(
        {
            "first_date": pd.to_datetime(["2023-07-01", "2024-06-20", "2024-01-01"]),
            "total_spend": [600.0, 50.0, -20.0],
        },
        index=["a", "b", "c"],
    )
    end = pd.Timestamp("2024-06-30")

    baseline = baseline_value(summary, end, holdout_months=6.0, retention=0.5)

    months_a = (end - pd.Timestamp("2023-07-01")).days / (365.25 / 12)
    assert baseline["a"] == pytest.approx(600.0 / months_a * 6.0 * 0.5)
    assert baseline["b"] == pytest.approx(50.0 * 6.0 * 0.5)  # under a month counts as one
    assert baseline["c"] == 0.0


def test_value_by_percentile_groups() -> None:
    ranking = pd.Series(range(10, 0, -1), index=IDS[:10], dtype=float)

    groups = value_by_percentile(ranking, {"mean": ranking}, groups=5)

    assert [group["percentile"] for group in groups] == [20.0, 40.0, 60.0, 80.0, 100.0]
    assert [group["mean"] for group in groups] == [9.5, 7.5, 5.5, 3.5, 1.5]
    assert all(group["customers"] == 2 for group in groups)
