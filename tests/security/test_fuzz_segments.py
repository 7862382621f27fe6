"""Hypothesis-generated conditions against createSegmentFromPrediction.

Every executed SQL statement is recorded. Generated text carries the marker
`zzq`, so finding the marker in a statement means user input reached SQL text
rather than a bound parameter. Quoted identifiers must all be known tables or
columns.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from server.auth.roles import Role
from server.auth.tokens import Principal
from server.graphql.context import Context
from server.graphql.schema import schema
from server.prediction.output import replace_entity
from server.segments.operators import Operator
from server.settings import Settings
from server.storage.tables import metadata
from tests.graphql.conftest import ENTITY, add_prediction, churn_rows

MARKER = "zzq"
COLUMNS = list(churn_rows(5).columns)
QUOTED = re.compile(r'"([^"]+)"')
# Names SQLite's own catalogue queries quote.
SQLITE_NAMES = {"main", "temp", "sqlite_master", "sqlite_temp_master", "sqlite_schema"}

CREATE = """
mutation($p: ID!, $input: SegmentInput!) {
  createSegmentFromPrediction(predictionId: $p, input: $input) {
    segment { id memberCount }
    errors { field code message }
  }
}
"""

marked_text = st.text(max_size=12).map(lambda text: MARKER + text)
hostile_text = st.sampled_from(
    [
        f'{MARKER}" OR 1=1 --',
        f"{MARKER}'; DROP TABLE segment; --",
        f'ChurnScore"; SELECT * FROM api_token; --{MARKER}',
        f"{MARKER}) UNION SELECT token_hash FROM api_token --",
    ]
)
attributes = st.one_of(st.sampled_from(COLUMNS), marked_text, hostile_text)
json_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    marked_text,
    hostile_text,
    st.lists(st.one_of(st.integers(-5, 5), marked_text), max_size=3),
)
conditions = st.fixed_dictionaries(
    {
        "attribute": attributes,
        "operator": st.sampled_from([operator.value for operator in Operator]),
    },
    optional={
        "value": st.one_of(st.none(), json_values),
        "values": st.lists(json_values, max_size=3),
    },
)


def known_identifiers(engine: Engine) -> set[str]:
    """Names of the database's tables and indexes, and of every known column."""
    with engine.connect() as connection:
        catalogue = set(connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars())
    names = set(SQLITE_NAMES) | {ENTITY, *COLUMNS} | catalogue
    for table in metadata.tables.values():
        names.add(table.name)
        names.update(column.name for column in table.columns)
    return names


def test_conditions_never_reach_sql_text(sqlite_engine: Engine) -> None:
    prediction_id = add_prediction(sqlite_engine)
    replace_entity(sqlite_engine, ENTITY, churn_rows(), prediction_id=prediction_id)
    principal = Principal(token_id=1, name="fuzz", role=Role.CONTRIBUTOR)
    context = Context(sqlite_engine, Settings(), None, principal, None)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(sqlite_engine, "before_cursor_execute", record)
    allowed = known_identifiers(sqlite_engine)

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        name=marked_text,
        combinator=st.sampled_from(["AND", "OR"]),
        items=st.lists(conditions, min_size=1, max_size=3),
    )
    def check(name: str, combinator: str, items: list[dict[str, Any]]) -> None:
        statements.clear()
        variables = {
            "p": str(prediction_id),
            "input": {"name": name, "combinator": combinator, "conditions": items},
        }

        result = asyncio.run(
            schema.execute(CREATE, variable_values=variables, context_value=context)
        )

        assert result.errors is None, result.errors
        for statement in statements:
            assert MARKER not in statement, statement
            unknown = set(QUOTED.findall(statement)) - allowed
            assert not unknown, f"unknown identifiers {unknown} in {statement}"

    try:
        check()
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", record)
