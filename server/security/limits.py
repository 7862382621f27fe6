"""Per-request GraphQL limits, read from the settings in the request's context."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ASTValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from server.graphql.context import Context
from server.settings import Settings


class RequestLimits(SchemaExtension):
    """Cap tokens per document, query depth and aliases, and switch off introspection.

    The depth rule skips introspection fields (`__schema`, `__type`), so GraphiQL's
    introspection query passes while the token cap still bounds it. Aliases are
    counted through every fragment spread.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        settings = context.settings if isinstance(context, Context) else Settings()

        self.execution_context.parse_options["max_tokens"] = settings.max_query_tokens
        rules: list[type[ASTValidationRule]] = [
            depth_rule(settings.max_query_depth, None, None),
            alias_rule(settings.max_aliases),
        ]
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            *rules,
        )
        yield
