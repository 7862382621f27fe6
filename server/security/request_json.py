"""Parsing the JSON of GraphQL requests, with checks for what would fail later.

A GraphQL request over HTTP carries JSON in a POST body, in the `variables` and
`extensions` parameters of a GET, or in the `operations` and `map` fields of a
multipart upload. All of them are parsed here, so each gets the same checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Maximum nesting of arrays and objects in request JSON. Python's JSON parser and
# graphql-core recurse once per level, so a body nested about 1,000 levels deep
# would exhaust the interpreter's recursion limit.
MAX_JSON_DEPTH = 64


class InvalidRequest(ValueError):
    """Raised for a GraphQL request that cannot run. Its message is meant for the client."""


def load_operation(text: str, source: str) -> dict[str, Any]:
    """Parse one GraphQL operation (query, variables, …) from JSON `text`.

    `source` names where the text came from in error messages, such as
    "the request body" or "the multipart field 'operations'".
    """
    document = load_json(text, source)
    if not isinstance(document, dict):
        kind = "a list (batching is off)" if isinstance(document, list) else "not an object"
        raise InvalidRequest(
            f"{source} is {kind}; send one operation as a JSON object with a query"
        )
    return document


def load_json(text: str, source: str) -> object:
    """Parse JSON `text` of a GraphQL request and check its strings and nesting.

    Its strings may hold neither NUL, which PostgreSQL text cannot store, nor
    unpaired UTF-16 surrogates, which cannot be encoded as UTF-8 at all. Arrays
    and objects may be nested at most MAX_JSON_DEPTH levels deep, because parsing,
    variable coercion and resolvers all recurse once per level.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidRequest(
            f"{source} is not valid JSON ({error.msg} at character {error.pos})"
        ) from None
    except RecursionError:
        raise InvalidRequest(_too_deep(source)) from None
    problem = _content_problem(document)
    if problem == "depth":
        raise InvalidRequest(_too_deep(source))
    if problem == "text":
        raise InvalidRequest(
            "a string in the request contains a NUL character or an unpaired surrogate; remove it"
        )
    return document


def _too_deep(source: str) -> str:
    return (
        f"{source} nests arrays and objects more than {MAX_JSON_DEPTH} levels deep; "
        "send flatter JSON"
    )


def _content_problem(document: object) -> str | None:
    """Return "depth" or "text" for the first problem found in `document`, or None."""
    pending: list[tuple[object, int]] = [(document, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodes(item):
                return "text"
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return "depth"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def multipart_operation(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse the `operations` and `map` fields of a GraphQL multipart request.

    The GraphQL multipart request spec sends the operation as JSON in `operations`
    and, in `map`, which variables each file part fills. A missing `map` stands for
    a request without files.
    """
    operations = load_operation(_form_text(form, "operations"), "the multipart field 'operations'")
    files_map = load_json(_form_text(form, "map", "{}"), "the multipart field 'map'")
    if not isinstance(files_map, dict):
        raise InvalidRequest(
            "the multipart field 'map' is not an object; map each file part to variable paths"
        )
    return operations, files_map


def _form_text(form: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = form.get(name, default)
    if value is None:
        raise InvalidRequest(
            f"the multipart field {name!r} is missing; send the operation as JSON in it"
        )
    if not isinstance(value, str):
        raise InvalidRequest(f"the multipart field {name!r} must be a text field, not a file")
    return value
