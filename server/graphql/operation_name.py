"""Requiring an operation name when a document contains several operations."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

# graphql-core's wording of the rule in the GraphQL specification, "GetOperation".
MESSAGE = "Must provide operation name if query contains multiple operations."


class RequireOperationName(SchemaExtension):
    """Reject a document of several operations that comes without an operation name.

    Strawberry 0.341 takes the first operation's name when the request gives none,
    so graphql-core runs that operation instead of raising the specification's error.
    """

    def on_execute(self) -> Iterator[None]:
        # Runs after validation passed. A result set here replaces the execution.
        context = self.execution_context
        if context.result is None and _lacks_operation_name(context):
            error = GraphQLError(MESSAGE, extensions={"code": "BAD_USER_INPUT"})
            context.result = ExecutionResult(data=None, errors=[error])
        yield


def _lacks_operation_name(context: ExecutionContext) -> bool:
    # NOTE: ExecutionContext keeps the name from the request only in this private
    # attribute, because its public operation_name falls back to the first operation's.
    if getattr(context, "_provided_operation_name", None) is not None:
        return False
    document = context.graphql_document
    if document is None:
        return False
    operations = [
        item for item in document.definitions if isinstance(item, OperationDefinitionNode)
    ]
    return len(operations) > 1
