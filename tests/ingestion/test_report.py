from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from server.ingestion import load_orders
from tests.ingestion.helpers import write_cdnow_sample


def test_report_summary_and_dict(sqlite_engine: Engine, tmp_path: Path) -> None:
    lines = ["00001 19970101 1 11.77", "00002 19970112 5 77.00", "00002 19970301 1 -12.00"]
    path = write_cdnow_sample(tmp_path / "orders.txt", lines)

    report = load_orders(sqlite_engine, path, "cdnow", source="cdnow")
    values = report.as_dict()

    assert report.summary().startswith("loaded 3 of 3 rows of orders.txt as source 'cdnow' in ")
    assert report.summary().endswith(
        "customers 2, orders 3, returns 1, net revenue 76.77, order dates 1997-01-01 to "
        "1997-03-01, lines replaced 0"
    )
    assert "\n" not in report.summary()
    assert values["first_order_date"] == "1997-01-01"
    assert values["last_order_date"] == "1997-03-01"
    assert values["mapping"] == "cdnow"
    assert values["warnings"] == [
        {
            "row": 3,
            "column": "dollar_value",
            "value": "-12.00",
            "message": (
                "Row 3, column 'dollar_value': negative amount -12.00 was loaded as a return."
            ),
        }
    ]
    assert json.loads(json.dumps(values)) == values
