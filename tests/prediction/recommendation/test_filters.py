"""Product filters evaluated on a catalog, against pandas expressions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from server.prediction.recommendation.filters import filter_attributes, filter_mask, parse_filters

CATALOG = pd.DataFrame(
    {
        "product_id": ["A1", "A2", "B1", "B2", "C1"],
        "name": ["Oak Desk", "Desk Lamp", "Copy Paper", "Stapler", None],
        "category": ["Furniture", "Furniture", "Office Supplies", "Office Supplies", None],
        "sub_category": ["Tables", "Furnishings", "Paper", "Fasteners", None],
        "attributes.price": [300.0, 25.0, 8.0, np.nan, 12.0],
        "attributes.brand": ["Bush", None, "Xerox", "Swingline", None],
    }
)


def mask_of(raw: dict[str, Any]) -> list[bool]:
    tree, problems = parse_filters(raw)
    assert problems == {}
    assert tree is not None
    return filter_mask(tree, CATALOG).tolist()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"attribute": "category", "operator": "EQ", "value": "Furniture"},
            CATALOG["category"] == "Furniture",
        ),
        (
            {"attribute": "category", "operator": "NE", "value": "Furniture"},
            CATALOG["category"].notna() & (CATALOG["category"] != "Furniture"),
        ),
        (
            {"attribute": "sub_category", "operator": "IN", "values": ["Paper", "Tables"]},
            CATALOG["sub_category"].isin(["Paper", "Tables"]),
        ),
        (
            {"attribute": "name", "operator": "CONTAINS", "value": "Desk"},
            CATALOG["name"].fillna("").str.contains("Desk"),
        ),
        (
            {"attribute": "name", "operator": "STARTS_WITH", "value": "Desk"},
            CATALOG["name"].fillna("").str.startswith("Desk"),
        ),
        (
            {"attribute": "attributes.price", "operator": "LT", "value": 20},
            CATALOG["attributes.price"] < 20,
        ),
        (
            {"attribute": "attributes.brand", "operator": "IS_NULL"},
            CATALOG["attributes.brand"].isna(),
        ),
        (
            {
                "any": [
                    {"attribute": "category", "operator": "EQ", "value": "Furniture"},
                    {"attribute": "attributes.price", "operator": "GTE", "value": 12},
                ]
            },
            (CATALOG["category"] == "Furniture") | (CATALOG["attributes.price"] >= 12),
        ),
        (
            {
                "all": [
                    {"attribute": "category", "operator": "EQ", "value": "Furniture"},
                    {"not": {"attribute": "name", "operator": "ENDS_WITH", "value": "Lamp"}},
                ]
            },
            (CATALOG["category"] == "Furniture") & ~CATALOG["name"].fillna("").str.endswith("Lamp"),
        ),
    ],
)
def test_filter_matches_pandas(raw: dict[str, Any], expected: pd.Series) -> None:
    assert mask_of(raw) == expected.tolist()


def test_not_keeps_missing_values() -> None:
    raw = {"not": {"attribute": "category", "operator": "EQ", "value": "Furniture"}}

    assert mask_of(raw) == [False, False, True, True, True]


def test_filter_attributes_listed() -> None:
    tree, _ = parse_filters(
        {
            "any": [
                {"attribute": "category", "operator": "EQ", "value": "Furniture"},
                {"not": {"attribute": "attributes.brand", "operator": "IS_NOT_NULL"}},
            ]
        }
    )

    assert tree is not None
    assert filter_attributes(tree) == {"category", "attributes.brand"}
