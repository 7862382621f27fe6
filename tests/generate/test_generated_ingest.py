"""Every file `lookahead generate` writes loads with `lookahead ingest`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from server.cli import main

KINDS = {
    "orders": "order_lines",
    "subscriptions": "subscriptions",
    "customers": "customers",
    "products": "products",
}
FORMATS = {"orders": "generated", "subscriptions": "plain", "customers": "profile"}


@pytest.fixture
def generated(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOOKAHEAD_DATABASE_URL", db_url)
    out = tmp_path / "generated"
    assert main(["generate", "--customers", "40", "--seed", "11", str(out)]) == 0
    return out


def ingest_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    status = main(["ingest", *argv, "--json"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return status, report


def data_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as file:
        return sum(1 for _ in csv.reader(file)) - 1


@pytest.mark.parametrize("kind", list(KINDS))
def test_generated_file_recognised(
    kind: str, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generated / f"{KINDS[kind]}.csv"

    status, report = ingest_json(capsys, kind, str(path), "--dry-run")

    assert status == 0, report
    assert report["rows_read"] == data_rows(path)
    assert report["rows_loaded"] == data_rows(path)


@pytest.mark.parametrize("kind", list(FORMATS))
def test_generated_file_by_format_name(
    kind: str, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generated / f"{KINDS[kind]}.csv"

    status, report = ingest_json(capsys, kind, str(path), "--format", FORMATS[kind], "--dry-run")

    assert status == 0, report
    assert report["rows_loaded"] == data_rows(path)


def test_generated_set_loads_in_order(generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for kind in ("products", "orders", "customers"):
        path = generated / f"{KINDS[kind]}.csv"
        status, report = ingest_json(capsys, kind, str(path), "--source", "generated")

        assert status == 0, report
        assert report["rows_loaded"] == data_rows(path)

    status, report = ingest_json(
        capsys, "subscriptions", str(generated / "subscriptions.csv"), "--source", "generated"
    )
    assert status == 0, report
    assert report["rows_loaded"] == data_rows(generated / "subscriptions.csv")
