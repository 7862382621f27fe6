"""SQL members equal a pandas evaluation, for random entities and random rule trees."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from server.segments.compiler import compile_members
from server.segments.definition import Definition, Group, SegmentRule, SetOperator
from server.segments.operators import Operator
from server.segments.preview import preview_segment
from server.segments.rules import Condition
from server.segments.service import check_request_rules
from tests.segments import oracle
from tests.segments.data import (
    BASE,
    EXTRA,
    NOW,
    PROFILE,
    days_ago,
    extra_frame,
    profile_frame,
    scores_frame,
    store_frames,
)

CUSTOMERS = [f"C{index:02d}" for index in range(10)]
SCORES = [None, -1.5, 0.0, 0.25, 0.5, 2.0, 1e9]
LABELS = [None, "", "a", "A", "abc", "ABC", "äbc", "ÄBC", "x_%y", "Straße", "STRASSE", "ǅ", "50%"]
TIMES = [None, days_ago(1), days_ago(10), days_ago(100), days_ago(-1), days_ago(30.5)]
TIERS = [None, "", "Gold", "gold", "Silver", "Ünï"]
REGIONS = [None, "", "West", "west", "Éast", "Nörth"]

NUMBER_VALUES = [-1.5, 0, 0.25, 0.5, 1, 2.0, 1e9, 3]
TEXT_VALUES = [
    "a",
    "A",
    "abc",
    "äbc",
    "ÄBC",
    "x_%",
    "%",
    "_",
    "",
    "straße",
    "ǆ",
    "b",
    "West",
    "gold",
]
TIME_VALUES = [item.isoformat() for item in TIMES if item is not None]
DAY_COUNTS = [1, 5, 10.5, 30, 365]
PERCENTS = [10, 25, 33.3, 50, 100]

NUMBER_OPERATORS = [
    Operator.EQ, Operator.NE, Operator.GT, Operator.GTE, Operator.LT, Operator.LTE,
    Operator.BETWEEN, Operator.IN, Operator.NOT_IN, Operator.IS_NULL, Operator.IS_NOT_NULL,
    Operator.TOP_PERCENT, Operator.BOTTOM_PERCENT,
]  # fmt: skip
TEXT_OPERATORS = [
    Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN, Operator.CONTAINS,
    Operator.STARTS_WITH, Operator.ENDS_WITH, Operator.IS_EMPTY, Operator.IS_NOT_EMPTY,
    Operator.IS_NULL,
]  # fmt: skip
BOOLEAN_OPERATORS = [Operator.IS_TRUE, Operator.IS_FALSE, Operator.IS_NULL]
TIME_OPERATORS = [
    Operator.BEFORE, Operator.AFTER, Operator.BETWEEN, Operator.IN_LAST_DAYS,
    Operator.NOT_IN_LAST_DAYS, Operator.IS_NOT_NULL,
]  # fmt: skip

# (entity given in the condition, attribute, kind of values)
ATTRIBUTES = [
    (None, "Score", "number"),
    (BASE, "Label", "text"),
    (None, "Flag", "boolean"),
    (None, "SeenAt", "time"),
    (EXTRA, "Value", "number"),
    (EXTRA, "Tier", "text"),
    (PROFILE, "Region", "text"),
    (PROFILE, "Country", "text"),
]
OPERATORS = {
    "number": NUMBER_OPERATORS,
    "text": TEXT_OPERATORS,
    "boolean": BOOLEAN_OPERATORS,
    "time": TIME_OPERATORS,
}
POOLS: dict[str, list[Any]] = {"number": NUMBER_VALUES, "text": TEXT_VALUES, "time": TIME_VALUES}


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    entity, attribute, kind = draw(st.sampled_from(ATTRIBUTES))
    operator = draw(st.sampled_from(OPERATORS[kind]))
    value: Any = None
    values: list[Any] | None = None
    if operator in (Operator.IN_LAST_DAYS, Operator.NOT_IN_LAST_DAYS):
        value = draw(st.sampled_from(DAY_COUNTS))
    elif operator in (Operator.TOP_PERCENT, Operator.BOTTOM_PERCENT):
        value = draw(st.sampled_from(PERCENTS))
    elif operator is Operator.BETWEEN:
        values = sorted(draw(st.lists(st.sampled_from(POOLS[kind]), min_size=2, max_size=2)))
    elif operator in (Operator.IN, Operator.NOT_IN):
        values = draw(st.lists(st.sampled_from(POOLS[kind]), min_size=1, max_size=4))
    elif kind in POOLS and operator not in (
        Operator.IS_NULL,
        Operator.IS_NOT_NULL,
        Operator.IS_EMPTY,
        Operator.IS_NOT_EMPTY,
    ):
        value = draw(st.sampled_from(POOLS[kind]))
    case_insensitive = kind == "text" and draw(st.booleans())
    return Condition(attribute, operator, value, values, case_insensitive, entity)


@st.composite
def groups(draw: st.DrawFn, depth: int = 1) -> Group:
    condition_list = draw(st.lists(conditions(), max_size=3))
    nested_count = draw(st.integers(0, 2)) if depth < 3 else 0
    nested = [draw(groups(depth + 1)) for _ in range(nested_count)]
    if not condition_list and not nested:
        condition_list = [draw(conditions())]
    combinator = draw(st.sampled_from(["AND", "OR"]))
    return Group(combinator, draw(st.booleans()), condition_list, nested)


@st.composite
def definitions(draw: st.DrawFn) -> Definition:
    count = draw(st.integers(1, 3))
    rules = [
        SegmentRule(draw(groups()), draw(st.sampled_from(list(SetOperator)))) for _ in range(count)
    ]
    return Definition(rules)


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[Any], list[Any], list[Any]]:
    scores = []
    for customer in CUSTOMERS:
        for _ in range(draw(st.integers(0, 3))):
            scores.append(
                (
                    customer,
                    draw(st.sampled_from(SCORES)),
                    draw(st.sampled_from(LABELS)),
                    draw(st.sampled_from([None, True, False])),
                    draw(st.sampled_from(TIMES)),
                )
            )
    extra = [
        (customer, draw(st.sampled_from([None, 0, 1, 2, 3, -5])), draw(st.sampled_from(TIERS)))
        for customer in CUSTOMERS
        if draw(st.booleans())
    ]
    profile = [
        (customer, draw(st.sampled_from(REGIONS)), draw(st.sampled_from(REGIONS)))
        for customer in CUSTOMERS
        if draw(st.integers(0, 4))
    ]
    return scores, extra, profile


def sql_members(engine: Engine, definition: Definition) -> set[str]:
    with engine.connect() as connection:
        checked = check_request_rules(connection, BASE, definition, "predictionId")
        assert not isinstance(checked, list), checked
        base, rules = checked
        return set(connection.execute(compile_members(rules, base, NOW)).scalars())


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=datasets(), definition=definitions())
def test_sql_members_equal_pandas(
    engine: Engine, data: tuple[list[Any], list[Any], list[Any]], definition: Definition
) -> None:
    scores, extra, profile = data
    frames = store_frames(engine, scores_frame(scores), extra_frame(extra), profile_frame(profile))

    expected, expected_rule_counts = oracle.evaluate(definition, frames, BASE, NOW)
    preview = preview_segment(engine, BASE, definition, sample_size=100, now=NOW)

    assert sql_members(engine, definition) == expected
    assert not isinstance(preview, list), preview
    assert preview.member_count == len(expected)
    assert preview.rule_counts == expected_rule_counts
    assert set(preview.sample) == expected


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=datasets(), group=groups())
def test_single_rule_shortcut_equals_pandas(
    engine: Engine, data: tuple[list[Any], list[Any], list[Any]], group: Group
) -> None:
    # A single non-negated AND rule takes the row-filter shortcut in the compiler.
    scores, extra, profile = data
    frames = store_frames(engine, scores_frame(scores), extra_frame(extra), profile_frame(profile))
    definition = Definition([SegmentRule(Group("AND", False, group.conditions, group.groups))])

    expected, _counts = oracle.evaluate(definition, frames, BASE, NOW)

    assert sql_members(engine, definition) == expected
