"""Row handling: duplicate policies, blank lines, headerless files and the profile rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.ingestion import (
    WHITESPACE,
    ColumnMapping,
    IngestionError,
    ProfileColumns,
    ReaderOptions,
    load_orders,
)
from tests.ingestion.helpers import count_rows, write_cdnow_sample

# A CDNOW-like layout whose equal rows are mistakes rather than separate purchases.
STRICT = ColumnMapping(
    name="strict",
    customer_id="customer_id",
    order_date="date",
    date_format="%Y%m%d",
    amount="dollar_value",
    quantity="number_of_cds",
    reader=ReaderOptions(separator=WHITESPACE),
    duplicates="reject",
)

PROFILED = ColumnMapping(
    name="profiled",
    customer_id="customer",
    order_date="day",
    date_format="%d.%m.%Y",
    amount="amount",
    profile=ProfileColumns(region="region", city="city"),
)


def test_keep_policy_loads_equal_rows(engine: Engine, tmp_path: Path) -> None:
    lines = ["00002 19970112 1 12.00", "00002 19970112 1 12.00", "00003 19970102 2 20.76"]
    path = write_cdnow_sample(tmp_path / "orders.txt", lines)

    report = load_orders(engine, path, "cdnow", source="cdnow")

    assert report.rows_loaded == 3
    assert report.customers == 2
    assert report.orders == 3
    assert count_rows(engine, "order_line", "cdnow") == 3
    assert count_rows(engine, "customer", "cdnow") == 2


def test_reject_policy_names_both_rows(sqlite_engine: Engine, tmp_path: Path) -> None:
    lines = ["00002 19970112 1 12.00", "00003 19970102 2 20.76", "00002 19970112 1 12.00"]
    path = write_cdnow_sample(tmp_path / "orders.txt", lines)

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, STRICT, source="strict")

    problem = caught.value.problems[0]
    assert caught.value.problem_count == 1
    assert problem.row == 3
    assert problem.column is None
    assert problem.value is None
    assert problem.message.startswith("Row 3 repeats row 1 in every column.")
    assert count_rows(sqlite_engine, "order_line", "strict") == 0


def test_blank_lines_keep_row_numbers(sqlite_engine: Engine, tmp_path: Path) -> None:
    lines = ["00001 19970101 1 11.77", "", "00002 19970112 1 12.00", "00003 1997-01-02 2 20.76"]
    path = write_cdnow_sample(tmp_path / "orders.txt", lines)

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, "cdnow", source="cdnow")
    assert caught.value.problems[0].row == 4

    path = write_cdnow_sample(tmp_path / "orders.txt", lines[:3])
    report = load_orders(sqlite_engine, path, "cdnow", source="cdnow")
    assert report.rows_read == 3
    assert report.rows_loaded == 2


def test_ids_keep_leading_zeros(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_cdnow_sample(tmp_path / "orders.txt", ["00007 19970101 1 11.77"])

    load_orders(sqlite_engine, path, "cdnow", source="cdnow")

    with sqlite_engine.connect() as connection:
        ids = connection.execute(text("SELECT customer_id FROM order_line")).scalars().all()
    assert ids == ["00007"]


def test_profile_from_latest_line(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer,day,amount,region,city\n"
        "c1,01.02.2017,5,West,Seattle\n"
        "c1,01.01.2016,5,East,Boston\n"
        "c1,01.02.2017,5,South,\n"
        "c2,15.03.2016,5,East,Boston\n"
        "c1,31.12.2016,5,Central,Chicago\n",
        encoding="utf-8",
    )

    report = load_orders(engine, path, PROFILED, source="shop")

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT customer_id, region, city, segment FROM customer ORDER BY customer_id")
        ).all()
    # c1's latest date has two lines. The later one in the file wins, empty city included.
    assert [tuple(row) for row in rows] == [
        ("c1", "South", None, None),
        ("c2", "East", "Boston", None),
    ]
    assert report.profile_conflicts == 1
    assert report.orders == 5


def test_headerless_file_uses_declared_names(sqlite_engine: Engine, tmp_path: Path) -> None:
    mapping = ColumnMapping(
        name="headerless",
        customer_id="id",
        order_date="date",
        date_format="%Y%m%d",
        amount="value",
        reader=ReaderOptions(separator="|", header=False, column_names=("id", "date", "value")),
    )
    path = tmp_path / "orders.psv"
    path.write_text("a|19970101|1.5\nb|1997010x|2\n", encoding="utf-8")

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, mapping, source="headerless")

    # Without a header, data row 2 is file line 2.
    assert caught.value.problems[0].row == 2
    assert caught.value.problems[0].column == "date"
