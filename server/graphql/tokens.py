"""Token management over GraphQL: create (the secret is returned once), list and revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import strawberry
from strawberry.types import Info

from server.auth.roles import Role
from server.auth.tokens import MAX_NAME_LENGTH, create_token, list_tokens, revoke_token
from server.graphql.context import context_value
from server.graphql.db import run_db
from server.graphql.inputs import InputError
from server.graphql.permissions import IsAdmin
from server.graphql.viewer import ViewerRole
from server.ids import parse_id
from server.names import name_character_problem, normalize_name

MAX_EXPIRES_IN_DAYS = 3650


@strawberry.type(description="An API token as listed; its secret is never shown again.")
class ApiToken:
    id: strawberry.ID
    name: str = strawberry.field(description="The label the token was created with.")
    role: ViewerRole = strawberry.field(description="The role the token grants.")
    prefix: str = strawberry.field(description="The first characters of the secret.")
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="Null when it never expires.")
    revoked_at: datetime | None = strawberry.field(description="Null unless revoked.")


@strawberry.input(description="A new API token.")
class CreateTokenInput:
    name: str = strawberry.field(description="A label to recognise the token by.")
    role: ViewerRole = strawberry.field(description="The role the token grants.")
    expires_in_days: int | None = strawberry.field(
        default=None,
        description=f"Days until the token expires, 1 to {MAX_EXPIRES_IN_DAYS}; "
        "null for a token that never expires.",
    )


@strawberry.type(description="The created token with its secret, or the input errors.")
class CreateTokenPayload:
    token: ApiToken | None = strawberry.field(description="Null whenever errors is not empty.")
    secret: str | None = strawberry.field(
        description="The bearer secret; it is shown here once and never stored."
    )
    errors: list[InputError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="The revoked token, or the input errors.")
class RevokeTokenPayload:
    token: ApiToken | None = strawberry.field(description="Null whenever errors is not empty.")
    errors: list[InputError] = strawberry.field(description="Empty on success.")


def _api_token(row: dict[str, Any]) -> ApiToken:
    return ApiToken(
        id=strawberry.ID(str(row["id"])),
        name=row["name"],
        role=ViewerRole(row["role"]),
        prefix=row["prefix"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def _check_create(input: CreateTokenInput) -> list[InputError]:
    errors = []
    name = normalize_name(input.name)
    character_problem = name_character_problem(name)
    if not name:
        errors.append(InputError(field="name", code="REQUIRED", message="a token needs a name"))
    elif len(name) > MAX_NAME_LENGTH:
        message = f"token names are limited to {MAX_NAME_LENGTH} characters"
        errors.append(InputError(field="name", code="TOO_LONG", message=message))
    elif character_problem is not None:
        errors.append(InputError(field="name", code="INVALID_CHARACTER", message=character_problem))
    days = input.expires_in_days
    if days is not None and not 1 <= days <= MAX_EXPIRES_IN_DAYS:
        errors.append(
            InputError(
                field="expiresInDays",
                code="OUT_OF_RANGE",
                message=f"expiresInDays must be between 1 and {MAX_EXPIRES_IN_DAYS}, got "
                f"{days}; use null for a token that never expires",
            )
        )
    return errors


def _token_row(engine: Any, token_id: int) -> dict[str, Any] | None:
    return next((row for row in list_tokens(engine) if row["id"] == token_id), None)


@strawberry.type
class TokenQueries:
    @strawberry.field(
        description="Every API token, oldest first, without secrets.", permission_classes=[IsAdmin]
    )
    async def tokens(self, info: Info) -> list[ApiToken]:
        rows = await run_db(list_tokens, context_value(info.context).engine)
        return [_api_token(row) for row in rows]


@strawberry.type
class TokenMutations:
    @strawberry.mutation(
        description="Create an API token; the payload holds its secret, shown only this once.",
        permission_classes=[IsAdmin],
    )
    async def create_token(self, info: Info, input: CreateTokenInput) -> CreateTokenPayload:
        errors = _check_create(input)
        if errors:
            return CreateTokenPayload(token=None, secret=None, errors=errors)

        context = context_value(info.context)
        days = input.expires_in_days
        issued = await run_db(
            create_token,
            context.engine,
            Role[input.role.value],
            input.name,
            expires_in=timedelta(days=days) if days is not None else None,
            actor=context.principal,
        )
        row = await run_db(_token_row, context.engine, issued.id)
        assert row is not None
        return CreateTokenPayload(token=_api_token(row), secret=issued.secret, errors=[])

    @strawberry.mutation(
        description="Revoke an API token; requests with it fail from then on.",
        permission_classes=[IsAdmin],
    )
    async def revoke_token(self, info: Info, id: strawberry.ID) -> RevokeTokenPayload:
        context = context_value(info.context)
        token_id = parse_id(id)
        revoked = token_id is not None and await run_db(
            revoke_token, context.engine, token_id, actor=context.principal
        )
        if token_id is None or not revoked:
            message = f"no active token has id {id[:40]!r}; list them with the tokens query"
            return RevokeTokenPayload(
                token=None, errors=[InputError(field="id", code="NOT_FOUND", message=message)]
            )
        row = await run_db(_token_row, context.engine, token_id)
        assert row is not None
        return RevokeTokenPayload(token=_api_token(row), errors=[])
