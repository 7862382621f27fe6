"""The log level of GraphQL errors: client mistakes in one line, unexpected errors in full."""

from __future__ import annotations

import logging

from graphql import GraphQLError

# Strawberry 0.341 logs every error of a GraphQL result on this logger, at ERROR
# and with the error's original exception as the traceback.
EXECUTION_LOGGER = "strawberry.execution"


class ClientErrorLevel(logging.Filter):
    """Rewrite Strawberry's record of a client mistake to one INFO line without traceback.

    A client mistake (a syntax error, a failed validation such as the alias limit,
    a missing token) has no original exception, or a GraphQLError raised on
    purpose, which is the rule `_should_mask` in server/graphql/schema.py uses.
    Records of any other error keep ERROR and their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.msg
        if not isinstance(error, GraphQLError) or not is_client_error(error):
            return True
        record.levelno = logging.INFO
        record.levelname = logging.getLevelName(logging.INFO)
        record.msg = "GraphQL request rejected: %s (path %s)"
        record.args = (error.message, error.path)
        record.exc_info = None
        record.exc_text = None
        return True


def is_client_error(error: GraphQLError) -> bool:
    """Return True for an error caused by the request rather than by the server."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


def log_client_errors_at_info() -> None:
    """Install ClientErrorLevel on Strawberry's execution logger, once per process."""
    logger = logging.getLogger(EXECUTION_LOGGER)
    if not any(isinstance(item, ClientErrorLevel) for item in logger.filters):
        logger.addFilter(ClientErrorLevel())
