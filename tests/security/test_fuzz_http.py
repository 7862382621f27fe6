"""Schemathesis fuzzing of every operation against the real uvicorn server, per caller.

No response may be a 5xx or show server internals, whatever the role.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from tests.security.conftest import CALLERS, LiveServer, bearer

# Signs of an internal error: a traceback, SQLAlchemy or SQL text, a source path.
LEAKS = re.compile(
    r"Traceback|sqlalchemy|psycopg|sqlite3|SELECT |INSERT INTO|UPDATE \w+ SET|"
    r"/work/|/usr/|site-packages|\.py\b",
    re.IGNORECASE,
)

schemathesis.graphql.scalar(
    "JSON",
    st.one_of(
        st.integers(-1000, 1000).map(nodes.Int),
        st.text(max_size=20).map(nodes.String),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    ),
)
schemathesis.graphql.scalar("DateTime", st.just(nodes.String("2024-06-30T00:00:00+00:00")))
# A JSON request cannot carry a file, so the server must reject whatever is sent in its place.
schemathesis.graphql.scalar(
    "Upload", st.one_of(st.just(nodes.Null), st.text(max_size=20).map(nodes.String))
)


@pytest.mark.parametrize("caller", CALLERS[:4])
def test_fuzzed_operations_never_leak(live_server: LiveServer, caller: str) -> None:
    headers = bearer(live_server.tokens[caller])
    schema = schemathesis.graphql.from_url(live_server.graphql_url, headers=headers)
    failures: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers, timeout=30)
            label = case.operation.label
            if response.status_code >= 500:
                failures.append(f"{label}: HTTP {response.status_code}")
            leak = LEAKS.search(response.text)
            if leak:
                failures.append(f"{label}: {leak.group(0)!r} in {response.text[:300]}")

        check()

    assert failures == []
