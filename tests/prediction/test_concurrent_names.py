"""Prediction and output entity names stay unique ignoring case when requests race."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import Engine, func, insert, select, text

from server.prediction.configuration import (
    PredictionChanges,
    PredictionSpec,
    create_prediction,
    update_prediction,
)
from server.storage.engine import write_transaction
from server.storage.tables import Prediction, table_of, utc_now
from tests.concurrency import run_together, wait_until_blocked_by

CALLS = 12
KIND = "TRANSACTIONAL_CHURN"


def spec(name: str, entity: str) -> PredictionSpec:
    return PredictionSpec(name, KIND, entity, {"source": "cdnow"})


def prediction_rows(engine: Engine) -> list[tuple[str, str]]:
    predictions = table_of(Prediction)
    with engine.connect() as connection:
        rows = connection.execute(select(predictions.c.name, predictions.c.output_entity_name))
        return [tuple(row) for row in rows]


def split_outcomes(outcomes: list[object]) -> tuple[list[object], list[object]]:
    created = [outcome for outcome in outcomes if isinstance(outcome, int)]
    rejected = [outcome for outcome in outcomes if isinstance(outcome, list)]
    return created, rejected


def test_parallel_names_one_wins(engine: Engine) -> None:
    names = ["RaceEnt", "raceent", " RACEENT "]

    outcomes = run_together(
        [
            lambda index=index: create_prediction(
                engine, spec(names[index % len(names)], f"Entity{index}")
            )
            for index in range(CALLS)
        ]
    )

    created, rejected = split_outcomes(outcomes)
    assert len(created) == 1, outcomes
    assert len(rejected) == CALLS - 1, outcomes
    for problems in rejected:
        assert isinstance(problems, list)
        assert [(problem.field, problem.code) for problem in problems] == [
            ("name", "DUPLICATE_NAME")
        ]
        assert "choose another name" in problems[0].message
    [(stored_name, _entity)] = prediction_rows(engine)
    assert stored_name.lower() == "raceent"


def test_parallel_entity_names_one_wins(engine: Engine) -> None:
    entities = ["RaceEnt", "raceent", "RACEENT"]

    outcomes = run_together(
        [
            lambda index=index: create_prediction(
                engine, spec(f"Prediction {index}", entities[index % len(entities)])
            )
            for index in range(CALLS)
        ]
    )

    created, rejected = split_outcomes(outcomes)
    assert len(created) == 1, outcomes
    assert len(rejected) == CALLS - 1, outcomes
    for problems in rejected:
        assert isinstance(problems, list)
        assert [(problem.field, problem.code) for problem in problems] == [
            ("outputEntityName", "DUPLICATE_NAME")
        ]
        assert "an entity named" in problems[0].message
    assert len(prediction_rows(engine)) == 1


def test_parallel_renames_one_wins(engine: Engine) -> None:
    ids = [create_prediction(engine, spec(f"P{index}", f"E{index}")) for index in range(CALLS)]

    outcomes = run_together(
        [
            lambda index=index: update_prediction(
                engine,
                int(ids[index]),
                PredictionChanges(output_entity_name=["RaceEnt", "raceent"][index % 2]),
            )
            for index in range(CALLS)
        ]
    )

    renamed, rejected = split_outcomes(outcomes)
    assert len(renamed) == 1, outcomes
    assert len(rejected) == CALLS - 1, outcomes
    entities = [entity.lower() for _name, entity in prediction_rows(engine)]
    assert entities.count("raceent") == 1


# SQLite's BEGIN IMMEDIATE serialises writers, so there the name check always runs
# after the other commit and the index is never what rejects the name.
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_insert_after_check_gets_duplicate(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="server.prediction.configuration")
    now = utc_now()

    with engine.connect() as holder:
        holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
        holder.execute(
            insert(table_of(Prediction)).values(
                name="First",
                kind=KIND,
                output_entity_name="RaceEnt",
                parameters={"source": "cdnow"},
                created_at=now,
                updated_at=now,
            )
        )
        # The other transaction's checks cannot see the uncommitted row, so its INSERT
        # waits on the unique index until this transaction commits.
        outcomes: list[object] = []
        creating = threading.Thread(
            target=lambda: outcomes.append(create_prediction(engine, spec("Second", "raceent")))
        )
        creating.start()
        wait_until_blocked_by(engine, holder_pid)
        holder.commit()
        creating.join()

    assert len(outcomes) == 1
    problems = outcomes[0]
    assert isinstance(problems, list)
    assert problems[0].field == "outputEntityName"
    assert problems[0].code == "DUPLICATE_NAME"
    assert problems[0].message == (
        "an entity named 'raceent', or a name equal to it ignoring case, was saved by another "
        "request at the same time; choose another name"
    )
    assert "another request saved its outputEntityName" in caplog.text
    assert prediction_rows(engine) == [("First", "RaceEnt")]


def test_keys_stored_with_names(engine: Engine) -> None:
    created = create_prediction(engine, spec("  Churn  Risk ", "ChurnRisk"))
    assert isinstance(created, int)
    assert update_prediction(engine, created, PredictionChanges(name="Straße")) == created

    predictions = table_of(Prediction)
    with write_transaction(engine) as connection:
        row = connection.execute(
            select(predictions.c.name_key, predictions.c.output_entity_key)
        ).one()
        count = connection.execute(select(func.count()).select_from(predictions)).scalar_one()
    assert tuple(row) == ("strasse", "churnrisk")
    assert count == 1
    outcome = create_prediction(engine, spec("STRASSE", "Other"))
    assert isinstance(outcome, list)
    assert outcome[0].message == (
        "a prediction named 'Straße' already exists (names are compared ignoring case); "
        "choose another name"
    )


def test_duplicate_entity_message_names_existing(engine: Engine) -> None:
    assert isinstance(create_prediction(engine, spec("First", "ChurnScores")), int)

    outcome = create_prediction(engine, spec("Second", "CHURNSCORES"))

    assert isinstance(outcome, list)
    assert [(problem.field, problem.code) for problem in outcome] == [
        ("outputEntityName", "DUPLICATE_NAME")
    ]
    assert outcome[0].message == (
        "an entity named 'ChurnScores' already exists (names are compared ignoring case); "
        "choose another name"
    )
