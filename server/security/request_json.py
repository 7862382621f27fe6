"""Parsing the JSON of GraphQL requests, with checks for what would fail later.

A GraphQL request over HTTP carries JSON in a POST body, in the `variables` and
`extensions` parameters of a GET, or in the `operations` and `map` fields of a
multipart upload. All of them are parsed here, so each gets the same checks.
"""

from __future__ import annotations

import json
import sys
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
    except ValueError:
        # Besides JSONDecodeError, json.loads raises ValueError for an integer of more
        # than sys.get_int_max_str_digits() digits (Python 3.11 and later).
        raise InvalidRequest(
            f"{source} contains an integer with more than {sys.get_int_max_str_digits()} "
            "digits, the maximum Python converts; send it as a string or a float"
        ) from None
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
            if bad_character(item) is not None:
                return "text"
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return "depth"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def bad_character(text: str) -> str | None:
    """Name the first character of `text` that no database column can store, or return None.

    PostgreSQL text cannot contain NUL, and an unpaired UTF-16 surrogate cannot be
    encoded as UTF-8 at all.
    """
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired UTF-16 surrogate"
    return None


def check_parameter(value: str | None, name: str) -> None:
    """Raise InvalidRequest when the parameter `name` contains NUL or an unpaired surrogate."""
    if value is None:
        return
    character = bad_character(value)
    if character is not None:
        raise InvalidRequest(f"the parameter {name!r} contains {character}; remove it")


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
    _check_file_map(operations, files_map)
    return operations, files_map


def _check_file_map(operations: dict[str, Any], files_map: dict[str, Any]) -> None:
    """Raise InvalidRequest unless every path in `files_map` names a null variable value.

    Strawberry's replace_placeholders_with_files walks each path without checks, so
    a path through null or a string would fail with an unexpected error there.
    """
    for part, paths in files_map.items():
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise InvalidRequest(
                f"the multipart field 'map' maps file part {part!r} to {_json_kind(paths)}, "
                'not to a list of variable paths such as ["variables.file"]'
            )
        for path in paths:
            problem = _map_path_problem(operations, path)
            if problem is not None:
                raise InvalidRequest(
                    f"the path {path!r} for file part {part!r} in the multipart field "
                    f"'map' {problem}"
                )


def _map_path_problem(operations: dict[str, Any], path: str) -> str | None:
    """Say why `path` names no null variable value in `operations`, or return None.

    Each file fills the value at its dotted path, such as `variables.files.0`,
    which the client sets to null as a placeholder.
    """
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables":
        return "does not start with 'variables.'; name the variable that the file fills"
    target: object = operations
    for depth, key in enumerate(keys):
        walked = ".".join(keys[:depth]) or "the operation"
        if isinstance(target, dict):
            if key not in target:
                return f"is invalid: {walked} has no key {key!r}"
            target = target[key]
        elif isinstance(target, list):
            index = _list_index(key, len(target))
            if index is None:
                return (
                    f"is invalid: {walked} is a list of {len(target)} items, without index {key!r}"
                )
            target = target[index]
        else:
            return f"is invalid: {walked} is {_json_kind(target)}, not an object or a list"
    if target is not None:
        return (
            f"ends at {_json_kind(target)}, not at null; set each variable that a file "
            "fills to null"
        )
    return None


def _list_index(key: str, length: int) -> int | None:
    # Only plain decimal digits, because int() also accepts "-1", "+1" and "1_0".
    if not (key.isascii() and key.isdigit()) or len(key) > len(str(length)):
        return None
    index = int(key)
    return index if index < length else None


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _form_text(form: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = form.get(name, default)
    if value is None:
        raise InvalidRequest(
            f"the multipart field {name!r} is missing; send the operation as JSON in it"
        )
    if not isinstance(value, str):
        raise InvalidRequest(f"the multipart field {name!r} must be a text field, not a file")
    return value
