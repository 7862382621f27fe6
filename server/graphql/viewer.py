"""The `viewer` query: who the API token belongs to and what role it grants."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from server.auth.roles import Role
from server.graphql.context import context_value


@strawberry.enum(description="What a token may do; each role includes the ones before it.")
class ViewerRole(Enum):
    VIEWER = "VIEWER"
    CONTRIBUTOR = "CONTRIBUTOR"
    ADMIN = "ADMIN"


@strawberry.type(description="The caller the request's API token authenticates.")
class Viewer:
    token_name: str = strawberry.field(description="The label the token was created with.")
    role: ViewerRole = strawberry.field(description="The role the token grants.")


def resolve_viewer(info: Info) -> Viewer:
    """Describe the authenticated caller; the IsViewer permission has already run."""
    principal = context_value(info.context).principal
    assert principal is not None
    return Viewer(token_name=principal.name, role=ViewerRole(Role(principal.role).name))
