"""Permission classes: each field declares the lowest role that may use it.

A request with no valid token fails with `extensions.code` UNAUTHENTICATED; a valid
token whose role is too low fails with FORBIDDEN.
"""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.types import Info

from server.auth.roles import Role
from server.graphql.context import Context


class _RolePermission(BasePermission):
    required: ClassVar[Role]

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        assert isinstance(context, Context)
        if context.principal is None:
            raise GraphQLError(
                context.auth_problem or "authentication required",
                extensions={"code": "UNAUTHENTICATED"},
            )
        if context.principal.role < self.required:
            raise GraphQLError(
                f"the {context.principal.role.name.lower()} role may not do this; "
                f"it needs the {self.required.name.lower()} role or higher",
                extensions={"code": "FORBIDDEN"},
            )
        return True


class IsViewer(_RolePermission):
    required = Role.VIEWER


class IsContributor(_RolePermission):
    required = Role.CONTRIBUTOR


class IsAdmin(_RolePermission):
    required = Role.ADMIN
