from __future__ import annotations

import dataclasses

import pytest

from server.ingestion import (
    BUILTIN_MAPPINGS,
    WHITESPACE,
    ColumnMapping,
    ProfileColumns,
    ReaderOptions,
    get_mapping,
)


def test_get_mapping_returns_builtins() -> None:
    assert get_mapping("cdnow") is BUILTIN_MAPPINGS["cdnow"]
    assert get_mapping("superstore") is BUILTIN_MAPPINGS["superstore"]


def test_get_mapping_unknown_name_lists_valid() -> None:
    with pytest.raises(
        ValueError,
        match=(
            r"unknown mapping 'cdnw'; valid names: "
            r"cdnow, generated, shopify, superstore, woocommerce"
        ),
    ):
        get_mapping("cdnw")


def test_builtin_mappings_declare_policies() -> None:
    cdnow = get_mapping("cdnow")
    superstore = get_mapping("superstore")

    assert cdnow.duplicates == "keep"
    assert cdnow.reader.separator == WHITESPACE
    assert cdnow.date_format == "%Y%m%d"
    assert superstore.duplicates == "reject"
    assert superstore.line_id == "Row ID"
    assert superstore.profile.by_attribute()["region"] == "Region"


def test_mapping_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_mapping("cdnow").amount = "Sales"  # type: ignore[misc]


def test_mapping_rejects_unknown_policy() -> None:
    with pytest.raises(ValueError, match=r"invalid duplicate policy 'drop'; valid: keep, reject"):
        ColumnMapping(
            name="x",
            customer_id="id",
            order_date="date",
            date_format="%Y-%m-%d",
            amount="amount",
            duplicates="drop",  # type: ignore[arg-type]
        )


def test_mapping_rejects_date_format_without_codes() -> None:
    with pytest.raises(ValueError, match=r"invalid date_format 'YYYY-MM-DD'"):
        ColumnMapping(
            name="x", customer_id="id", order_date="date", date_format="YYYY-MM-DD", amount="a"
        )


def test_mapping_rejects_empty_column_name() -> None:
    with pytest.raises(ValueError, match=r"mapping 'x' names an empty column"):
        ColumnMapping(name="x", customer_id=" ", order_date="d", date_format="%Y", amount="a")


def test_reader_without_header_needs_names() -> None:
    with pytest.raises(ValueError, match="a file without a header needs column_names"):
        ReaderOptions(header=False)
    with pytest.raises(ValueError, match="column_names applies only to a file without a header"):
        ReaderOptions(column_names=("a", "b"))


def test_source_columns_lists_each_once() -> None:
    mapping = ColumnMapping(
        name="x",
        customer_id="id",
        order_date="date",
        date_format="%Y-%m-%d",
        amount="amount",
        order_id="id",
        profile=ProfileColumns(region="area", state="area"),
    )

    assert mapping.source_columns() == ["id", "date", "amount", "area"]
