from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, text

from server.prediction.output import drop_stale_staging_tables, replace_entity


def _rows(score: float, count: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "CustomerId": [f"c{i}" for i in range(count)],
            "ChurnScore": [score] * count,
            "IsChurn": [score >= 0.5] * count,
            "ScoredAt": pd.to_datetime(["2024-01-01"] * count),
        }
    )


def test_replace_entity_swaps_rows(engine: Engine) -> None:
    replace_entity(engine, "Churn", _rows(0.2), prediction_id=None)
    replace_entity(engine, "Churn", _rows(0.9, count=3), prediction_id=None)

    with engine.connect() as connection:
        scores = connection.execute(text('SELECT "ChurnScore" FROM oe_churn')).scalars().all()
        version = connection.execute(
            text("SELECT version FROM output_entity WHERE name = 'Churn'")
        ).scalar_one()
    assert scores == [0.9, 0.9, 0.9]
    assert version == 2
    assert [name for name in inspect(engine).get_table_names() if "staging" in name] == []


def test_replace_entity_rejects_bad_name(engine: Engine) -> None:
    with pytest.raises(ValueError, match="invalid entity name 'x; drop'"):
        replace_entity(engine, "x; drop", _rows(0.1), prediction_id=None)


def test_failed_replace_keeps_previous_rows(engine: Engine) -> None:
    replace_entity(engine, "Churn", _rows(0.2), prediction_id=None)
    bad = _rows(0.9)
    bad["CustomerId"] = [object()] * len(bad)

    with pytest.raises(Exception):  # noqa: B017 - the driver decides which error it raises
        replace_entity(engine, "Churn", bad, prediction_id=None)

    with engine.connect() as connection:
        scores = connection.execute(text('SELECT "ChurnScore" FROM oe_churn')).scalars().all()
    assert scores == [0.2] * 5
    assert drop_stale_staging_tables(engine) == []
