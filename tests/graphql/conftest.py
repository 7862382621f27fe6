"""Fixtures for API tests: the real ASGI app on a migrated database, tokens per role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, insert
from starlette.applications import Starlette

from server.app import create_app
from server.auth.roles import Role
from server.auth.tokens import create_token
from server.prediction.output import replace_entity
from server.settings import Settings
from server.storage.engine import write_transaction
from server.storage.tables import Customer, Prediction, utc_now

ENTITY = "ChurnPredictions"


def churn_rows(count: int = 200, seed: int = 7) -> pd.DataFrame:
    """A small transactional churn output entity with seeded scores."""
    generator = np.random.default_rng(seed)
    scores = generator.random(count).round(4)
    return pd.DataFrame(
        {
            "CustomerId": [f"C{index:04d}" for index in range(count)],
            "ChurnScore": scores,
            "IsChurn": scores >= 0.5,
            "ChurnRiskBand": np.where(
                scores < 0.33, "Low", np.where(scores < 0.66, "Medium", "High")
            ),
            "ScoredAt": pd.Timestamp("2024-06-30"),
        }
    )


def add_prediction(engine: Engine, name: str = "Churn", entity: str = ENTITY) -> int:
    table = Prediction.__table__
    with write_transaction(engine) as connection:
        return int(
            connection.execute(
                insert(table)
                .values(
                    name=name,
                    kind="TRANSACTIONAL_CHURN",
                    status="SUCCEEDED",
                    output_entity_name=entity,
                    parameters={"source": "test"},
                    created_at=utc_now(),
                    updated_at=utc_now(),
                )
                .returning(table.c.id)
            ).scalar_one()
        )


@pytest.fixture
def prediction_id(engine: Engine) -> int:
    """A succeeded churn prediction whose output entity holds `churn_rows()`."""
    rows = churn_rows()
    with write_transaction(engine) as connection:
        connection.execute(
            insert(Customer.__table__),
            [
                {"customer_id": customer, "source": "test", "region": "West" if i % 2 else "East"}
                for i, customer in enumerate(rows["CustomerId"])
            ],
        )
    created = add_prediction(engine)
    replace_entity(engine, ENTITY, rows, prediction_id=created)
    return created


@pytest.fixture
def app(engine: Engine) -> Starlette:
    return create_app(Settings(), engine)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    return {
        role.name.lower(): create_token(engine, role, f"test-{role.name}").secret for role in Role
    }


class GraphQLCaller:
    """Posts GraphQL documents as one role."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def viewer(client: httpx.AsyncClient, tokens: dict[str, str]) -> GraphQLCaller:
    return GraphQLCaller(client, tokens["viewer"])


@pytest.fixture
def contributor(client: httpx.AsyncClient, tokens: dict[str, str]) -> GraphQLCaller:
    return GraphQLCaller(client, tokens["contributor"])


@pytest.fixture
def admin(client: httpx.AsyncClient, tokens: dict[str, str]) -> GraphQLCaller:
    return GraphQLCaller(client, tokens["admin"])


@pytest.fixture
def anonymous(client: httpx.AsyncClient) -> GraphQLCaller:
    return GraphQLCaller(client, None)
