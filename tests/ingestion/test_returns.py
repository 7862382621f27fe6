"""Negative amounts are returns: loaded, counted and listed as warnings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.ingestion import load_orders
from tests.ingestion.helpers import write_cdnow_sample, write_superstore_sample


def test_returns_loaded_and_reported(engine: Engine, tmp_path: Path) -> None:
    edits = {(2, "Sales"): "-731.94", (4, "Sales"): "-0.5"}
    path = write_superstore_sample(tmp_path / "orders.csv", rows=6, edits=edits)

    report = load_orders(engine, path, "superstore", source="superstore")

    with engine.connect() as connection:
        negative = connection.execute(
            text("SELECT amount FROM order_line WHERE amount < 0 ORDER BY amount")
        ).scalars()
        amounts = list(negative)
        total = connection.execute(text("SELECT sum(amount) FROM order_line")).scalar_one()
    assert amounts == [-731.94, -0.5]
    assert report.rows_loaded == 6
    assert report.returns == 2
    assert report.warning_count == 2
    assert [warning.row for warning in report.warnings] == [2, 4]
    assert [warning.column for warning in report.warnings] == ["Sales", "Sales"]
    assert [warning.value for warning in report.warnings] == ["-731.94", "-0.5"]
    assert report.warnings[0].message == (
        "Row 2, column 'Sales': negative amount -731.94 was loaded as a return."
    )
    assert report.net_revenue == pytest.approx(total)


def test_return_warnings_capped(sqlite_engine: Engine, tmp_path: Path) -> None:
    lines = [f"{index:05d} 19970101 1 -{index}.25" for index in range(1, 61)]
    path = write_cdnow_sample(tmp_path / "orders.txt", lines)

    report = load_orders(sqlite_engine, path, "cdnow", source="cdnow")

    assert report.rows_loaded == 60
    assert report.returns == 60
    assert report.warning_count == 60
    assert len(report.warnings) == 50
    assert report.warnings[-1].row == 50
    assert report.net_revenue == pytest.approx(-sum(index + 0.25 for index in range(1, 61)))
