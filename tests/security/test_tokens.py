"""Token management over GraphQL and with `lookahead tokens`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from server.auth.tokens import TokenError, authenticate
from server.cli import main
from server.storage.tables import ApiToken, table_of
from tests.graphql.conftest import GraphQLCaller

CREATE = """
mutation($input: CreateTokenInput!) {
  createToken(input: $input) {
    secret
    token { id name role prefix expiresAt revokedAt }
    errors { field code message }
  }
}
"""
LIST = "{ tokens { id name role prefix createdAt expiresAt revokedAt } }"
REVOKE = "mutation($id: ID!) { revokeToken(id: $id) { token { revokedAt } errors { code } } }"


async def test_create_token_returns_secret_once(admin: GraphQLCaller, engine: Engine) -> None:
    body = await admin(CREATE, {"input": {"name": "ci", "role": "CONTRIBUTOR"}})

    payload = body["data"]["createToken"]
    secret = payload["secret"]
    listed = await admin(LIST)
    assert payload["errors"] == []
    assert payload["token"]["role"] == "CONTRIBUTOR"
    assert payload["token"]["expiresAt"] is None
    assert authenticate(engine, secret).name == "ci"
    assert secret not in str(listed)
    assert secret[:8] in str(listed)


async def test_token_stored_hashed(admin: GraphQLCaller, engine: Engine) -> None:
    body = await admin(CREATE, {"input": {"name": "hashed", "role": "VIEWER"}})
    secret = body["data"]["createToken"]["secret"]

    with engine.connect() as connection:
        rows = connection.execute(select(table_of(ApiToken))).all()

    assert all(secret not in str(tuple(row)) for row in rows)


async def test_create_token_with_expiry(admin: GraphQLCaller) -> None:
    body = await admin(CREATE, {"input": {"name": "week", "role": "VIEWER", "expiresInDays": 7}})

    assert body["data"]["createToken"]["token"]["expiresAt"] is not None


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"name": " ", "role": "VIEWER"}, "name"),
        ({"name": "x" * 129, "role": "VIEWER"}, "name"),
        ({"name": "old", "role": "VIEWER", "expiresInDays": 0}, "expiresInDays"),
        ({"name": "old", "role": "VIEWER", "expiresInDays": -3}, "expiresInDays"),
    ],
)
async def test_create_token_input_errors(
    admin: GraphQLCaller, input: dict[str, object], field: str
) -> None:
    body = await admin(CREATE, {"input": input})

    payload = body["data"]["createToken"]
    assert payload["secret"] is None
    assert payload["token"] is None
    assert [error["field"] for error in payload["errors"]] == [field]


async def test_revoke_token_stops_it(admin: GraphQLCaller, engine: Engine) -> None:
    created = await admin(CREATE, {"input": {"name": "short-lived", "role": "VIEWER"}})
    token = created["data"]["createToken"]

    revoked = await admin(REVOKE, {"id": token["token"]["id"]})
    again = await admin(REVOKE, {"id": token["token"]["id"]})

    assert revoked["data"]["revokeToken"]["token"]["revokedAt"] is not None
    assert again["data"]["revokeToken"]["errors"] == [{"code": "NOT_FOUND"}]
    with pytest.raises(TokenError, match="revoked"):
        authenticate(engine, token["secret"])


async def test_revoke_unknown_id(admin: GraphQLCaller) -> None:
    body = await admin(REVOKE, {"id": "not-a-number"})

    assert body["data"]["revokeToken"]["errors"] == [{"code": "NOT_FOUND"}]


async def test_contributor_cannot_create_token(contributor: GraphQLCaller) -> None:
    body = await contributor(CREATE, {"input": {"name": "escalate", "role": "ADMIN"}})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_cli_creates_lists_and_revokes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOOKAHEAD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    assert (
        main(["tokens", "create", "--role", "viewer", "--name", "cli-a", "--expires-days", "3"])
        == 0
    )
    secret = capsys.readouterr().out.strip()
    assert main(["tokens", "list"]) == 0
    listed = capsys.readouterr().out
    assert main(["tokens", "revoke", "1"]) == 0
    assert main(["tokens", "revoke", "1"]) == 1

    assert secret.startswith("lka_")
    assert "cli-a" in listed
    assert secret not in listed


def test_cli_rejects_non_positive_expiry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOOKAHEAD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    code = main(["tokens", "create", "--role", "admin", "--expires-days", "0"])

    assert code == 2
    assert "--expires-days must be from 1 to 3650" in capsys.readouterr().err
