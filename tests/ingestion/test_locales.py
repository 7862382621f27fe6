"""Encodings, separators, number and date conventions, and missing values of order files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from server.ingestion import ColumnMapping, IngestionError, ReaderOptions, load_orders
from server.ingestion.mapping import DETECT
from server.ingestion.mapping_file import read_mapping, save_mapping

ROWS = [("k1", "13/04/2024", "1.234,50", "NA"), ("k2", "02/05/2024", "-7,25", "P-2")]


def _mapping(**reader: object) -> ColumnMapping:
    options = {"separator": DETECT, "encoding": DETECT, **reader}
    return ColumnMapping(
        name="shop",
        customer_id="Kunde",
        order_date="Datum",
        date_format="%d/%m/%Y",
        amount="Betrag",
        product_id="Artikel",
        reader=ReaderOptions(**options),  # type: ignore[arg-type]
    )


def _write(path: Path, separator: str, encoding: str, rows: list[tuple[str, ...]]) -> Path:
    lines = [separator.join(("Kunde", "Datum", "Betrag", "Artikel"))]
    lines += [separator.join(row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _amounts(engine: Engine) -> list[float]:
    with engine.connect() as connection:
        query = text("SELECT amount FROM order_line ORDER BY customer_id")
        return [float(value) for value in connection.execute(query).scalars()]


@pytest.mark.parametrize(
    ("separator", "encoding"),
    [(";", "cp1252"), ("\t", "utf-16"), (",", "utf-8-sig"), (";", "utf-8")],
)
def test_encodings_and_separators_detected(
    sqlite_engine: Engine, tmp_path: Path, separator: str, encoding: str
) -> None:
    rows = [(*ROWS[0][:3], "Café"), ROWS[1]]
    if separator == ",":
        rows = [(row[0], row[1], f'"{row[2]}"', row[3]) for row in rows]
    path = _write(tmp_path / "orders.csv", separator, encoding, rows)

    report = load_orders(sqlite_engine, path, _mapping(decimal=",", thousands="."), source="s")

    assert report.separator == separator
    assert report.encoding == {"utf-8": "utf-8-sig"}.get(encoding, encoding)
    assert _amounts(sqlite_engine) == [1234.5, -7.25]
    with sqlite_engine.connect() as connection:
        products = connection.execute(text("SELECT product_id FROM order_line")).scalars()
        assert sorted(products) == ["Café", "P-2"]


def test_badly_grouped_number_rejected(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "orders.csv", ";", "utf-8", [("k1", "13/04/2024", "12.34,5", "x")])

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, _mapping(decimal=",", thousands="."), source="s")

    assert caught.value.problems[0].message.startswith(
        "Row 1, column 'Betrag': the amount '12.34,5' is not a number."
    )


def test_ambiguous_dates_need_a_format(sqlite_engine: Engine, tmp_path: Path) -> None:
    rows = [("k1", "03/04/2024", "1", "x"), ("k2", "05/06/2024", "2", "y")]
    path = _write(tmp_path / "orders.csv", ",", "utf-8", rows)
    mapping = ColumnMapping(name="shop", customer_id="Kunde", order_date="Datum", amount="Betrag")

    with pytest.raises(IngestionError) as caught:
        load_orders(sqlite_engine, path, mapping, source="s")

    message = caught.value.problems[0].message
    assert "'03/04/2024' fit both '%d/%m/%Y' and '%m/%d/%Y'" in message
    assert "Declare the mapping's date_format" in message
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM order_line")).scalar_one() == 0


def test_unambiguous_dates_detected(sqlite_engine: Engine, tmp_path: Path) -> None:
    rows = [("k1", "03/04/2024", "1", "x"), ("k2", "25/06/2024", "2", "y")]
    path = _write(tmp_path / "orders.csv", ",", "utf-8", rows)
    mapping = ColumnMapping(name="shop", customer_id="Kunde", order_date="Datum", amount="Betrag")

    report = load_orders(sqlite_engine, path, mapping, source="s")

    assert report.date_format == "%d/%m/%Y"
    assert report.first_order_date.isoformat() == "2024-04-03"


def test_offsets_converted_to_utc(sqlite_engine: Engine, tmp_path: Path) -> None:
    rows = [
        ("k1", "2024-03-01T00:30:00+02:00", "1", "x"),
        ("k2", "2024-03-01T21:00:00-05:00", "2", "y"),
        ("k3", "2024-03-01T12:00:00Z", "3", "z"),
    ]
    path = _write(tmp_path / "orders.csv", ",", "utf-8", rows)
    mapping = ColumnMapping(
        name="shop",
        customer_id="Kunde",
        order_date="Datum",
        date_format="ISO8601",
        amount="Betrag",
    )

    load_orders(sqlite_engine, path, mapping, source="s")

    with sqlite_engine.connect() as connection:
        query = text("SELECT customer_id, order_date FROM order_line ORDER BY customer_id")
        dates = {row[0]: str(row[1]) for row in connection.execute(query)}
    assert dates == {"k1": "2024-02-29", "k2": "2024-03-02", "k3": "2024-03-01"}


def test_na_stays_text_unless_declared(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "orders.csv", ";", "utf-8", [("k1", "13/04/2024", "5", "NA")])
    mapping = _mapping()

    load_orders(sqlite_engine, path, mapping, source="s")
    with sqlite_engine.connect() as connection:
        as_text = connection.execute(text("SELECT product_id FROM order_line")).scalar_one()
    declared = ColumnMapping(**{**mapping.__dict__, "missing_values": ("NA", "null")})
    load_orders(sqlite_engine, path, declared, source="s")
    with sqlite_engine.connect() as connection:
        as_missing = connection.execute(text("SELECT product_id FROM order_line")).scalar_one()

    assert as_text == "NA"
    assert as_missing is None


def test_parquet_with_timestamps(sqlite_engine: Engine, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Kunde": ["k1", "k2"],
            "Datum": pd.to_datetime(["2024-03-01 00:30", "2024-03-02 10:00"]).tz_localize(
                "Europe/Athens"
            ),
            "Betrag": [10.5, 20.0],
            "Artikel": ["A", None],
        }
    )
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)

    report = load_orders(sqlite_engine, path, _mapping(), source="s")

    assert report.file_format == "parquet"
    assert report.first_order_date.isoformat() == "2024-02-29"
    assert report.net_revenue == pytest.approx(30.5)


def test_mapping_file_round_trip(sqlite_engine: Engine, tmp_path: Path) -> None:
    mapping = _mapping(decimal=",", thousands=".")
    saved = save_mapping(mapping, tmp_path / "shop.json")

    assert read_mapping(saved) == mapping
    assert json.loads(saved.read_text())["reader"] == {
        "separator": "auto",
        "encoding": "auto",
        "decimal": ",",
        "thousands": ".",
    }


def test_mapping_file_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    path.write_text('{"customer_id": "c", "order_date": "d", "amount": "a", "colour": "red"}')

    with pytest.raises(ValueError, match=r"shop\.json: unknown field 'colour' in mapping"):
        read_mapping(path)
