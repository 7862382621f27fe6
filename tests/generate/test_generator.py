"""The generator: determinism per seed, independence of the chunk size, file layouts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from server.generate import FILES, GeneratorParameters, generate

SMALL = GeneratorParameters(block_customers=100, products=500)


def _bytes(folder: Path, file_format: str = "csv") -> dict[str, bytes]:
    return {name: (folder / f"{name}.{file_format}").read_bytes() for name in FILES}


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_seed_same_bytes(tmp_path: Path, file_format: str) -> None:
    generate(tmp_path / "one", 450, seed=5, file_format=file_format, parameters=SMALL)
    generate(tmp_path / "two", 450, seed=5, file_format=file_format, parameters=SMALL)

    assert _bytes(tmp_path / "one", file_format) == _bytes(tmp_path / "two", file_format)


def test_other_seed_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "one", 450, seed=5, parameters=SMALL)
    generate(tmp_path / "two", 450, seed=6, parameters=SMALL)
    first = _bytes(tmp_path / "one")
    second = _bytes(tmp_path / "two")

    for name in FILES:
        assert first[name] != second[name], name


def test_chunk_size_keeps_output(tmp_path: Path) -> None:
    generate(tmp_path / "one", 1050, seed=9, parameters=SMALL, chunk_customers=100)
    generate(tmp_path / "two", 1050, seed=9, parameters=SMALL, chunk_customers=700)
    generate(tmp_path / "all", 1050, seed=9, parameters=SMALL, chunk_customers=5000)

    assert _bytes(tmp_path / "one") == _bytes(tmp_path / "two")
    assert _bytes(tmp_path / "one") == _bytes(tmp_path / "all")


def test_parquet_matches_csv(tmp_path: Path) -> None:
    generate(tmp_path / "csv", 300, seed=2, parameters=SMALL)
    generate(tmp_path / "parquet", 300, seed=2, file_format="parquet", parameters=SMALL)
    from_csv = pd.read_csv(tmp_path / "csv" / "order_lines.csv")
    from_parquet = pd.read_parquet(tmp_path / "parquet" / "order_lines.parquet")

    assert from_csv["LineId"].tolist() == from_parquet["LineId"].tolist()
    assert from_csv["Amount"].tolist() == from_parquet["Amount"].tolist()
    assert from_csv["CustomerId"].tolist() == from_parquet["CustomerId"].tolist()


def test_ids_unique_and_linked(tmp_path: Path) -> None:
    result = generate(tmp_path, 1234, seed=4, parameters=SMALL, chunk_customers=300)
    customers = pd.read_csv(result.paths["customers"], dtype=str)
    lines = pd.read_csv(result.paths["order_lines"], dtype={"CustomerId": str})
    products = pd.read_csv(result.paths["products"], dtype=str)
    subscriptions = pd.read_csv(result.paths["subscriptions"], dtype=str)

    assert len(customers) == 1234
    assert customers["CustomerId"].is_unique
    assert lines["LineId"].tolist() == list(range(1, len(lines) + 1))
    assert lines["OrderId"].nunique() == result.orders
    assert set(lines["CustomerId"]) == set(customers["CustomerId"])
    assert set(lines["ProductId"]) <= set(products["ProductId"])
    assert subscriptions["subscription_id"].is_unique
    assert set(subscriptions["customer_id"]) <= set(customers["CustomerId"])


def test_order_lines_fit_generated_mapping(tmp_path: Path) -> None:
    from server.generate.mapping import GENERATED

    result = generate(tmp_path, 200, seed=1, parameters=SMALL)
    header = result.paths["order_lines"].read_text().splitlines()[0]
    columns = [name.strip('"') for name in header.split(",")]

    assert set(GENERATED.source_columns()) <= set(columns)


def test_dates_inside_period(tmp_path: Path) -> None:
    result = generate(tmp_path, 800, seed=3, parameters=SMALL)
    lines = pd.read_csv(result.paths["order_lines"], parse_dates=["OrderDate"])
    subscriptions = pd.read_csv(
        result.paths["subscriptions"], parse_dates=["start_date", "end_date"]
    )
    start = pd.Timestamp(SMALL.start)
    end = pd.Timestamp(SMALL.end)

    assert lines["OrderDate"].min() >= start
    assert lines["OrderDate"].max() <= end
    assert (subscriptions["end_date"].dropna() <= end).all()
    ended = subscriptions.dropna(subset=["end_date"])
    assert (ended["end_date"] > ended["start_date"]).all()
    assert (lines["Amount"] > 0).all()
    assert (lines["Quantity"] >= 1).all()
