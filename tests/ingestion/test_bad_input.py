"""Invalid files: each problem names its row, column and value, and nothing is written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from server.ingestion import ColumnMapping, IngestionError, load_orders, loader
from server.ingestion.merge import MergeCounts
from tests.ingestion.helpers import CDNOW_SAMPLE, table_rows, write_superstore_sample


@dataclass(frozen=True)
class BadCell:
    edits: dict[tuple[int, str], str]
    row: int
    column: str
    value: str
    message: str


BAD_CELLS = {
    "invalid date": BadCell(
        {(3, "Order Date"): "2016-13-40"},
        3,
        "Order Date",
        "2016-13-40",
        "Row 3, column 'Order Date': invalid date '2016-13-40'. Write dates as %Y-%m-%d, "
        "for example 1997-01-31",
    ),
    "date in another format": BadCell(
        {(2, "Order Date"): "11/8/2016"},
        2,
        "Order Date",
        "11/8/2016",
        "Row 2, column 'Order Date': invalid date '11/8/2016'.",
    ),
    "empty date": BadCell(
        {(4, "Order Date"): ""},
        4,
        "Order Date",
        "",
        "Row 4, column 'Order Date': the order date is empty.",
    ),
    "amount with currency sign": BadCell(
        {(2, "Sales"): "$12.50"},
        2,
        "Sales",
        "$12.50",
        "Row 2, column 'Sales': the amount '$12.50' is not a number. Write it as a plain "
        "decimal number",
    ),
    "empty amount": BadCell(
        {(5, "Sales"): ""},
        5,
        "Sales",
        "",
        "Row 5, column 'Sales': the amount is empty. Fill it in or remove the row.",
    ),
    "infinite amount": BadCell(
        {(1, "Sales"): "inf"},
        1,
        "Sales",
        "inf",
        "Row 1, column 'Sales': the amount 'inf' is not a number.",
    ),
    "text quantity": BadCell(
        {(4, "Quantity"): "two"},
        4,
        "Quantity",
        "two",
        "Row 4, column 'Quantity': the quantity 'two' is not a number.",
    ),
    "empty customer id": BadCell(
        {(5, "Customer ID"): "  "},
        5,
        "Customer ID",
        "",
        "Row 5, column 'Customer ID': the customer id is empty. Fill it in or remove the row.",
    ),
    "customer id too long": BadCell(
        {(2, "Customer ID"): "C" * 65},
        2,
        "Customer ID",
        "C" * 65,
        "Row 2, column 'Customer ID': the value 'CCCCCCCCCCCCCCCCCCCC…' has 65 characters, "
        "more than the 64 the database column allows.",
    ),
    "region too long": BadCell(
        {(3, "Region"): "R" * 70},
        3,
        "Region",
        "R" * 70,
        "Row 3, column 'Region': the value 'RRRRRRRRRRRRRRRRRRRR…' has 70 characters",
    ),
    "repeated line id": BadCell(
        {(5, "Row ID"): "2"},
        5,
        "Row ID",
        "2",
        "Row 5, column 'Row ID': line id '2' repeats row 2. Remove one of the two rows",
    ),
    "empty line id": BadCell(
        {(6, "Row ID"): ""},
        6,
        "Row ID",
        "",
        "Row 6, column 'Row ID': the line id is empty.",
    ),
}


@pytest.mark.parametrize("case", BAD_CELLS.values(), ids=BAD_CELLS.keys())
def test_bad_cell_writes_nothing(engine: Engine, tmp_path: Path, case: BadCell) -> None:
    good = write_superstore_sample(tmp_path / "good.csv", rows=8)
    bad = write_superstore_sample(tmp_path / "bad.csv", rows=8, edits=case.edits)

    with pytest.raises(IngestionError) as on_empty:
        load_orders(engine, bad, "superstore", source="superstore")
    assert table_rows(engine) == {"customer": [], "order_line": []}

    load_orders(engine, good, "superstore", source="superstore")
    before = table_rows(engine)
    with pytest.raises(IngestionError) as on_loaded:
        load_orders(engine, bad, "superstore", source="superstore")
    assert table_rows(engine) == before

    for error in (on_empty.value, on_loaded.value):
        assert error.problem_count == 1
        problem = error.problems[0]
        assert problem.row == case.row
        assert problem.column == case.column
        assert problem.value == case.value
        assert problem.message.startswith(case.message)
        assert case.message in str(error)


def test_missing_columns_listed(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Row ID,Order ID,Customer ID\n1,A-1,C1\n", encoding="utf-8")

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, "superstore", source="superstore")

    missing = [problem.column for problem in caught.value.problems]
    assert missing == [
        "Order Date",
        "Sales",
        "Quantity",
        "Product ID",
        "Segment",
        "Country",
        "City",
        "State",
        "Region",
    ]
    assert caught.value.problems[0].row is None
    assert caught.value.problems[0].message.startswith(
        "Column 'Order Date' is missing. Columns found: 'Row ID', 'Order ID', 'Customer ID'."
    )


def test_wrong_separator_shows_one_column(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id;date;number_of_cds;dollar_value\n1;19970101;1;2.0\n")

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, "cdnow", source="cdnow")

    assert "Columns found: 'customer_id;date;number_of_cds;dollar_value'" in str(caught.value)
    assert "Check the header and the separator" in str(caught.value)


def test_extra_field_names_row_and_line(sqlite_engine: Engine, tmp_path: Path) -> None:
    lines = [
        "customer_id date number_of_cds dollar_value",
        "1 19970101 1 2.0",
        "2 19970102 1 3.0 x",
    ]
    path = tmp_path / "orders.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, "cdnow", source="cdnow")

    problem = caught.value.problems[0]
    assert problem.row == 2
    assert problem.message.startswith("Row 2 (file line 3) has 5 fields, but the header has 4.")


def test_every_row_too_long_rejected(sqlite_engine: Engine, tmp_path: Path) -> None:
    # A trailing separator on every data row must not shift the columns.
    path = tmp_path / "orders.csv"
    path.write_text("a,b,c\n1,2,3,\n4,5,6,\n", encoding="utf-8")
    mapping = ColumnMapping(
        name="abc", customer_id="a", order_date="b", date_format="%d", amount="c"
    )

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, mapping, source="abc")

    assert caught.value.problems[0].row == 1
    assert caught.value.problems[0].message.startswith(
        "Row 1 (file line 2) has 4 fields, but the header has 3."
    )


def test_headerless_row_too_long_rejected(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.txt"
    path.write_text("00001 0001 19970101 1 11.77 x\n", encoding="utf-8")

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, CDNOW_SAMPLE, source="sample")

    assert caught.value.problems[0].message.startswith(
        "Row 1 (file line 1) has 6 fields, but the mapping names 5."
    )


def test_repeated_header_name_uses_first(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.txt"
    path.write_text(
        "customer_id date number_of_cds dollar_value dollar_value\n00001 19970101 1 2.5 x\n",
        encoding="utf-8",
    )

    report = load_orders(sqlite_engine, path, "cdnow", source="cdnow")

    assert report.net_revenue == 2.5


def test_empty_and_header_only_files(sqlite_engine: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    header_only = tmp_path / "header.txt"
    header_only.write_text("customer_id date number_of_cds dollar_value\n", encoding="utf-8")

    with pytest.raises(IngestionError, match=r"empty\.txt is empty"):
        load_orders(sqlite_engine, empty, "cdnow", source="cdnow")
    with pytest.raises(IngestionError, match=r"header\.txt has no data rows"):
        load_orders(sqlite_engine, header_only, "cdnow", source="cdnow")


def test_file_not_utf8(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(
        "customer_id date number_of_cds dollar_value\nJos\xe9 19970101 1 2.0\n".encode("latin-1")
    )

    with pytest.raises(
        IngestionError,
        match=r"latin1\.txt is not valid UTF-8 text \(invalid continuation byte at byte 47\)",
    ):
        load_orders(sqlite_engine, path, "cdnow", source="cdnow")


def test_problems_sorted_and_capped(sqlite_engine: Engine, tmp_path: Path) -> None:
    edits = {(row, "Order Date"): f"bad-{row}" for row in range(1, 61)}
    edits[7, "Sales"] = "seven"
    path = write_superstore_sample(tmp_path / "orders.csv", rows=60, edits=edits)

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, "superstore", source="superstore")

    error = caught.value
    assert error.problem_count == 61
    assert len(error.problems) == 50
    assert [problem.row for problem in error.problems[:8]] == [1, 2, 3, 4, 5, 6, 7, 7]
    assert [problem.column for problem in error.problems[6:8]] == ["Order Date", "Sales"]
    assert "61 problems found, nothing was written" in str(error)
    assert str(error).endswith("… and 51 more")


def test_customer_of_other_source_rejected(engine: Engine, tmp_path: Path) -> None:
    path = write_superstore_sample(tmp_path / "orders.csv", rows=8)
    load_orders(engine, path, "superstore", source="store-a")
    before = table_rows(engine)

    with pytest.raises(IngestionError) as caught:
        load_orders(engine, path, "superstore", source="store-b")

    assert table_rows(engine) == before
    problem = caught.value.problems[0]
    assert problem.row == 1
    assert problem.column == "Customer ID"
    assert problem.value == "CG-12520"
    assert problem.message.startswith(
        "Row 1, column 'Customer ID': customer id 'CG-12520' already belongs to source 'store-a'."
    )
    # One problem per customer, at the first row where it appears.
    assert len({problem.value for problem in caught.value.problems}) == len(caught.value.problems)


def test_invalid_source_rejected(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = write_superstore_sample(tmp_path / "orders.csv", rows=2)

    with pytest.raises(ValueError, match=r"invalid source ''; use 1 to 64 characters"):
        load_orders(sqlite_engine, path, "superstore", source="")
    with pytest.raises(ValueError, match=r"invalid source 'xxxx"):
        load_orders(sqlite_engine, path, "superstore", source="x" * 65)


def test_failed_merge_rolls_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_orders(engine, write_superstore_sample(tmp_path / "old.csv", rows=4), "superstore", "s")
    before = table_rows(engine)
    monkeypatch.setattr(loader, "upsert_source", _fail_after(loader.upsert_source))

    new_file = write_superstore_sample(tmp_path / "new.csv", rows=8)
    with pytest.raises(RuntimeError, match="merge failed"):
        load_orders(engine, new_file, "superstore", source="s")

    # The merge had written the new lines and customers before the failure.
    assert table_rows(engine) == before


Merge = Callable[[Connection, str, list[str]], MergeCounts]


def _fail_after(merge: Merge) -> Merge:
    def merge_then_fail(connection: Connection, source: str, attributes: list[str]) -> MergeCounts:
        merge(connection, source, attributes)
        raise RuntimeError("merge failed")

    return merge_then_fail


def test_concurrent_loads_share_customers(engine: Engine, tmp_path: Path) -> None:
    path = write_superstore_sample(tmp_path / "orders.csv", rows=40)
    start = threading.Barrier(2)
    outcomes: dict[str, BaseException | None] = {}

    def load(source: str) -> None:
        start.wait()
        try:
            load_orders(engine, path, "superstore", source=source)
            outcomes[source] = None
        except Exception as error:
            outcomes[source] = error

    threads = [threading.Thread(target=load, args=(source,)) for source in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Whichever load commits first owns the customers, and the other gets row messages.
    failures = [error for error in outcomes.values() if error is not None]
    assert len(failures) == 1
    assert isinstance(failures[0], IngestionError)
    assert "already belongs to source" in str(failures[0])
    assert len(table_rows(engine)["order_line"]) == 40


def test_huge_amount_rejected(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text(
        "customer_id date number_of_cds dollar_value\n"
        " 00001 19970101 1 1e308\n"
        " 00002 19970101 1 1e308\n"
    )

    with pytest.raises(IngestionError, match="larger than 1e"):
        load_orders(sqlite_engine, path, "cdnow", source="cdnow")
