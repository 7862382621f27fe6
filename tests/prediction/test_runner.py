from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text, update

from server.prediction.base import KindResult, Progress
from server.prediction.registry import KINDS
from server.prediction.runner import (
    INTERRUPTED_REASON,
    RunError,
    RunInProgressError,
    execute_run,
    get_run,
    mark_interrupted_runs,
    queue_run,
    run_prediction,
)
from server.storage.engine import write_transaction
from server.storage.tables import OutputEntityRecord, Prediction, PredictionRun, table_of
from tests.prediction.conftest import (
    CDNOW_SAMPLE_CUSTOMERS,
    create_prediction,
    insert_order_lines,
    load_cdnow_sample,
)
from tests.prediction.transactional_churn.conftest import random_lines

SHOP_LINES = random_lines(seed=5, customers=150)
SHOP_CUSTOMERS = SHOP_LINES.loc[SHOP_LINES["amount"] >= 0, "customer_id"].nunique()
PREDICTIONS = table_of(Prediction)
RUNS = table_of(PredictionRun)
ENTITIES = table_of(OutputEntityRecord)


def _prediction(engine: Engine, prediction_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(select(PREDICTIONS).where(PREDICTIONS.c.id == prediction_id)).one()
    return dict(row._mapping)


def _entity(engine: Engine) -> tuple[int, list[tuple[str, float]]]:
    """Return the entity's registry version and its (CustomerId, ChurnScore) rows."""
    with engine.connect() as connection:
        version = connection.execute(
            select(ENTITIES.c.version).where(ENTITIES.c.name == "ChurnPredictions")
        ).scalar_one()
        rows = connection.execute(
            text('SELECT "CustomerId", "ChurnScore" FROM oe_churnpredictions ORDER BY "CustomerId"')
        ).all()
    return version, [(row[0], row[1]) for row in rows]


def _set_parameters(engine: Engine, prediction_id: int, parameters: dict[str, Any]) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(PREDICTIONS)
            .where(PREDICTIONS.c.id == prediction_id)
            .values(parameters=parameters)
        )


@pytest.fixture
def succeeded(engine: Engine) -> int:
    """A prediction on seeded random orders with one successful run; returns its id."""
    insert_order_lines(engine, SHOP_LINES, source="shop")
    prediction_id = create_prediction(engine, {"source": "shop"})
    assert run_prediction(engine, prediction_id).status == "SUCCEEDED"
    return prediction_id


def test_run_writes_entity_and_results(engine: Engine) -> None:
    load_cdnow_sample(engine)
    prediction_id = create_prediction(engine, {"source": "cdnow", "seed": 3})
    steps: list[str] = []

    run = run_prediction(engine, prediction_id, steps.append)

    assert run.status == "SUCCEEDED"
    assert run.error is None
    assert run.row_count == CDNOW_SAMPLE_CUSTOMERS
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.started_at <= run.finished_at
    assert run.metrics is not None
    assert run.metrics["roc_auc"] > 0.7
    assert run.metrics["roc_auc_baseline"] > 0.5
    assert steps[0] == "checking data"
    assert steps[1] == "loading"
    assert steps[-2] == "writing"
    assert steps[-1] == "refreshing segments"
    assert get_run(engine, run.id).step == "refreshing segments"

    prediction = _prediction(engine, prediction_id)
    results = prediction["results"]
    assert prediction["status"] == "SUCCEEDED"
    assert prediction["error"] is None
    assert results["run_id"] == run.id
    assert results["row_count"] == CDNOW_SAMPLE_CUSTOMERS
    assert results["grade"] in {"A", "B", "C"}
    assert results["grade_reason"].startswith(f"Grade {results['grade']}: ")
    assert [metric["name"] for metric in results["metrics"]] == [
        "roc_auc",
        "precision",
        "recall",
        "precision_at_k",
        "brier_score",
    ]
    assert set(results["metrics"][0]) == {"name", "value", "baseline"}
    assert sum(factor["importance"] for factor in results["factors"]) == pytest.approx(1.0)
    assert results["details"]["parameters"]["seed"] == 3
    assert results["finished_at"]

    version, rows = _entity(engine)
    assert version == 1
    assert len(rows) == CDNOW_SAMPLE_CUSTOMERS


def test_second_run_replaces_entity(engine: Engine, succeeded: int) -> None:
    _set_parameters(engine, succeeded, {"source": "shop", "threshold": 0.8})

    run = run_prediction(engine, succeeded)

    version, rows = _entity(engine)
    assert run.status == "SUCCEEDED"
    assert version == 2
    assert len(rows) == SHOP_CUSTOMERS
    assert _prediction(engine, succeeded)["results"]["run_id"] == run.id


def test_empty_source_fails_and_keeps_entity(engine: Engine, succeeded: int) -> None:
    before = _entity(engine)
    results_before = _prediction(engine, succeeded)["results"]
    _set_parameters(engine, succeeded, {"source": "nowhere"})

    run = run_prediction(engine, succeeded)

    assert run.status == "FAILED"
    assert run.finished_at is not None
    assert run.error == (
        "the data cannot support this prediction: order_line.source: no rows have source "
        "'nowhere' (load data for source 'nowhere' or set parameters.source to one of: 'shop')"
    )
    prediction = _prediction(engine, succeeded)
    assert prediction["status"] == "FAILED"
    assert prediction["error"] == run.error
    assert prediction["results"] == results_before
    assert _entity(engine) == before


def test_bad_parameters_fail_the_run(engine: Engine) -> None:
    prediction_id = create_prediction(engine, {"source": "cdnow", "threshold": 2})

    run = run_prediction(engine, prediction_id)

    assert run.status == "FAILED"
    assert run.error is not None
    assert "threshold: must be from 0 to 1, got 2" in run.error
    assert _prediction(engine, prediction_id)["status"] == "FAILED"
    with engine.connect() as connection:
        assert connection.execute(select(ENTITIES.c.name)).all() == []


class _BrokenKind:
    name = "TRANSACTIONAL_CHURN"

    def validate_parameters(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return dict(raw)

    def run(self, engine: Engine, parameters: Mapping[str, Any], progress: Progress) -> KindResult:
        raise RuntimeError('syntax error at or near "SELECT secret"')


def test_unexpected_error_hides_details(
    engine: Engine,
    succeeded: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = _entity(engine)
    monkeypatch.setitem(KINDS, "TRANSACTIONAL_CHURN", _BrokenKind())

    with caplog.at_level(logging.INFO, logger="server.prediction.runner"):
        run = run_prediction(engine, succeeded)

    assert run.status == "FAILED"
    assert run.error == (
        f"internal error (RuntimeError) during run {run.id}; the server log has the details"
    )
    assert _entity(engine) == before
    failures = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert f"run {run.id} of prediction {succeeded} failed" in failures[0].getMessage()


def test_unknown_kind_fails_the_run(engine: Engine) -> None:
    prediction_id = create_prediction(engine, {}, kind="HOROSCOPE")

    run = run_prediction(engine, prediction_id)

    assert run.status == "FAILED"
    assert run.error is not None
    assert run.error.startswith("unknown prediction kind 'HOROSCOPE'; valid: ")


def test_run_start_and_end_are_logged(
    engine: Engine, succeeded: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="server.prediction.runner"):
        run = run_prediction(engine, succeeded)

    messages = [record.getMessage() for record in caplog.records]
    assert f"run {run.id} of prediction {succeeded} (TRANSACTIONAL_CHURN) started" in messages
    assert any(
        message.startswith(f"run {run.id} of prediction {succeeded} succeeded in ")
        for message in messages
    )


def test_missing_prediction_is_lookup_error(engine: Engine) -> None:
    with pytest.raises(LookupError, match="prediction 404 not found"):
        run_prediction(engine, 404)


def test_second_queued_run_is_rejected(engine: Engine) -> None:
    prediction_id = create_prediction(engine, {"source": "cdnow"})
    first = queue_run(engine, prediction_id)

    with pytest.raises(RunInProgressError, match=f"already has run {first} QUEUED"):
        queue_run(engine, prediction_id)


def test_interrupted_runs_are_failed(engine: Engine) -> None:
    running_id = create_prediction(engine, {"source": "cdnow"})
    queued_id = create_prediction(engine, {"source": "cdnow"}, name="Other", entity="Other")
    with write_transaction(engine) as connection:
        connection.execute(insert(RUNS).values(prediction_id=running_id, status="RUNNING"))
        connection.execute(insert(RUNS).values(prediction_id=running_id, status="SUCCEEDED"))
        connection.execute(update(PREDICTIONS).values(status="RUNNING"))
    queue_run(engine, queued_id)

    marked = mark_interrupted_runs(engine)

    assert len(marked) == 2
    for run_id in marked:
        run = get_run(engine, run_id)
        assert run.status == "FAILED"
        assert run.error == INTERRUPTED_REASON
        assert run.finished_at is not None
    for prediction_id in (running_id, queued_id):
        assert _prediction(engine, prediction_id)["status"] == "FAILED"
        assert _prediction(engine, prediction_id)["error"] == INTERRUPTED_REASON
    with engine.connect() as connection:
        statuses = connection.execute(select(RUNS.c.status).order_by(RUNS.c.id)).scalars().all()
    assert statuses == ["FAILED", "SUCCEEDED", "FAILED"]
    assert mark_interrupted_runs(engine) == []


def test_finished_run_cannot_restart(engine: Engine, succeeded: int) -> None:
    run_id = _prediction(engine, succeeded)["results"]["run_id"]

    with pytest.raises(RunError, match=f"run {run_id} is SUCCEEDED; only a QUEUED run can start"):
        execute_run(engine, run_id)

    assert get_run(engine, run_id).status == "SUCCEEDED"
