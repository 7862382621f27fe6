"""Validation of recommendation parameters, including product filters."""

from __future__ import annotations

from typing import Any

import pytest

from server.prediction.base import ParameterError
from server.prediction.recommendation.parameters import validate_parameters

FURNITURE = {"attribute": "category", "operator": "EQ", "value": "Furniture"}


def problems_of(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ParameterError) as raised:
        validate_parameters(raw)
    return raised.value.problems


def test_defaults_filled_in() -> None:
    checked = validate_parameters({"source": " superstore "})

    assert checked.as_dict() == {
        "source": "superstore",
        "k": 5,
        "repeat_purchases": False,
        "lookback_days": None,
        "holdout_days": 180,
        "product_filters": None,
        "seed": 0,
    }


def test_source_required() -> None:
    assert "required" in problems_of({})["source"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("k", 0),
        ("k", 51),
        ("k", 2.5),
        ("k", True),
        ("repeat_purchases", "yes"),
        ("lookback_days", 0),
        ("lookback_days", "90"),
        ("holdout_days", -1),
        ("seed", -1),
        ("seed", 2**32),
    ],
)
def test_bad_value_named(name: str, value: object) -> None:
    problems = problems_of({"source": "s", name: value})

    assert list(problems) == [name]
    assert repr(value) in problems[name] or str(value) in problems[name]


def test_unknown_parameter_lists_valid_ones() -> None:
    problems = problems_of({"source": "s", "top_k": 3})

    assert "valid: holdout_days, k, lookback_days" in problems["top_k"]


def test_every_bad_filter_node_named() -> None:
    filters = {
        "any": [
            FURNITURE,
            {"attribute": "categroy", "operator": "EQ", "value": "Chairs"},
            {"attribute": "name", "operator": "LIKE", "value": "Desk"},
            {"attribute": "attributes.price", "operator": "GT", "value": "cheap"},
            {"attribute": "sub_category", "operator": "IN", "values": []},
        ]
    }

    problems = problems_of({"source": "s", "product_filters": filters})

    assert set(problems) == {
        "product_filters.any.1.attribute",
        "product_filters.any.2.operator",
        "product_filters.any.3.value",
        "product_filters.any.4.values",
    }
    assert "unknown attribute 'categroy'" in problems["product_filters.any.1.attribute"]
    assert (
        "valid: product_id, name, category, sub_category"
        in problems["product_filters.any.1.attribute"]
    )
    assert "unknown operator 'LIKE'" in problems["product_filters.any.2.operator"]


@pytest.mark.parametrize(
    ("filters", "path"),
    [
        ("Furniture", "product_filters"),
        ({"all": []}, "product_filters.all"),
        ({"any": [FURNITURE], "all": [FURNITURE]}, "product_filters"),
        ({"not": {"any": [{"attribute": "name"}]}}, "product_filters.not.any.0.operator"),
        ({**FURNITURE, "negate": True}, "product_filters.negate"),
    ],
)
def test_malformed_filter_tree(filters: object, path: str) -> None:
    assert path in problems_of({"source": "s", "product_filters": filters})


def test_too_deep_filter_tree() -> None:
    tree: dict[str, Any] = FURNITURE
    for _ in range(6):
        tree = {"all": [tree]}

    problems = problems_of({"source": "s", "product_filters": tree})

    assert any("nest at most" in reason for reason in problems.values())


def test_valid_filters_kept() -> None:
    filters = {
        "all": [
            {
                "any": [
                    FURNITURE,
                    {"attribute": "sub_category", "operator": "IN", "values": ["Paper"]},
                ]
            },
            {"not": {"attribute": "attributes.brand", "operator": "IS_NULL"}},
        ]
    }

    checked = validate_parameters({"source": "s", "product_filters": filters})

    assert checked.product_filters == filters
