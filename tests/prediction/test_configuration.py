from __future__ import annotations

from sqlalchemy import Engine

from server.prediction.configuration import (
    PredictionChanges,
    PredictionSpec,
    create_prediction,
    update_prediction,
)
from server.prediction.runner import queue_run


def test_entity_rename_waits_for_queued_run(sqlite_engine: Engine) -> None:
    created = create_prediction(
        sqlite_engine,
        PredictionSpec("Churn", "TRANSACTIONAL_CHURN", "FirstName", {"source": "cdnow"}),
    )
    assert isinstance(created, int)
    run_id = queue_run(sqlite_engine, created)

    outcome = update_prediction(
        sqlite_engine, created, PredictionChanges(output_entity_name="SecondName")
    )

    assert isinstance(outcome, list)
    assert outcome[0].code == "RUN_IN_PROGRESS"
    assert f"run {run_id}" in outcome[0].message


def test_prediction_name_normalized(sqlite_engine: Engine) -> None:
    first = create_prediction(
        sqlite_engine, PredictionSpec("CDNOW  churn ", "TRANSACTIONAL_CHURN", "A", {"source": "x"})
    )
    second = create_prediction(
        sqlite_engine, PredictionSpec("cdnow churn", "TRANSACTIONAL_CHURN", "B", {"source": "x"})
    )

    assert isinstance(first, int)
    assert isinstance(second, list)
    assert second[0].code == "DUPLICATE_NAME"
