"""Per-request GraphQL limits, read from the settings in the request's context."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

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
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            *limit_rules(settings.max_query_depth, settings.max_aliases, settings.introspection),
        )
        yield


@lru_cache(maxsize=32)
def limit_rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """Build the validation rules of these limits, the same classes on every call.

    The validation cache keys on the rule classes, so new classes per request would
    never hit it. Settings are fixed per application, so few combinations occur.
    """
    rules: list[type[ASTValidationRule]] = [
        depth_rule(max_depth, None, None),
        alias_rule(max_aliases),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)
