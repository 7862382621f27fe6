"""Int and Float literals too long to convert, checked through the real application."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from graphql import parse, validate

from server.graphql.schema import schema
from server.security.limits import MAX_NUMBER_LITERAL_LENGTH, ShortNumberLiterals
from tests.graphql.conftest import GraphQLCaller

# More digits than Python's int() converts by default.
LONG_DIGITS = "9" * (sys.get_int_max_str_digits() + 700)


def assert_long_literal_error(body: dict[str, Any], line: int, column: int) -> None:
    assert body["data"] is None
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert "internal error" not in error["message"]
    assert f"a number literal at line {line}, column {column} is " in error["message"]
    assert f"send at most {MAX_NUMBER_LITERAL_LENGTH} characters" in error["message"]
    assert error["locations"] == [{"line": line, "column": column}]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_long_int_argument_rejected(admin: GraphQLCaller) -> None:
    body = await admin("{ segments(first: " + LONG_DIGITS + ") { totalCount } }")

    assert_long_literal_error(body, 1, 19)


async def test_long_float_argument_rejected(admin: GraphQLCaller) -> None:
    body = await admin("{ segments(first: 1." + LONG_DIGITS + ") { totalCount } }")

    assert_long_literal_error(body, 1, 19)


async def test_long_int_in_list_rejected(admin: GraphQLCaller) -> None:
    # graphql-core checks a list literal as a whole before it visits its items.
    body = await admin("{ segments(first: [1, " + LONG_DIGITS + "]) { totalCount } }")

    assert_long_literal_error(body, 1, 23)


async def test_long_int_default_value_rejected(admin: GraphQLCaller) -> None:
    query = (
        "query Long($first: Int = " + LONG_DIGITS + ") {\n"
        "  segments(first: $first) { totalCount }\n"
        "}"
    )
    body = await admin(query)

    assert_long_literal_error(body, 1, 26)


async def test_short_int_argument_runs(admin: GraphQLCaller) -> None:
    body = await admin("{ segments(first: 5) { totalCount } }")

    assert "errors" not in body
    assert body["data"] == {"segments": {"totalCount": 0}}


@pytest.mark.parametrize(
    ("literal", "rejected"),
    [
        ("1" * MAX_NUMBER_LITERAL_LENGTH, False),
        ("1" * (MAX_NUMBER_LITERAL_LENGTH + 1), True),
        ("0." + "1" * (MAX_NUMBER_LITERAL_LENGTH - 2), False),
        ("0." + "1" * (MAX_NUMBER_LITERAL_LENGTH - 1), True),
    ],
)
def test_rule_length_boundary(literal: str, rejected: bool) -> None:
    document = parse("{ segments(first: " + literal + ") { totalCount } }")

    errors = validate(schema._schema, document, [ShortNumberLiterals])

    assert len(errors) == (1 if rejected else 0)
    if rejected:
        assert errors[0].extensions == {"code": "BAD_USER_INPUT"}
