"""Loading Stripe's subscriptions export: conversion, cancellation requests, rejection whole."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from server.ingestion.errors import IngestionError
from server.ingestion.subscriptions import load_subscriptions
from tests.ingestion.test_subscriptions import snapshot

STRIPE_FILE = Path(__file__).parent / "samples" / "stripe_subscriptions.csv"
SOURCE = "stripe"

# By hand from the sample: active subscriptions' amount per month. sub_1Pa002 is
# 240 a year, sub_1Pa003 three seats at 19, sub_1Pa005 5 a week (52 weeks in 12
# months) and sub_1Pa007 87 every 3 months.
EXPECTED_MRR = 19.0 + 240.0 / 12 + 3 * 19.0 + 5.0 * 52 / 12 + 87.0 / 3


def edited_copy(folder: Path, row: int, column: str, value: str) -> Path:
    """Write the sample with the cell of 1-based data `row` in `column` replaced."""
    with STRIPE_FILE.open(newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    rows[row][rows[0].index(column)] = value
    path = folder / "edited.csv"
    with path.open("w", newline="", encoding="utf-8") as target:
        csv.writer(target).writerows(rows)
    return path


def stored_subscriptions(engine: Engine) -> dict[str, tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT subscription_id, customer_id, end_date, cancel_requested_at, "
                "recurrence_months, recurring_amount FROM subscription"
            )
        ).all()
    return {
        row.subscription_id: (
            row.customer_id,
            None if row.end_date is None else pd.Timestamp(row.end_date).date(),
            None
            if row.cancel_requested_at is None
            else pd.Timestamp(row.cancel_requested_at).date(),
            row.recurrence_months,
            row.recurring_amount,
        )
        for row in rows
    }


def test_stripe_export_recognised_and_loaded(engine: Engine) -> None:
    report = load_subscriptions(engine, STRIPE_FILE, SOURCE)

    assert report.format_name == "stripe"
    assert report.rows_read == 8
    assert report.rows_loaded == 7
    assert report.excluded_rows == {"never paid": 1}
    assert report.customers == 5
    assert report.active_subscriptions == 5
    assert report.ended_subscriptions == 2
    assert report.cancel_requested == 1
    assert report.monthly_recurring_revenue == pytest.approx(EXPECTED_MRR)
    assert report.first_start_date == date(2022, 10, 1)


def test_stripe_rows_stored(engine: Engine) -> None:
    load_subscriptions(engine, STRIPE_FILE, SOURCE)

    stored = stored_subscriptions(engine)
    with engine.connect() as connection:
        customers = connection.execute(
            text("SELECT customer_id FROM customer WHERE source = :source ORDER BY customer_id"),
            {"source": SOURCE},
        ).scalars()
        assert list(customers) == ["cus_Qa001", "cus_Qa002", "cus_Qa003", "cus_Qa004", "cus_Qa006"]
    assert "sub_1Pa006" not in stored
    assert stored["sub_1Pa002"][3:] == (12, pytest.approx(240.0))
    assert stored["sub_1Pa005"][3:] == (1, pytest.approx(5.0 * 52 / 12))
    assert stored["sub_1Pa007"][3:] == (3, pytest.approx(87.0))
    assert stored["sub_1Pa003"][3:] == (1, pytest.approx(57.0))


def test_cancel_request_kept_apart_from_end(engine: Engine) -> None:
    load_subscriptions(engine, STRIPE_FILE, SOURCE)

    stored = stored_subscriptions(engine)
    # Still running until its period ends, with the request recorded.
    assert stored["sub_1Pa003"][1:3] == (None, date(2024, 5, 22))
    # Requested in January, ended at the period end in February.
    assert stored["sub_1Pa008"][1:3] == (date(2023, 2, 1), date(2023, 1, 12))
    assert stored["sub_1Pa004"][1:3] == (date(2023, 12, 15), date(2023, 12, 15))
    assert stored["sub_1Pa001"][1:3] == (None, None)


def test_stored_mrr_matches_hand_count(engine: Engine) -> None:
    load_subscriptions(engine, STRIPE_FILE, SOURCE)

    with engine.connect() as connection:
        mrr = connection.execute(
            text(
                "SELECT sum(recurring_amount / recurrence_months) FROM subscription "
                "WHERE end_date IS NULL AND source = :source"
            ),
            {"source": SOURCE},
        ).scalar_one()
    assert float(mrr) == pytest.approx(EXPECTED_MRR)


def test_stripe_attributes_become_profile(engine: Engine) -> None:
    load_subscriptions(engine, STRIPE_FILE, SOURCE, "StripeProfile")

    with engine.connect() as connection:
        rows = connection.execute(
            text('SELECT "CustomerId", "Plan", "Currency" FROM oe_stripeprofile')
        ).all()
    by_customer = {row[0]: (row[1], row[2]) for row in rows}
    # cus_Qa002's latest-starting subscription is the yearly Pro plan.
    assert by_customer["cus_Qa002"] == ("price_pro_y", "USD")
    assert len(by_customer) == 5


def test_double_load_changes_nothing(engine: Engine) -> None:
    load_subscriptions(engine, STRIPE_FILE, SOURCE, "StripeProfile")
    before = snapshot(engine)

    report = load_subscriptions(engine, STRIPE_FILE, SOURCE, "StripeProfile")

    assert report.replaced_rows == 7
    after = snapshot(engine)
    assert after["subscription"] == before["subscription"]
    assert after["customer"] == before["customer"]


BAD_STRIPE_CELLS = {
    "unknown interval": (1, "Interval", "fortnight", "invalid interval 'fortnight'"),
    "amount not a number": (2, "Amount", "twelve", "is not a number"),
    "other currency": (3, "Currency", "eur", "differs from 'usd'"),
    "cancel without date": (3, "Canceled At (UTC)", "", "'Canceled At (UTC)' is empty"),
    "invalid end date": (4, "Ended At (UTC)", "someday", "invalid date 'someday'"),
    "repeated id": (2, "id", "sub_1Pa001", "repeats row 1"),
}


@pytest.mark.parametrize(
    ("row", "column", "value", "message"), BAD_STRIPE_CELLS.values(), ids=list(BAD_STRIPE_CELLS)
)
def test_bad_stripe_cell_rejects_file(
    engine: Engine, tmp_path: Path, row: int, column: str, value: str, message: str
) -> None:
    load_subscriptions(engine, STRIPE_FILE, SOURCE)
    before = snapshot(engine)

    with pytest.raises(IngestionError) as caught:
        load_subscriptions(engine, edited_copy(tmp_path, row, column, value), SOURCE)

    error = caught.value
    problem_columns = [(problem.row, problem.column) for problem in error.problems]
    expected_column = "Cancel At Period End" if column == "Canceled At (UTC)" else column
    assert (row, expected_column) in problem_columns
    assert any(message in problem.message for problem in error.problems)
    assert error.rows_read == 8
    assert error.rows_rejected == 1
    assert snapshot(engine) == before


def test_stripe_dry_run_writes_nothing(engine: Engine) -> None:
    before = snapshot(engine)

    report = load_subscriptions(engine, STRIPE_FILE, SOURCE, "StripeProfile", dry_run=True)

    assert report.dry_run
    assert report.subscriptions == 7
    assert snapshot(engine) == before
