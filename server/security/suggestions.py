"""Removal of "Did you mean …?" hints, which would reveal schema names to a prober."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

# graphql-core appends the hint as the last sentence: ` Did you mean "x" or "y"?`.
_HINT = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


def strip_suggestion(message: str) -> str:
    return _HINT.sub("", message)


class HideSuggestions(SchemaExtension):
    """Strip field, argument, type and enum value suggestions from every error."""

    def on_operation(self) -> Iterator[None]:
        yield
        errors = getattr(self.execution_context.result, "errors", None) or []
        for error in errors:
            if isinstance(error, GraphQLError):
                error.message = strip_suggestion(error.message)
