from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from server.ingestion import load_orders
from server.prediction.base import KindResult, PredictionDataError
from server.prediction.clv import CustomerLifetimeValueKind, scoring
from server.prediction.clv.bgnbd import BGNBDModel
from server.prediction.clv.fitting import ConvergenceError
from server.prediction.clv.kind import OUTPUT_COLUMNS
from server.prediction.output import replace_entity
from server.prediction.registry import KINDS
from server.storage.engine import make_engine
from server.storage.migrate import upgrade
from tests.conftest import DATA
from tests.prediction.conftest import (
    CDNOW_SAMPLE_CUSTOMERS,
    insert_order_lines,
    load_cdnow,
    load_cdnow_sample,
)

KIND = CustomerLifetimeValueKind()
NUMERIC_COLUMNS = ["CLVScore", "ExpectedPurchases", "ProbabilityAlive", "CLVPercentile"]


def _run(engine: Engine, **parameters: Any) -> KindResult:
    return KIND.run(engine, KIND.validate_parameters(parameters), lambda step: None)


def _lines(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])


def _cell(rows: pd.DataFrame, customer: str, column: str) -> float:
    """The number in `column` of the row indexed by `customer`."""
    return float(rows.loc[rows.index == customer, column].to_numpy()[0])


def _assert_all_finite(rows: pd.DataFrame) -> None:
    values = rows[NUMERIC_COLUMNS].to_numpy(dtype=float)
    assert np.isfinite(values).all()


def test_kind_registered() -> None:
    assert isinstance(KINDS["CUSTOMER_LIFETIME_VALUE"], CustomerLifetimeValueKind)


@pytest.fixture(scope="module")
def cdnow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[KindResult, list[str]]:
    """One run with default parameters on all of CDNOW, shared by the tests that read it."""
    folder = tmp_path_factory.mktemp("cdnow")
    engine = make_engine(f"sqlite:///{(folder / 'lookahead.db').as_posix()}")
    upgrade(engine)
    load_cdnow(engine)
    steps: list[str] = []
    result = KIND.run(engine, KIND.validate_parameters({"source": "cdnow"}), steps.append)
    engine.dispose()
    return result, steps


def test_cdnow_graded(cdnow_run: tuple[KindResult, list[str]]) -> None:
    result, steps = cdnow_run

    assert steps == ["features", "evaluation", "training", "scoring"]
    assert result.details["calibration_end"] == "1997-06-30"
    assert result.details["graded_customers"] == 23570
    # Measured: the model finds 2418 of 4714 truly high-value customers, the baseline 2258.
    assert result.grade == "A"
    success, rmse = result.metrics
    assert success.baseline is not None and success.value > success.baseline
    assert rmse.baseline is not None and rmse.value < rmse.baseline


def test_cdnow_rows(cdnow_run: tuple[KindResult, list[str]]) -> None:
    result, _ = cdnow_run

    rows = result.rows
    assert list(rows.columns) == list(OUTPUT_COLUMNS)
    assert len(rows) == 23570
    assert rows["CustomerId"].is_unique
    assert result.details["one_time_buyers"] == 12054
    _assert_all_finite(rows)
    assert rows["ProbabilityAlive"].between(0.0, 1.0).all()
    assert rows["ModelVersion"].nunique() == 1


def test_cdnow_zero_spend_customers(cdnow_run: tuple[KindResult, list[str]]) -> None:
    master = pd.read_csv(DATA / "CDNOW_master.txt.gz", sep=r"\s+", dtype={"customer_id": str})
    spend = master.groupby("customer_id")["dollar_value"].sum()
    rows = cdnow_run[0].rows.set_index("CustomerId")

    zero = rows["CLVScore"] == 0
    assert zero.sum() > 0
    assert set(rows.index[zero]) == set(spend.index[spend <= 0])
    assert (rows["CLVScore"] >= 0).all()


def test_cdnow_value_buckets(cdnow_run: tuple[KindResult, list[str]]) -> None:
    rows = cdnow_run[0].rows

    by_bucket = rows.groupby("ValueBucket")["CLVScore"]
    assert by_bucket.min()["High"] > by_bucket.max()["Medium"]
    assert by_bucket.min()["Medium"] > by_bucket.max()["Low"]
    high_share = (rows["ValueBucket"] == "High").mean()
    assert 0.19 < high_share <= 0.20
    top = rows.nlargest(1, "CLVScore").iloc[0]
    assert top["CLVPercentile"] == pytest.approx(100 * (len(rows) - 1) / len(rows))


def test_cdnow_value_by_percentile(cdnow_run: tuple[KindResult, list[str]]) -> None:
    details = cdnow_run[0].details

    groups = details["value_by_percentile"]
    assert [group["percentile"] for group in groups] == [10.0 * n for n in range(1, 11)]
    assert sum(group["share_of_value"] for group in groups) == pytest.approx(1.0)
    means = [group["mean_clv"] for group in groups]
    assert means == sorted(means, reverse=True)
    assert len(details["holdout_by_percentile"]) == 10


def test_rows_written_as_entity(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)
    rows = _run(sqlite_engine, source="cdnow").rows

    replace_entity(sqlite_engine, "LifetimeValue", rows, prediction_id=None)

    with sqlite_engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM oe_lifetimevalue")).scalar_one()
        high = connection.execute(
            text("SELECT COUNT(*) FROM oe_lifetimevalue WHERE \"ValueBucket\" = 'High'")
        ).scalar_one()
    assert count == CDNOW_SAMPLE_CUSTOMERS
    assert high == (rows["ValueBucket"] == "High").sum()


def test_published_fit_through_database(engine: Engine) -> None:
    load_cdnow_sample(engine)

    result = _run(engine, source="cdnow", calibration_end="1997-09-30", time_unit="weeks")

    fit = result.details["calibration_fit"]
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert fit["bgnbd"][name] == pytest.approx(published, abs=0.005), name
    assert fit["bgnbd_log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    for name, published in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert fit["gamma_gamma"][name] == pytest.approx(published, abs=0.005), name
    assert len(result.rows) == CDNOW_SAMPLE_CUSTOMERS
    _assert_all_finite(result.rows)


def test_superstore_end_to_end(sqlite_engine: Engine) -> None:
    load_orders(sqlite_engine, DATA / "superstore.csv.gz", "superstore", source="superstore")

    result = _run(sqlite_engine, source="superstore")

    assert result.grade in {"A", "B", "C"}
    assert result.details["calibration_end"] == "2016-12-30"
    assert result.details["new_customers_in_holdout"] == 11
    assert len(result.rows) == 793
    _assert_all_finite(result.rows)


def test_short_history_not_graded(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)

    result = _run(sqlite_engine, source="cdnow", horizon_months=24)

    assert result.grade is None
    assert result.grade_reason.startswith("not graded: no holdout")
    assert result.metrics == []
    assert result.details["calibration_end"] == "1998-06-30"
    assert len(result.rows) == CDNOW_SAMPLE_CUSTOMERS


def test_failed_calibration_fit_not_graded(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)

    result = _run(sqlite_engine, source="cdnow", calibration_end="1997-01-01")

    assert result.grade is None
    assert result.grade_reason.startswith(
        "not graded: the BG/NBD purchase model cannot be fitted on the calibration period "
        "up to 1997-01-01: none of the"
    )
    assert len(result.rows) == CDNOW_SAMPLE_CUSTOMERS


def test_customers_without_net_spend(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)
    extra = _lines(
        [
            ("refunded", "1997-02-01", 30.0),
            ("refunded", "1997-03-01", 20.0),
            ("refunded", "1997-03-05", -60.0),
            ("even", "1997-02-10", 25.0),
            ("even", "1997-05-10", -25.0),
            ("returns_only", "1997-04-01", -15.0),
        ]
    )
    insert_order_lines(sqlite_engine, extra, "cdnow")

    rows = _run(sqlite_engine, source="cdnow").rows.set_index("CustomerId")

    special = rows.loc[["refunded", "even", "returns_only"]]
    assert (special["CLVScore"] == 0.0).all()
    assert (special["ValueBucket"] == "Low").all()
    assert (special["CLVPercentile"] == 0.0).all()
    assert _cell(special, "refunded", "ExpectedPurchases") > 0
    assert _cell(special, "returns_only", "ProbabilityAlive") == 1.0
    _assert_all_finite(rows)


def test_return_after_last_purchase_scored(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)
    late = _lines([("late_return", "1998-07-15", -9.0), ("00004", "1998-07-20", -5.0)])
    insert_order_lines(sqlite_engine, late, "cdnow")

    result = _run(sqlite_engine, source="cdnow")

    rows = result.rows.set_index("CustomerId")
    assert _cell(rows, "late_return", "CLVScore") == 0.0
    assert result.details["holdout_end"] == "1998-07-20"
    assert len(rows) == CDNOW_SAMPLE_CUSTOMERS + 1


def test_extreme_customers_stay_finite(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)
    days = pd.date_range(end="1998-06-30", periods=500, freq="D").strftime("%Y-%m-%d")
    extra = _lines(
        [("whale", day, 1e7) for day in days]
        + [("lapsed", day, 1e7) for day in days[:400]]
        + [("penny", day, 0.01) for day in days[::3]]
        + [("free", "1997-01-05", 0.0), ("free", "1998-06-30", 0.0)]
        + [("newcomer", "1998-06-30", 12.0)]
    )
    insert_order_lines(sqlite_engine, extra, "cdnow")

    rows = _run(sqlite_engine, source="cdnow").rows.set_index("CustomerId")

    _assert_all_finite(rows.reset_index())
    assert rows.loc["whale", "ValueBucket"] == "High"
    # A daily buyer silent for 100 days has almost surely dropped out.
    assert 0 <= _cell(rows, "lapsed", "ProbabilityAlive") < 1e-6
    assert _cell(rows, "free", "CLVScore") == 0.0
    assert _cell(rows, "newcomer", "ProbabilityAlive") == 1.0
    assert _cell(rows, "newcomer", "CLVScore") > 0


def test_single_transaction_rejected(sqlite_engine: Engine) -> None:
    insert_order_lines(sqlite_engine, _lines([("a", "1997-01-01", 10.0)]), "tiny")

    with pytest.raises(PredictionDataError, match="all 1 purchases of source 'tiny' are on 1997"):
        _run(sqlite_engine, source="tiny")


def test_one_day_rejected(sqlite_engine: Engine) -> None:
    lines = _lines([(f"c{n}", "1997-03-01", 5.0 + n) for n in range(50)])
    insert_order_lines(sqlite_engine, lines, "oneday")

    with pytest.raises(PredictionDataError, match="all 50 purchases of source 'oneday' are on"):
        _run(sqlite_engine, source="oneday")


def test_no_repeat_purchases_rejected(sqlite_engine: Engine) -> None:
    dates = pd.date_range("1997-01-01", periods=50, freq="D").strftime("%Y-%m-%d")
    lines = _lines([(f"c{n}", day, 10.0) for n, day in enumerate(dates)])
    insert_order_lines(sqlite_engine, lines, "once")

    with pytest.raises(PredictionDataError, match="none of the 50 customers has a repeat purchase"):
        _run(sqlite_engine, source="once")


def test_equal_spend_rejected(sqlite_engine: Engine) -> None:
    dates = pd.date_range("1997-01-01", periods=60, freq="W").strftime("%Y-%m-%d")
    lines = _lines([(f"c{n % 20}", day, 10.0) for n, day in enumerate(dates)])
    insert_order_lines(sqlite_engine, lines, "flat")

    with pytest.raises(PredictionDataError, match="Gamma-Gamma spend model cannot be fitted"):
        _run(sqlite_engine, source="flat")


def test_only_returns_rejected(sqlite_engine: Engine) -> None:
    insert_order_lines(sqlite_engine, _lines([("a", "1997-01-01", -10.0)]), "refunds")

    with pytest.raises(PredictionDataError, match="has only returns"):
        _run(sqlite_engine, source="refunds")


def test_unknown_source_lists_known(sqlite_engine: Engine) -> None:
    insert_order_lines(sqlite_engine, _lines([("a", "1997-01-01", 10.0)]), "shop")

    with pytest.raises(PredictionDataError, match=r"sources with order lines: shop\)"):
        _run(sqlite_engine, source="nope")


def test_calibration_end_before_data_rejected(sqlite_engine: Engine) -> None:
    load_cdnow_sample(sqlite_engine)

    with pytest.raises(PredictionDataError, match="calibration_end 1996-12-01 is before"):
        _run(sqlite_engine, source="cdnow", calibration_end="1996-12-01")


def test_fit_without_convergence_rejected(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_cdnow_sample(sqlite_engine)
    monkeypatch.setattr(scoring, "MAX_ITERATIONS", 1)

    with pytest.raises(PredictionDataError) as raised:
        _run(sqlite_engine, source="cdnow")

    message = str(raised.value)
    assert "BG/NBD purchase model cannot be fitted on all order lines" in message
    assert "with l2_penalty 0, maximum likelihood did not converge" in message
    assert "with l2_penalty 0.0001, maximum likelihood did not converge" in message


class _NoPlainOptimum(BGNBDModel):
    """A BG/NBD model whose unpenalised fit never converges."""

    def fit(self, frequency: Any, recency: Any, T: Any) -> _NoPlainOptimum:
        if self.l2_penalty == 0:
            raise ConvergenceError("maximum likelihood did not converge (forced by the test)")
        return super().fit(frequency, recency, T)


def test_penalised_fallback_used(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    load_cdnow_sample(sqlite_engine)
    monkeypatch.setattr(scoring, "BGNBDModel", _NoPlainOptimum)

    result = _run(sqlite_engine, source="cdnow")

    assert result.details["scoring_fit"]["bgnbd_l2_penalty"] == scoring.FALLBACK_L2_PENALTY
    assert result.details["scoring_fit"]["gamma_gamma_l2_penalty"] == 0.0
    assert result.grade is not None
    _assert_all_finite(result.rows)
