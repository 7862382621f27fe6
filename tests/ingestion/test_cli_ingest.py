"""The `lookahead ingest` command for subscriptions, customers and products."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from server.ingestion.cli_ingest import add_arguments, run_ingest
from tests.conftest import DATA
from tests.ingestion.test_records import CATALOG_TEXT, PROFILE_TEXT, write
from tests.ingestion.test_stripe import EXPECTED_MRR, STRIPE_FILE


def ingest(engine: Engine, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run_ingest(parser.parse_args(list(argv)), engine)


def printed_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    output: dict[str, Any] = json.loads(capsys.readouterr().out)
    return output


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_subscriptions_stripe_json(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    status = ingest(
        sqlite_engine, "subscriptions", str(STRIPE_FILE), "--format", "stripe", "--json"
    )

    report = printed_json(capsys)
    assert status == 0
    assert report["ok"] is True
    assert report["format_name"] == "stripe"
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (8, 7, 0)
    assert report["monthly_recurring_revenue"] == pytest.approx(EXPECTED_MRR)
    assert report["source"] == "subscriptions"


def test_subscriptions_dry_run_writes_nothing(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    status = ingest(sqlite_engine, "subscriptions", str(STRIPE_FILE), "--dry-run")

    assert status == 0
    assert "would replace" in capsys.readouterr().out
    assert count(sqlite_engine, "subscription") == 0


def test_subscriptions_telco_format(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = DATA / "telco_churn.csv.gz"

    status = ingest(
        sqlite_engine,
        "subscriptions",
        str(raw),
        "--format",
        "telco",
        "--source",
        "telco",
        "--profile-entity",
        "TelcoProfile",
        "--json",
    )

    report = printed_json(capsys)
    assert status == 0
    assert report["subscriptions"] == report["customers"]
    assert report["profile_entity"] == "TelcoProfile"
    assert "Contract" in report["profile_attributes"]


def test_subscriptions_mapping_file(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = write(
        tmp_path,
        "mapping.json",
        json.dumps({"name": "billing", "subscription_id": "Contract", "customer_id": "Client"}),
    )
    content = (
        "Contract,Client,start_date,end_date,recurrence_months,recurring_amount\n"
        "K1,A,2024-01-01,,1,10\nK2,B,2024-02-01,,12,120\n"
    )

    status = ingest(
        sqlite_engine,
        "subscriptions",
        str(write(tmp_path, "s.csv", content)),
        "--mapping",
        str(mapping),
        "--json",
    )

    report = printed_json(capsys)
    assert status == 0
    assert report["format_name"] == "billing"
    assert report["monthly_recurring_revenue"] == pytest.approx(20.0)


def test_rejected_file_prints_problems(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = STRIPE_FILE.read_text().replace(",month,3,87.00,", ",month,3,lots,")

    status = ingest(sqlite_engine, "subscriptions", str(write(tmp_path, "bad.csv", bad)), "--json")

    report = printed_json(capsys)
    assert status == 1
    assert report["ok"] is False
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (8, 0, 1)
    assert report["problems"][0]["row"] == 7
    assert report["problems"][0]["column"] == "Amount"
    assert count(sqlite_engine, "subscription") == 0


def test_customers_command(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write(tmp_path, "profile.csv", PROFILE_TEXT))

    first = ingest(sqlite_engine, "customers", path, "--json")
    first_report = printed_json(capsys)
    second = ingest(sqlite_engine, "customers", path, "--format", "profile")
    text_report = capsys.readouterr().out

    assert (first, second) == (0, 0)
    assert first_report["kind"] == "customers"
    assert first_report["added"] == 3
    assert "rows read 3, loaded 3, rejected 0" in text_report
    assert "added 0, updated 0, unchanged 3" in text_report


def test_products_command_dry_run(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write(tmp_path, "catalog.csv", CATALOG_TEXT))

    status = ingest(sqlite_engine, "products", path, "--dry-run", "--json")

    report = printed_json(capsys)
    assert status == 0
    assert report["dry_run"] is True
    assert report["added"] == 3
    assert count(sqlite_engine, "product") == 0


def test_products_bad_file_exit_status(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write(tmp_path, "catalog.csv", CATALOG_TEXT + "P1,Again,,,,\n"))

    status = ingest(sqlite_engine, "products", path)

    assert status == 1
    assert "product id 'P1' repeats row 1" in capsys.readouterr().err


def test_profile_entity_only_for_subscriptions(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = str(write(tmp_path, "catalog.csv", CATALOG_TEXT))

    with pytest.raises(ValueError, match="--profile-entity applies to subscriptions"):
        ingest(sqlite_engine, "products", path, "--profile-entity", "X")


def test_forced_format_names_missing_columns(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(write(tmp_path, "profile.csv", PROFILE_TEXT))

    status = ingest(sqlite_engine, "subscriptions", path, "--format", "stripe", "--json")

    report = printed_json(capsys)
    assert status == 1
    assert report["problems"][0]["column"] == "id"
    assert "of the stripe format is missing" in report["problems"][0]["message"]
