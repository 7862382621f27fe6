"""Loading subscriptions: rows, customers and profile written, bad input rejected whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, text

from server.ingestion.errors import IngestionError
from server.ingestion.subscriptions import load_subscriptions
from server.prediction.output import replace_entity

SOURCE = "shop"
PROFILE = "ShopProfile"


def good_rows() -> pd.DataFrame:
    """Four subscriptions of three customers; C1 renewed at a higher price."""
    return pd.DataFrame(
        {
            "subscription_id": ["S1", "S2", "S3", "S4"],
            "customer_id": ["C1", "C1", "C2", "C3"],
            "start_date": ["2023-01-01", "2024-01-01", "2023-06-15", "2022-03-01"],
            "end_date": ["2023-12-31", "", "", "2023-03-01"],
            "recurrence_months": ["12", "12", "1", "1"],
            "recurring_amount": ["120.00", "132.00", "9.99", "15"],
            "is_recurring": ["true", "yes", "", "false"],
            "Plan": ["Basic", "Pro", "Basic", "Team"],
            "Seats": ["1", "3", "1", "5"],
        }
    )


def write_csv(rows: pd.DataFrame, folder: Path, name: str = "subscriptions.csv") -> Path:
    path = folder / name
    rows.to_csv(path, index=False)
    return path


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Return every row the loader can write, as sorted text, to compare before and after."""
    queries = {
        "subscription": "SELECT * FROM subscription",
        "customer": "SELECT * FROM customer",
        "output_entity": "SELECT name, table_name, role, row_count, version FROM output_entity",
    }
    tables = set(inspect(engine).get_table_names())
    if "oe_shopprofile" in tables:
        queries["profile"] = "SELECT * FROM oe_shopprofile"
    with engine.connect() as connection:
        return {
            name: sorted(repr(tuple(row)) for row in connection.execute(text(query)))
            for name, query in queries.items()
        }


def test_load_writes_subscriptions_customers_and_profile(engine: Engine, tmp_path: Path) -> None:
    report = load_subscriptions(engine, write_csv(good_rows(), tmp_path), SOURCE, PROFILE)

    assert report.subscriptions == 4
    assert report.active_subscriptions == 2
    assert report.customers == 3
    assert report.first_start_date == date(2022, 3, 1)
    assert report.profile_attributes == ("Plan", "Seats")
    assert report.profile_conflicts == 1
    with engine.connect() as connection:
        subscriptions = connection.execute(
            text(
                "SELECT subscription_id, source, customer_id, start_date, end_date, "
                "recurrence_months, recurring_amount, is_recurring "
                "FROM subscription ORDER BY subscription_id"
            )
        ).all()
        customers = connection.execute(
            text("SELECT customer_id, source FROM customer ORDER BY customer_id")
        ).all()
        profile = connection.execute(
            text('SELECT "CustomerId", "Plan", "Seats" FROM oe_shopprofile ORDER BY "CustomerId"')
        ).all()
        role = connection.execute(
            text("SELECT role FROM output_entity WHERE name = 'ShopProfile'")
        ).scalar_one()
    first = subscriptions[0]
    assert first.subscription_id == "S1"
    assert first.source == SOURCE
    assert pd.Timestamp(first.start_date).date() == date(2023, 1, 1)
    assert pd.Timestamp(first.end_date).date() == date(2023, 12, 31)
    assert first.recurrence_months == 12
    assert first.recurring_amount == pytest.approx(120.0)
    assert subscriptions[1].end_date is None
    assert [bool(row.is_recurring) for row in subscriptions] == [True, True, True, False]
    assert [tuple(row) for row in customers] == [("C1", SOURCE), ("C2", SOURCE), ("C3", SOURCE)]
    # C1's attributes come from S2, the later of their two subscriptions.
    assert [tuple(row) for row in profile] == [
        ("C1", "Pro", 3),
        ("C2", "Basic", 1),
        ("C3", "Team", 5),
    ]
    assert role == "profile"


def test_reload_replaces_rows_of_source(engine: Engine) -> None:
    load_subscriptions(engine, good_rows(), SOURCE)
    other = good_rows().assign(
        subscription_id=["X1", "X2", "X3", "X4"], customer_id=["D1", "D1", "D2", "D3"]
    )
    load_subscriptions(engine, other, "other")

    report = load_subscriptions(engine, good_rows().iloc[:1], SOURCE)

    with engine.connect() as connection:
        ids = connection.execute(
            text("SELECT subscription_id FROM subscription ORDER BY subscription_id")
        ).scalars()
        customers = connection.execute(
            text("SELECT customer_id FROM customer ORDER BY customer_id")
        ).scalars()
        assert list(ids) == ["S1", "X1", "X2", "X3", "X4"]
        assert list(customers) == ["C1", "D1", "D2", "D3"]
    assert report.replaced_rows == 4


def test_frame_input_keeps_attribute_types(sqlite_engine: Engine) -> None:
    rows = pd.DataFrame(
        {
            "subscription_id": ["S1", "S2"],
            "customer_id": ["C1", "C2"],
            "start_date": pd.to_datetime(["2023-01-01", "2023-02-01"]),
            "end_date": pd.to_datetime(pd.Series(["2023-06-30", None])),
            "recurrence_months": [1, 12],
            "recurring_amount": [9.5, 99.0],
            "SeniorCitizen": [True, False],
            "TotalCharges": [57.0, None],
        }
    )

    load_subscriptions(sqlite_engine, rows, SOURCE, PROFILE)

    columns = {
        column["name"]: type(column["type"]).__name__
        for column in inspect(sqlite_engine).get_columns("oe_shopprofile")
    }
    assert columns["SeniorCitizen"] == "BOOLEAN"
    assert columns["TotalCharges"] == "FLOAT"
    with sqlite_engine.connect() as connection:
        ends = connection.execute(
            text("SELECT end_date FROM subscription ORDER BY subscription_id")
        ).scalars()
        assert [None if end is None else str(end) for end in ends] == ["2023-06-30", None]


def test_attributes_ignored_without_profile_name(engine: Engine) -> None:
    report = load_subscriptions(engine, good_rows(), SOURCE)

    assert report.ignored_columns == ("Plan", "Seats")
    assert report.profile_entity is None
    assert snapshot(engine)["output_entity"] == []


@dataclass(frozen=True)
class BadCell:
    row: int
    column: str
    value: str
    message: str


BAD_CELLS = {
    "invalid start date": BadCell(2, "start_date", "2023-13-01", "Write dates as YYYY-MM-DD"),
    "invalid end date": BadCell(1, "end_date", "31/12/2023", "Write dates as YYYY-MM-DD"),
    "empty start date": BadCell(3, "start_date", "", "the date is empty"),
    "end before start": BadCell(1, "end_date", "2022-12-31", "before the start date"),
    "amount not a number": BadCell(3, "recurring_amount", "9,99 EUR", "is not a number"),
    "negative amount": BadCell(4, "recurring_amount", "-15", "is negative"),
    "recurrence not whole": BadCell(3, "recurrence_months", "1.5", "whole number of months"),
    "recurrence zero": BadCell(3, "recurrence_months", "0", "whole number of months"),
    "repeated id": BadCell(3, "subscription_id", "S1", "repeats row 1"),
    "empty customer id": BadCell(2, "customer_id", "", "customer id is empty"),
    "invalid flag": BadCell(2, "is_recurring", "maybe", "is not true or false"),
}


@pytest.mark.parametrize("case", BAD_CELLS.values(), ids=list(BAD_CELLS))
def test_bad_cell_rejected_and_nothing_written(
    engine: Engine, tmp_path: Path, case: BadCell
) -> None:
    load_subscriptions(engine, good_rows(), SOURCE, PROFILE)
    before = snapshot(engine)
    rows = good_rows()
    rows.loc[case.row - 1, case.column] = case.value

    with pytest.raises(IngestionError) as caught:
        load_subscriptions(engine, write_csv(rows, tmp_path), SOURCE, PROFILE)

    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].row == case.row
    assert problems[0].column == case.column
    assert problems[0].value == case.value
    assert f"Row {case.row}, column {case.column!r}" in problems[0].message
    assert case.message in problems[0].message
    assert snapshot(engine) == before


def test_missing_column_rejected(engine: Engine) -> None:
    load_subscriptions(engine, good_rows(), SOURCE, PROFILE)
    before = snapshot(engine)

    with pytest.raises(IngestionError) as caught:
        load_subscriptions(engine, good_rows().drop(columns="start_date"), SOURCE, PROFILE)

    problem = caught.value.problems[0]
    assert problem.row is None
    assert problem.column == "start_date"
    assert "Column 'start_date' is missing" in problem.message
    assert "'end_date'" in problem.message
    assert snapshot(engine) == before


def test_every_problem_listed(sqlite_engine: Engine) -> None:
    rows = good_rows()
    rows.loc[0, "start_date"] = "yesterday"
    rows.loc[3, "recurring_amount"] = "free"

    with pytest.raises(IngestionError) as caught:
        load_subscriptions(sqlite_engine, rows, SOURCE)

    assert caught.value.problem_count == 2
    assert [(problem.row, problem.column) for problem in caught.value.problems] == [
        (1, "start_date"),
        (4, "recurring_amount"),
    ]


@pytest.mark.parametrize(
    ("column", "owned_value", "message"),
    [
        ("subscription_id", "S3", "subscription id 'S3' already belongs to source 'shop'"),
        ("customer_id", "C2", "customer id 'C2' already belongs to source 'shop'"),
    ],
)
def test_id_of_another_source_rejected(
    engine: Engine, column: str, owned_value: str, message: str
) -> None:
    load_subscriptions(engine, good_rows(), SOURCE, PROFILE)
    before = snapshot(engine)
    other = good_rows().assign(
        subscription_id=["X1", "X2", "X3", "X4"], customer_id=["D1", "D1", "D2", "D3"]
    )
    other.loc[1, column] = owned_value

    with pytest.raises(IngestionError) as caught:
        load_subscriptions(engine, other, "other")

    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (2, column, owned_value)
    assert message in problem.message
    assert snapshot(engine) == before


def test_profile_name_of_output_entity_rejected(engine: Engine) -> None:
    scores = pd.DataFrame({"CustomerId": ["C1"], "ChurnScore": [0.5]})
    replace_entity(engine, "ShopProfile", scores, prediction_id=None, role="output")
    before = snapshot(engine)

    with pytest.raises(ValueError, match="already uses its table for a prediction's output"):
        load_subscriptions(engine, good_rows(), SOURCE, PROFILE)

    assert snapshot(engine) == before


def test_invalid_attribute_name_rejected(sqlite_engine: Engine) -> None:
    rows = good_rows().rename(columns={"Plan": "plan name"})

    with pytest.raises(IngestionError, match="'plan name' cannot name a profile attribute"):
        load_subscriptions(sqlite_engine, rows, SOURCE, PROFILE)


def test_invalid_source_rejected(sqlite_engine: Engine) -> None:
    with pytest.raises(ValueError, match="invalid source ''"):
        load_subscriptions(sqlite_engine, good_rows(), "")


def test_report_as_dict_is_plain(sqlite_engine: Engine) -> None:
    report = load_subscriptions(sqlite_engine, good_rows(), SOURCE, PROFILE)

    values: dict[str, Any] = report.as_dict()

    assert values["first_start_date"] == "2022-03-01"
    assert values["profile_attributes"] == ["Plan", "Seats"]
    assert "4 subscriptions (2 active) of 3 customers" in report.summary()
