"""Per-request GraphQL limits, read from the settings in the request's context."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FloatValueNode,
    GraphQLError,
    IntValueNode,
    Node,
    StringValueNode,
    Visitor,
    visit,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from server.graphql.context import Context
from server.security.request_json import bad_character
from server.settings import Settings


class RequestLimits(SchemaExtension):
    """Cap tokens per document, query depth and aliases, and switch off introspection.

    Also reject string literals that the database cannot store (StorableStrings) and
    number literals longer than MAX_NUMBER_LITERAL_LENGTH (ShortNumberLiterals).

    The depth rule skips introspection fields (`__schema`, `__type`), so GraphiQL's
    introspection query passes while the token cap still bounds it. Aliases are
    counted through every fragment spread.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        settings = context.settings if isinstance(context, Context) else Settings()

        self.execution_context.parse_options["max_tokens"] = settings.max_query_tokens
        # ShortNumberLiterals goes first because it must stop validation before
        # ValuesOfCorrectTypeRule converts a long literal.
        self.execution_context.validation_rules = (
            ShortNumberLiterals,
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
        StorableStrings,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


class StorableStrings(ASTValidationRule):
    """Reject string literals in the document that contain NUL or an unpaired surrogate.

    The JSON checks of the request see only the escape `\\u0000` in the query
    text, and graphql-core turns it into NUL when it parses the document. A raw
    NUL inside a block string passes graphql-core's lexer as well. PostgreSQL
    text cannot store NUL, so these values would fail in the database.
    """

    def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
        character = bad_character(node.value)
        if character is None:
            return
        self.report_error(
            GraphQLError(
                f"a string literal {_position(node)}contains {character}; remove it, "
                "because the database cannot store it",
                node,
                extensions={"code": "BAD_USER_INPUT"},
            )
        )


# The longest Int or Float literal accepted in a document. A 32-bit Int or a double
# needs at most a few dozen characters, and 100 leaves room for IDs sent as Int literals.
MAX_NUMBER_LITERAL_LENGTH = 100


class ShortNumberLiterals(ASTValidationRule):
    """Reject a document with an Int or Float literal longer than MAX_NUMBER_LITERAL_LENGTH.

    Python's `int()` raises ValueError on more than `sys.get_int_max_str_digits()`
    digits (4300 by default). graphql-core 3.3 reports that ValueError from
    ValuesOfCorrectTypeRule with it as the original error, so the response would only
    show an internal error. That rule checks a list or object literal as a whole
    when it enters it, so this rule checks the whole document when it enters it
    and aborts validation at the first long literal. Only that literal is reported.
    """

    def enter_document(self, node: DocumentNode, *_args: object) -> None:
        finder = _LongNumberFinder()
        visit(node, finder)
        if finder.first is None:
            return
        literal = finder.first
        raise ValidationAbortedError(
            f"a number literal {_position(literal)}is {len(literal.value)} characters long; "
            f"send at most {MAX_NUMBER_LITERAL_LENGTH} characters",
            literal,
            extensions={"code": "BAD_USER_INPUT"},
        )


class _LongNumberFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.first: IntValueNode | FloatValueNode | None = None

    def enter_int_value(self, node: IntValueNode, *_args: object) -> None:
        self._check(node)

    def enter_float_value(self, node: FloatValueNode, *_args: object) -> None:
        self._check(node)

    def _check(self, node: IntValueNode | FloatValueNode) -> None:
        if self.first is None and len(node.value) > MAX_NUMBER_LITERAL_LENGTH:
            self.first = node


def _position(node: Node) -> str:
    if node.loc is None:
        return ""
    location = node.loc.source.get_location(node.loc.start)
    return f"at line {location.line}, column {location.column} "
