"""The Telco derivation: its rules, the shipped files, and loading them."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from server.ingestion.telco import (
    PROFILE_FILE,
    RAW_FILE,
    REFERENCE_DATE,
    SUBSCRIPTIONS_FILE,
    TelcoTables,
    derive_telco,
    load_telco,
    main,
    to_csv_text,
)
from tests.conftest import DATA


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(DATA / RAW_FILE)


@pytest.fixture(scope="module")
def tables(raw: pd.DataFrame) -> TelcoTables:
    return derive_telco(raw)


@pytest.mark.parametrize("name", [SUBSCRIPTIONS_FILE, PROFILE_FILE])
def test_shipped_file_equals_fresh_derivation(tables: TelcoTables, name: str) -> None:
    fresh = tables.subscriptions if name == SUBSCRIPTIONS_FILE else tables.profile

    shipped = gzip.decompress((DATA / name).read_bytes()).decode("utf-8")

    assert shipped == to_csv_text(fresh), (
        f"run `python -m server.ingestion.telco` to refresh {name}"
    )


def test_churned_subscriptions_end_on_reference_date(
    raw: pd.DataFrame, tables: TelcoTables
) -> None:
    subscriptions = tables.subscriptions
    churned = (raw["churn"] == "Yes").to_numpy()

    assert churned.sum() == 1869
    assert set(subscriptions.loc[churned, "end_date"]) == {REFERENCE_DATE.isoformat()}
    assert set(subscriptions.loc[~churned, "end_date"]) == {""}


def test_start_is_tenure_months_before_reference(raw: pd.DataFrame, tables: TelcoTables) -> None:
    starts = pd.to_datetime(tables.subscriptions["start_date"])
    reference = pd.Timestamp(REFERENCE_DATE)

    months = (reference.year - starts.dt.year) * 12 + (reference.month - starts.dt.month)

    assert (months == raw["tenure"]).all()
    assert (starts.dt.day == 1).all()
    assert tables.subscriptions.loc[1, "start_date"] == "2021-03-01"  # tenure 34


def test_recurrence_and_amount_follow_contract(raw: pd.DataFrame, tables: TelcoTables) -> None:
    subscriptions = tables.subscriptions
    expected_months = raw["contract"].map({"Month-to-month": 1, "One year": 12, "Two year": 24})

    assert (subscriptions["recurrence_months"] == expected_months).all()
    assert subscriptions["recurring_amount"].to_numpy() == pytest.approx(
        (raw["monthly_charges"] * expected_months).to_numpy(), abs=0.005
    )
    assert subscriptions["is_recurring"].all()


def test_ids_are_row_numbers(tables: TelcoTables) -> None:
    customer_ids = tables.subscriptions["customer_id"]

    assert customer_ids.iloc[0] == "T0001"
    assert customer_ids.iloc[-1] == "T7043"
    assert customer_ids.is_unique
    assert tables.subscriptions["subscription_id"].iloc[0] == "TS0001"
    assert (tables.profile["CustomerId"] == customer_ids).all()


def test_profile_has_readable_attributes_and_no_outcome(tables: TelcoTables) -> None:
    columns = list(tables.profile.columns)

    assert columns[0] == "CustomerId"
    for attribute in ("Contract", "InternetService", "PaymentMethod", "SeniorCitizen", "Gender"):
        assert attribute in columns
    for leaked in ("churn", "Churn", "tenure", "end_date"):
        assert leaked not in columns
    assert tables.profile["SeniorCitizen"].dtype == bool


def test_unknown_contract_rejected(raw: pd.DataFrame) -> None:
    changed = raw.head(3).assign(contract=["Month-to-month", "Weekly", "Two year"])

    with pytest.raises(ValueError, match=r"unknown contract types \['Weekly'\]"):
        derive_telco(changed)


def test_command_writes_same_bytes_as_shipped(tmp_path: Path) -> None:
    shutil.copy(DATA / RAW_FILE, tmp_path / RAW_FILE)

    main(["--data-dir", str(tmp_path)])

    for name in (SUBSCRIPTIONS_FILE, PROFILE_FILE):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes()


def test_load_telco_writes_subscriptions_and_profile(sqlite_engine: Engine) -> None:
    report = load_telco(sqlite_engine)

    assert report.subscriptions == 7043
    assert report.active_subscriptions == 7043 - 1869
    with sqlite_engine.connect() as connection:
        rows = connection.execute(
            text('SELECT "Contract", count(*) FROM oe_telcoprofile GROUP BY "Contract"')
        ).all()
    contracts = {contract: count for contract, count in rows}
    assert contracts == {"Month-to-month": 3875, "One year": 1473, "Two year": 1695}
