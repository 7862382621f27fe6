"""The members.csv export: authentication, attribute validation and content."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Route

from server.auth.roles import Role
from server.auth.tokens import create_token
from server.segments.definition import Definition
from server.segments.export import segment_members_csv
from server.segments.operators import Operator
from server.segments.rules import Condition, Rule
from server.segments.service import SegmentRequest, create_segment
from tests.graphql.conftest import ENTITY, churn_rows, prediction_id  # noqa: F401

ROUTE = "/segments/{segment_id}/members.csv"


@pytest.fixture
async def http(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Route(ROUTE, segment_members_csv)])
    app.state.engine = engine
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def viewer_token(engine: Engine) -> dict[str, str]:
    secret = create_token(engine, Role.VIEWER, "export-test").secret
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def segment_id(engine: Engine, prediction_id: int) -> int:  # noqa: F811
    rule = Rule("AND", [Condition("ChurnScore", Operator.GTE, 0.6)])
    request = SegmentRequest("Export", None, ENTITY, Definition.from_rule(rule), prediction_id)
    created = create_segment(engine, request)
    assert isinstance(created, int), created
    return created


async def test_members_with_attributes(
    http: httpx.AsyncClient, viewer_token: dict[str, str], segment_id: int
) -> None:
    response = await http.get(
        f"/segments/{segment_id}/members.csv?attributes=ChurnScore,Region",
        headers=viewer_token,
    )

    rows = list(csv.reader(io.StringIO(response.text)))
    frame = churn_rows()
    expected = frame[frame.ChurnScore >= 0.6]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert rows[0] == ["CustomerId", "ChurnScore", "Region"]
    assert [row[0] for row in rows[1:]] == sorted(expected.CustomerId)
    scores = dict(zip(expected.CustomerId, expected.ChurnScore, strict=True))
    assert all(float(row[1]) == scores[row[0]] for row in rows[1:])
    assert {row[2] for row in rows[1:]} <= {"East", "West"}


async def test_missing_token_is_401(http: httpx.AsyncClient, segment_id: int) -> None:
    response = await http.get(f"/segments/{segment_id}/members.csv")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_bad_token_is_401(http: httpx.AsyncClient, segment_id: int) -> None:
    response = await http.get(
        f"/segments/{segment_id}/members.csv", headers={"Authorization": "Bearer nope"}
    )

    assert response.status_code == 401


async def test_unknown_segment_is_404(
    http: httpx.AsyncClient, viewer_token: dict[str, str], segment_id: int
) -> None:
    for raw in ["999999", "abc", "1;DROP TABLE segment"]:
        response = await http.get(f"/segments/{raw}/members.csv", headers=viewer_token)
        assert response.status_code == 404, raw


async def test_unknown_attribute_is_400(
    http: httpx.AsyncClient, viewer_token: dict[str, str], segment_id: int
) -> None:
    for attributes in ["ChurnScor", 'ChurnScore"; DROP TABLE segment; --', "Nope.Region"]:
        response = await http.get(
            f"/segments/{segment_id}/members.csv",
            params={"attributes": attributes},
            headers=viewer_token,
        )
        assert response.status_code == 400, attributes
        assert "valid" in response.text
