from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, select, text

from server.prediction.configuration import PredictionSpec, create_prediction
from server.prediction.output import (
    MAX_IDENTIFIER_BYTES,
    drop_stale_staging_tables,
    replace_entity,
    table_name_for,
)
from server.prediction.runner import run_prediction
from server.storage.engine import write_transaction
from server.storage.tables import OutputEntityRecord, table_of
from tests.prediction.conftest import insert_order_lines
from tests.prediction.transactional_churn.conftest import random_lines

LONGEST_NAME = "E" + "b" * 59
LINES = random_lines(seed=11, customers=80)
CUSTOMERS = LINES.loc[LINES["amount"] >= 0, "customer_id"].nunique()


def _identifiers(engine: Engine) -> list[str]:
    inspector = inspect(engine)
    names: list[str] = []
    for table in inspector.get_table_names():
        names.append(table)
        names += [str(index["name"]) for index in inspector.get_indexes(table)]
    return names


def _scores(engine: Engine, table_name: str) -> list[tuple[str, float]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(f'SELECT "CustomerId", "ChurnScore" FROM {table_name} ORDER BY "CustomerId"')
        ).all()
    return [(row[0], row[1]) for row in rows]


@pytest.mark.parametrize("length", [31, 43, 60])
def test_run_writes_long_entity_name(engine: Engine, length: int) -> None:
    entity = "E" + "b" * (length - 1)
    insert_order_lines(engine, LINES, source="shop")
    spec = PredictionSpec(
        name="Churn with a long entity name",
        kind="TRANSACTIONAL_CHURN",
        output_entity_name=entity,
        parameters={"source": "shop"},
    )
    prediction_id = create_prediction(engine, spec)
    assert isinstance(prediction_id, int), prediction_id

    first = run_prediction(engine, prediction_id)
    assert first.status == "SUCCEEDED", first.error
    first_scores = _scores(engine, table_name_for(entity))

    second = run_prediction(engine, prediction_id)
    assert second.status == "SUCCEEDED", second.error
    second_scores = _scores(engine, table_name_for(entity))

    registry = table_of(OutputEntityRecord)
    with engine.connect() as connection:
        version = connection.execute(
            select(registry.c.version).where(registry.c.name == entity)
        ).scalar_one()
    assert len(first_scores) == CUSTOMERS
    assert second_scores == first_scores
    assert version == 2
    assert [name for name in inspect(engine).get_table_names() if "staging" in name] == []
    too_long = [name for name in _identifiers(engine) if len(name.encode()) > MAX_IDENTIFIER_BYTES]
    assert too_long == []


def test_table_name_of_longest_name_fits() -> None:
    assert table_name_for(LONGEST_NAME) == "oe_" + LONGEST_NAME.lower()
    assert len(table_name_for(LONGEST_NAME).encode()) == MAX_IDENTIFIER_BYTES


def test_swap_with_new_columns_keeps_identifiers_short(engine: Engine) -> None:
    scores = pd.DataFrame({"CustomerId": ["c1", "c2"], "ChurnScore": [0.1, 0.2]})
    flagged = scores.assign(IsChurn=[False, True])

    replace_entity(engine, LONGEST_NAME, scores, prediction_id=None)
    replace_entity(engine, LONGEST_NAME, flagged, prediction_id=None)
    replace_entity(engine, LONGEST_NAME, flagged, prediction_id=None)

    table_name = table_name_for(LONGEST_NAME)
    columns = [column["name"] for column in inspect(engine).get_columns(table_name)]
    assert columns == ["CustomerId", "ChurnScore", "IsChurn"]
    assert _scores(engine, table_name) == [("c1", 0.1), ("c2", 0.2)]
    too_long = [name for name in _identifiers(engine) if len(name.encode()) > MAX_IDENTIFIER_BYTES]
    assert too_long == []


def test_stale_staging_tables_dropped_in_both_forms(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        connection.exec_driver_sql('CREATE TABLE oe__staging_0123456789abcdef ("CustomerId" TEXT)')
        connection.exec_driver_sql('CREATE TABLE oe_churn__staging_0123abcd ("CustomerId" TEXT)')

    dropped = drop_stale_staging_tables(engine)

    assert sorted(dropped) == ["oe__staging_0123456789abcdef", "oe_churn__staging_0123abcd"]
    assert [name for name in inspect(engine).get_table_names() if "staging" in name] == []


def test_entity_named_like_legacy_staging_kept(engine: Engine) -> None:
    entity = "Churn__staging_0123abcd"
    rows = pd.DataFrame({"CustomerId": ["c1"], "ChurnScore": [0.5]})
    replace_entity(engine, entity, rows, prediction_id=None)

    assert drop_stale_staging_tables(engine) == []
    assert _scores(engine, table_name_for(entity)) == [("c1", 0.5)]
