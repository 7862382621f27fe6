"""Every root field declares a permission, and each caller is allowed or denied as expected.

The matrix runs every Query and Mutation field of the schema as no token, each
role, a revoked token and an expired token. A new field fails these tests until it
has a permission class and a row in OPERATIONS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from strawberry.types.base import StrawberryObjectDefinition

from server.app import create_app
from server.auth.roles import Role
from server.graphql.schema import schema
from server.prediction.output import replace_entity
from server.settings import Settings
from tests.graphql.conftest import ENTITY, add_prediction, churn_rows
from tests.security.conftest import CALLERS, bearer, caller_tokens

MISSING = "999999"
SEGMENT_INPUT = {
    "name": "matrix",
    "conditions": [{"attribute": "ChurnScore", "operator": "GTE", "value": 0.5}],
}
QUICK_INPUT = {
    "name": "matrix quick",
    "entity": ENTITY,
    "attribute": "IsChurn",
    "operator": "IS_TRUE",
}


@dataclass(frozen=True)
class Operation:
    document: str
    role: Role
    variables: dict[str, Any]
    # Sent as a GraphQL multipart request with this file as variable "file".
    upload: bytes | None = None


CDNOW_LINES = b"customer_id date number_of_cds dollar_value\n 00001 19970101 1 11.77\n"


# Root field (as "Type.field") -> a minimal document, the lowest role allowed, and
# its variables; "$prediction" is replaced by the id of a real prediction.
OPERATIONS: dict[str, Operation] = {
    "Query.viewer": Operation("{ viewer { role } }", Role.VIEWER, {}),
    "Query.predictions": Operation("{ predictions { id } }", Role.VIEWER, {}),
    "Query.prediction": Operation(
        "query($id: ID!) { prediction(id: $id) { id } }", Role.VIEWER, {"id": "$prediction"}
    ),
    "Query.outputEntity": Operation(
        f'{{ outputEntity(name: "{ENTITY}") {{ name }} }}', Role.VIEWER, {}
    ),
    "Query.entities": Operation("{ entities { __typename } }", Role.VIEWER, {}),
    "Query.entity": Operation(f'{{ entity(name: "{ENTITY}") {{ __typename }} }}', Role.VIEWER, {}),
    "Query.segments": Operation("{ segments(first: 5) { __typename } }", Role.VIEWER, {}),
    "Query.segment": Operation(f'{{ segment(id: "{MISSING}") {{ id }} }}', Role.VIEWER, {}),
    "Query.previewSegment": Operation(
        "query($input: SegmentInput!, $p: ID) "
        "{ previewSegment(input: $input, predictionId: $p) { __typename } }",
        Role.VIEWER,
        {"input": SEGMENT_INPUT, "p": "$prediction"},
    ),
    "Query.previewQuickSegment": Operation(
        "query($input: QuickSegmentInput!) { previewQuickSegment(input: $input) { __typename } }",
        Role.VIEWER,
        {"input": QUICK_INPUT},
    ),
    "Query.tokens": Operation("{ tokens { id name } }", Role.ADMIN, {}),
    "Query.auditEvents": Operation(
        "{ auditEvents(first: 5) { edges { node { action } } } }", Role.ADMIN, {}
    ),
    "Mutation.createSegmentFromPrediction": Operation(
        "mutation($p: ID!, $input: SegmentInput!) "
        "{ createSegmentFromPrediction(predictionId: $p, input: $input) { errors { code } } }",
        Role.CONTRIBUTOR,
        {"p": "$prediction", "input": SEGMENT_INPUT},
    ),
    "Mutation.createSegment": Operation(
        "mutation($input: SegmentInput!) { createSegment(input: $input) { __typename } }",
        Role.CONTRIBUTOR,
        {"input": {**SEGMENT_INPUT, "name": "matrix plain"}},
    ),
    "Mutation.createQuickSegment": Operation(
        "mutation($input: QuickSegmentInput!) { createQuickSegment(input: $input) { __typename } }",
        Role.CONTRIBUTOR,
        {"input": QUICK_INPUT},
    ),
    "Mutation.updateSegment": Operation(
        "mutation($input: SegmentInput!) "
        f'{{ updateSegment(id: "{MISSING}", input: $input) {{ __typename }} }}',
        Role.CONTRIBUTOR,
        {"input": SEGMENT_INPUT},
    ),
    "Mutation.refreshSegment": Operation(
        f'mutation {{ refreshSegment(id: "{MISSING}") {{ __typename }} }}', Role.CONTRIBUTOR, {}
    ),
    "Mutation.deleteSegment": Operation(
        f'mutation {{ deleteSegment(id: "{MISSING}") {{ __typename }} }}', Role.CONTRIBUTOR, {}
    ),
    "Mutation.createToken": Operation(
        'mutation { createToken(input: {name: "matrix", role: VIEWER}) { token { id } } }',
        Role.ADMIN,
        {},
    ),
    "Query.run": Operation(f'{{ run(id: "{MISSING}") {{ id }} }}', Role.VIEWER, {}),
    "Mutation.createPrediction": Operation(
        "mutation($input: CreatePredictionInput!) "
        "{ createPrediction(input: $input) { errors { code } } }",
        Role.CONTRIBUTOR,
        {
            "input": {
                "kind": "TRANSACTIONAL_CHURN",
                "name": "matrix prediction",
                "outputEntityName": "MatrixEntity",
                "parameters": {"source": "test"},
            }
        },
    ),
    "Mutation.updatePrediction": Operation(
        f'mutation {{ updatePrediction(id: "{MISSING}", input: {{name: "x"}}) '
        "{ errors { code } } }",
        Role.CONTRIBUTOR,
        {},
    ),
    "Mutation.runPrediction": Operation(
        f'mutation {{ runPrediction(id: "{MISSING}") {{ errors {{ code }} }} }}',
        Role.CONTRIBUTOR,
        {},
    ),
    "Mutation.deletePrediction": Operation(
        f'mutation {{ deletePrediction(id: "{MISSING}") {{ errors {{ code }} }} }}',
        Role.CONTRIBUTOR,
        {},
    ),
    "Mutation.loadOrdersFile": Operation(
        "mutation($file: Upload!) "
        '{ loadOrdersFile(file: $file, format: "cdnow", dryRun: true) { errors { code } } }',
        Role.CONTRIBUTOR,
        {"file": None},
        upload=CDNOW_LINES,
    ),
    "Mutation.revokeToken": Operation(
        f'mutation {{ revokeToken(id: "{MISSING}") {{ errors {{ code }} }} }}', Role.ADMIN, {}
    ),
}

ROLES = {"viewer": Role.VIEWER, "contributor": Role.CONTRIBUTOR, "admin": Role.ADMIN}


def root_fields() -> dict[str, Any]:
    """Every field of Query and Mutation, keyed "Type.graphqlName"."""
    fields = {}
    for type_name in ("Query", "Mutation"):
        definition = schema.get_type_by_name(type_name)
        assert isinstance(definition, StrawberryObjectDefinition)
        for field in definition.fields:
            name = schema.config.name_converter.get_graphql_name(field)
            fields[f"{type_name}.{name}"] = field
    return fields


def test_every_root_field_has_permission() -> None:
    unguarded = [name for name, field in root_fields().items() if not field.permission_classes]

    assert unguarded == [], f"add permission_classes to: {', '.join(unguarded)}"


def test_every_root_field_in_matrix() -> None:
    missing = sorted(set(root_fields()) - set(OPERATIONS))
    stale = sorted(set(OPERATIONS) - set(root_fields()))

    assert missing == [], f"add these fields to OPERATIONS in {__name__}: {missing}"
    assert stale == [], f"remove these fields from OPERATIONS: {stale}"


def expected_denial(caller: str, required: Role) -> str | None:
    """Return the error code `caller` must get for an operation, or None when allowed."""
    if caller not in ROLES:
        return "UNAUTHENTICATED"
    return None if ROLES[caller] >= required else "FORBIDDEN"


def with_prediction(value: Any, prediction_id: int) -> Any:
    if value == "$prediction":
        return str(prediction_id)
    if isinstance(value, dict):
        return {key: with_prediction(item, prediction_id) for key, item in value.items()}
    return value


async def test_permission_matrix(sqlite_engine: Engine) -> None:
    tokens = caller_tokens(sqlite_engine)
    prediction_id = add_prediction(sqlite_engine)
    replace_entity(sqlite_engine, ENTITY, churn_rows(), prediction_id=prediction_id)
    app = create_app(Settings(rate_limit_per_minute=0), sqlite_engine)
    transport = httpx.ASGITransport(app=app)
    problems: list[str] = []

    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for name, operation in OPERATIONS.items():
            if name not in root_fields():
                continue
            field = name.split(".")[1]
            variables = with_prediction(operation.variables, prediction_id)
            for caller in CALLERS:
                response = await send(http, operation, variables, bearer(tokens[caller]))
                problem = check_outcome(response, field, expected_denial(caller, operation.role))
                if problem:
                    problems.append(f"{name} as {caller}: {problem}")

    assert problems == []


async def send(
    http: httpx.AsyncClient,
    operation: Operation,
    variables: dict[str, Any],
    headers: dict[str, str],
) -> httpx.Response:
    """Post the operation as JSON, or as a multipart upload when it carries a file."""
    body = {"query": operation.document, "variables": variables}
    if operation.upload is None:
        return await http.post("/graphql", json=body, headers=headers)
    return await http.post(
        "/graphql",
        data={"operations": json.dumps(body), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("orders.txt", operation.upload, "text/plain")},
        headers=headers,
    )


def check_outcome(response: httpx.Response, field: str, denial: str | None) -> str | None:
    """Return what is wrong with a response, or None when it matches the expectation."""
    # The transport rules reject an upload without a token with 401 before GraphQL runs.
    rejected_early = response.status_code == 401 and denial == "UNAUTHENTICATED"
    if response.status_code != 200 and not rejected_early:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    body = response.json()
    data = body.get("data")
    errors = body.get("errors") or []
    if denial is None:
        if errors:
            return f"expected success, got errors {errors}"
        return None if data is not None and field in data else f"no data for {field}: {body}"
    if data is not None and data.get(field) is not None:
        return f"denied call returned data {data}"
    codes = [error.get("extensions", {}).get("code") for error in errors]
    return None if codes == [denial] else f"expected {denial}, got {codes}"


@pytest.mark.parametrize("caller", ["revoked", "expired"])
async def test_dead_tokens_cannot_read_tokens(sqlite_engine: Engine, caller: str) -> None:
    tokens = caller_tokens(sqlite_engine)
    app = create_app(Settings(), sqlite_engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post(
            "/graphql", json={"query": "{ tokens { name } }"}, headers=bearer(tokens[caller])
        )

    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
